//! A per-neuron circuit breaker: `failures` consecutive failures open it;
//! after `open_for` it lets trial calls through (half-open); `successes`
//! successes close it, and a failure while half-open opens it again.
//! Time is passed in, so the state machine is tested without sleeping.

use std::time::{Duration, Instant};

use crate::runtime::api::BreakerState;

#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    pub failures: u32,
    pub open_for: Duration,
    pub successes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { since: Instant },
    HalfOpen { successes: u32 },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: State,
}

impl Breaker {
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker {
            cfg,
            state: State::Closed { failures: 0 },
        }
    }

    /// May a call go through now? Moves Open → HalfOpen once `open_for` has passed.
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } | State::HalfOpen { .. } => true,
            State::Open { since } if now.saturating_duration_since(since) >= self.cfg.open_for => {
                self.state = State::HalfOpen { successes: 0 };
                true
            }
            State::Open { .. } => false,
        }
    }

    pub fn record(&mut self, ok: bool, now: Instant) {
        self.state = match (self.state, ok) {
            (State::Closed { .. }, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 >= self.cfg.failures => {
                State::Open { since: now }
            }
            (State::Closed { failures }, false) => State::Closed {
                failures: failures + 1,
            },
            (State::HalfOpen { successes }, true) if successes + 1 >= self.cfg.successes => {
                State::Closed { failures: 0 }
            }
            (State::HalfOpen { successes }, true) => State::HalfOpen {
                successes: successes + 1,
            },
            (State::HalfOpen { .. }, false) => State::Open { since: now },
            (State::Open { since }, _) => State::Open { since },
        };
    }

    /// The state as reported, looking at the clock (an expired Open reads half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
            State::Open { since } if now.saturating_duration_since(since) >= self.cfg.open_for => {
                BreakerState::HalfOpen
            }
            State::Open { .. } => BreakerState::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: BreakerConfig = BreakerConfig {
        failures: 5,
        open_for: Duration::from_secs(60),
        successes: 3,
    };

    #[test]
    fn five_failures_open_it_and_a_success_resets_the_count() {
        let t = Instant::now();
        let mut b = Breaker::new(CFG);
        for _ in 0..4 {
            b.record(false, t);
        }
        b.record(true, t);
        for _ in 0..4 {
            b.record(false, t);
        }
        assert_eq!(b.state(t), BreakerState::Closed);
        b.record(false, t);
        assert_eq!(b.state(t), BreakerState::Open);
        assert!(!b.allow(t + Duration::from_secs(59)));
    }

    #[test]
    fn half_open_after_the_wait_then_three_successes_close_it() {
        let t = Instant::now();
        let mut b = Breaker::new(CFG);
        for _ in 0..5 {
            b.record(false, t);
        }
        let later = t + Duration::from_secs(60);
        assert!(b.allow(later));
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        b.record(true, later);
        b.record(true, later);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        b.record(true, later);
        assert_eq!(b.state(later), BreakerState::Closed);
    }

    #[test]
    fn a_failure_while_half_open_reopens() {
        let t = Instant::now();
        let mut b = Breaker::new(CFG);
        for _ in 0..5 {
            b.record(false, t);
        }
        let later = t + Duration::from_secs(61);
        assert!(b.allow(later));
        b.record(false, later);
        assert_eq!(b.state(later), BreakerState::Open);
        assert!(!b.allow(later + Duration::from_secs(1)));
    }
}
