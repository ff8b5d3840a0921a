//! Sizes in `hal9.toml`: `"32MiB"`, `"512KiB"`, `"1GB"` or a plain number of bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const fn mib(n: u64) -> ByteSize {
        ByteSize(n * 1024 * 1024)
    }

    /// As a `usize`, saturating on 32-bit targets.
    pub fn get(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

const UNITS: [(&str, u64); 10] = [
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("KB", 1_000),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
    ("B", 1),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {0:?} (examples: 32MiB, 512KiB, 1GB, 65536)")]
pub struct InvalidSize(String);

impl FromStr for ByteSize {
    type Err = InvalidSize;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = digits.parse().map_err(|_| InvalidSize(s.to_string()))?;
        let unit = unit.trim();
        let mult = if unit.is_empty() {
            1
        } else {
            UNITS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(unit))
                .map(|(_, m)| *m)
                .ok_or_else(|| InvalidSize(s.to_string()))?
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| InvalidSize(s.to_string()))
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides the size exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, m) in &UNITS[..3] {
            if self.0 >= *m && self.0.is_multiple_of(*m) {
                return write!(f, "{}{name}", self.0 / m);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_and_print_back() {
        assert_eq!("32MiB".parse(), Ok(ByteSize(32 << 20)));
        assert_eq!(" 512 kib ".parse(), Ok(ByteSize(512 << 10)));
        assert_eq!("1GB".parse(), Ok(ByteSize(1_000_000_000)));
        assert_eq!("65536".parse(), Ok(ByteSize(65536)));
        assert_eq!(ByteSize(32 << 20).to_string(), "32MiB");
        assert_eq!(ByteSize(1500).to_string(), "1500B");
    }

    #[test]
    fn nonsense_and_overflow_are_errors() {
        for bad in ["", "MiB", "12 parsecs", "-1", "99999999999999GiB"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad:?}");
        }
    }
}
