//! `[lease]`: how long the cluster migration lock lasts without renewal and
//! how often a running command renews it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::runtime::spec::humantime_serde;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaseConfig {
    /// A holder that stops renewing (killed, partitioned) loses the Lease
    /// this long after its last renewal.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Renew this often; a few renewals fit in one duration, so one slow
    /// API call does not lose it.
    #[serde(with = "humantime_serde")]
    pub renew_every: Duration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

impl LeaseConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.duration < Duration::from_secs(1) {
            return Err("field `lease.duration`: must be at least 1s".into());
        }
        if self.renew_every.is_zero() || self.renew_every * 2 > self.duration {
            return Err(format!(
                "field `lease.renew_every`: {} must be more than 0 and at most half of lease.duration ({}), or one slow renewal loses the lock",
                humantime::format_duration(self.renew_every),
                humantime::format_duration(self.duration)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewing_less_often_than_twice_per_duration_is_refused() {
        assert!(LeaseConfig::default().validate().is_ok());
        let slow = LeaseConfig {
            duration: Duration::from_secs(10),
            renew_every: Duration::from_secs(6),
        };
        assert!(slow.validate().unwrap_err().contains("lease.renew_every"));
        let zero = LeaseConfig {
            renew_every: Duration::ZERO,
            ..LeaseConfig::default()
        };
        assert!(zero.validate().is_err());
    }
}
