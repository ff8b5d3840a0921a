//! Sticky routing between the flat and the hierarchical path.
//!
//! A request key hashes to a bucket in 0..10 000 (hundredths of a percent).
//! The request goes hierarchical when its bucket is below the share. So a key
//! keeps its path when the share changes, unless the share crosses its bucket.

use crate::runtime::api::Path;

pub const BUCKETS: u32 = 10_000;

/// FNV-1a: stable across processes, releases and machines, unlike std's
/// `DefaultHasher`, which a sticky route must be.
pub fn bucket(key: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits in: FNV's low bits alone are poorly mixed for short keys.
    ((h ^ (h >> 32)) % u64::from(BUCKETS)) as u32
}

/// The path for a key at a share given in hundredths of a percent.
pub fn route(key: &[u8], share_bp: u32) -> Path {
    if bucket(key) < share_bp {
        Path::Hierarchical
    } else {
        Path::Flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_and_stickiness() {
        assert_eq!(route(b"abc", 0), Path::Flat);
        assert_eq!(route(b"abc", BUCKETS), Path::Hierarchical);
        let keys: Vec<String> = (0..5000).map(|i| format!("req-{i}")).collect();
        // Raising the share only ever moves keys from flat to hierarchical.
        for k in &keys {
            if route(k.as_bytes(), 2500) == Path::Hierarchical {
                assert_eq!(route(k.as_bytes(), 7500), Path::Hierarchical);
            }
        }
    }

    #[test]
    fn share_is_respected_statistically() {
        let n = 20_000;
        let hier = (0..n)
            .filter(|i| route(format!("key-{i}").as_bytes(), 2500) == Path::Hierarchical)
            .count();
        let frac = hier as f64 / n as f64;
        assert!((0.23..0.27).contains(&frac), "25 % share gave {frac}");
    }
}
