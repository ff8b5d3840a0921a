//! The circuit breaker in front of each `command` neuron. Time is passed in,
//! so every transition is a pure function of the calls and the clock.

use std::time::{Duration, Instant};

use crate::runtime::api::BreakerState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open a closed breaker.
    pub failures: u32,
    /// How long an open breaker refuses calls before it lets trial calls through.
    pub open_for: Duration,
    /// Successful trial calls that close a half-open breaker.
    pub successes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CircuitState {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { successes: u32 },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: CircuitState,
}

/// A call refused because the breaker is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_in: Duration,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            state: CircuitState::Closed { failures: 0 },
        }
    }

    /// The state as seen at `now`: an open breaker whose time is up reads
    /// as half-open even before the next call moves it there.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            CircuitState::Closed { .. } => BreakerState::Closed,
            CircuitState::Open { until } if now >= until => BreakerState::HalfOpen,
            CircuitState::Open { .. } => BreakerState::Open,
            CircuitState::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Consecutive failures counted while closed.
    pub fn failures(&self) -> u32 {
        match self.state {
            CircuitState::Closed { failures } => failures,
            CircuitState::Open { .. } | CircuitState::HalfOpen { .. } => self.config.failures,
        }
    }

    /// Ask to make a call at `now`. Half-open lets every trial call through:
    /// the first failure reopens it anyway.
    pub fn allow(&mut self, now: Instant) -> Result<(), Refused> {
        match self.state {
            CircuitState::Open { until } if now < until => Err(Refused {
                retry_in: until - now,
            }),
            CircuitState::Open { .. } => {
                self.state = CircuitState::HalfOpen { successes: 0 };
                Ok(())
            }
            CircuitState::Closed { .. } | CircuitState::HalfOpen { .. } => Ok(()),
        }
    }

    pub fn record_success(&mut self) {
        self.state = match self.state {
            CircuitState::Closed { .. } => CircuitState::Closed { failures: 0 },
            CircuitState::HalfOpen { successes } if successes + 1 >= self.config.successes => {
                CircuitState::Closed { failures: 0 }
            }
            CircuitState::HalfOpen { successes } => CircuitState::HalfOpen {
                successes: successes + 1,
            },
            // A call that started before the breaker opened does not close it.
            open @ CircuitState::Open { .. } => open,
        };
    }

    pub fn record_failure(&mut self, now: Instant) {
        let open = CircuitState::Open {
            until: now + self.config.open_for,
        };
        self.state = match self.state {
            CircuitState::Closed { failures } if failures + 1 >= self.config.failures => open,
            CircuitState::Closed { failures } => CircuitState::Closed {
                failures: failures + 1,
            },
            CircuitState::HalfOpen { .. } | CircuitState::Open { .. } => open,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failures: 5,
            open_for: Duration::from_secs(60),
            successes: 3,
        })
    }

    #[test]
    fn five_consecutive_failures_open_it() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..4 {
            assert!(b.allow(t0).is_ok());
            b.record_failure(t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert_eq!(b.failures(), 4);
        b.record_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Open);
        let refused = b.allow(t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(refused.retry_in, Duration::from_secs(50));
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..4 {
            b.record_failure(t0);
        }
        b.record_success();
        for _ in 0..4 {
            b.record_failure(t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
    }

    #[test]
    fn half_open_after_the_wait_and_three_successes_close_it() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..5 {
            b.record_failure(t0);
        }
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert!(b.allow(later).is_ok());
        b.record_success();
        b.record_success();
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        b.record_success();
        assert_eq!(b.state(later), BreakerState::Closed);
        assert_eq!(b.failures(), 0);
    }

    #[test]
    fn a_failure_while_half_open_reopens_it_for_the_full_wait() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..5 {
            b.record_failure(t0);
        }
        let t1 = t0 + Duration::from_secs(61);
        assert!(b.allow(t1).is_ok());
        b.record_success();
        b.record_failure(t1);
        assert_eq!(b.state(t1), BreakerState::Open);
        assert!(b.allow(t1 + Duration::from_secs(59)).is_err());
        assert!(b.allow(t1 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn a_late_success_does_not_close_an_open_breaker() {
        let t0 = Instant::now();
        let mut b = breaker();
        for _ in 0..5 {
            b.record_failure(t0);
        }
        b.record_success();
        assert_eq!(b.state(t0), BreakerState::Open);
    }
}
