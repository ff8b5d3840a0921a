//! The wall clock as every record stamps it.

use std::time::SystemTime;

/// Now, RFC 3339 in UTC to the second: the form the audit log, the rollback
/// journal and the cluster annotations all share, so they sort and compare.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_parses_back_as_rfc3339_utc() {
        let s = super::now_rfc3339();
        assert!(s.ends_with('Z'), "{s}");
        assert!(humantime::parse_rfc3339(&s).is_ok(), "{s}");
    }
}
