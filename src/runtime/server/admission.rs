//! Admission control: a cap on requests in flight and a token-bucket rate
//! limit. Both are changed live through `PUT /admin/limits`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use crate::runtime::api::Limits;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct Admission {
    max_in_flight: AtomicU32,
    rps: AtomicU32,
    in_flight: AtomicU32,
    bucket: Mutex<Bucket>,
    pub rejected: AtomicU64,
}

/// Why a request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionRefusal {
    RateLimited,
    TooManyInFlight,
}

/// Holds one in-flight slot; dropping it frees the slot.
pub struct Permit<'a> {
    adm: &'a Admission,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.adm.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    pub fn new(l: Limits) -> Admission {
        Admission {
            max_in_flight: AtomicU32::new(l.max_in_flight),
            rps: AtomicU32::new(l.rate_limit_rps),
            in_flight: AtomicU32::new(0),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(l.rate_limit_rps),
                last: Instant::now(),
            }),
            rejected: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            rate_limit_rps: self.rps.load(Ordering::Relaxed),
        }
    }

    pub fn set_limits(&self, l: Limits) {
        self.max_in_flight.store(l.max_in_flight, Ordering::Relaxed);
        self.rps.store(l.rate_limit_rps, Ordering::Relaxed);
        if let Ok(mut b) = self.bucket.lock() {
            b.tokens = b.tokens.min(f64::from(l.rate_limit_rps));
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Take a token and an in-flight slot, or say why not.
    pub fn admit(&self, now: Instant) -> Result<Permit<'_>, AdmissionRefusal> {
        let rps = f64::from(self.rps.load(Ordering::Relaxed));
        {
            let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            // The bucket holds one second's worth: bursts up to the rate are allowed.
            b.tokens = (b.tokens + elapsed * rps).min(rps);
            b.last = now;
            if b.tokens < 1.0 {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(AdmissionRefusal::RateLimited);
            }
            b.tokens -= 1.0;
        }
        let max = self.max_in_flight.load(Ordering::Relaxed);
        let prev = self.in_flight.fetch_add(1, Ordering::AcqRel);
        if prev >= max {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(AdmissionRefusal::TooManyInFlight);
        }
        Ok(Permit { adm: self })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let a = Admission::new(Limits {
            max_in_flight: 100,
            rate_limit_rps: 10,
        });
        let t = Instant::now();
        let mut held = Vec::new();
        for _ in 0..10 {
            held.push(a.admit(t).unwrap());
        }
        assert_eq!(a.admit(t).err(), Some(AdmissionRefusal::RateLimited));
        drop(held);
        assert!(
            a.admit(t + Duration::from_millis(100)).is_ok(),
            "one token after 100 ms at 10 rps"
        );
        assert_eq!(
            a.admit(t + Duration::from_millis(100)).err(),
            Some(AdmissionRefusal::RateLimited)
        );
    }

    #[test]
    fn in_flight_is_capped_and_released() {
        let a = Admission::new(Limits {
            max_in_flight: 2,
            rate_limit_rps: 1000,
        });
        let t = Instant::now();
        let p1 = a.admit(t).unwrap();
        let _p2 = a.admit(t).unwrap();
        assert_eq!(a.admit(t).err(), Some(AdmissionRefusal::TooManyInFlight));
        drop(p1);
        assert!(a.admit(t).is_ok());
    }
}
