//! Per-layer response caches with a TTL and score-based eviction.
//!
//! When a cache is full it evicts down to 90 % of its capacity, dropping the
//! entries with the lowest score: hits over age, penalised by idleness and size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Entry {
    input: Box<str>,
    output: std::sync::Arc<str>,
    inserted: Instant,
    last_hit: Instant,
    hits: u32,
}

impl Entry {
    /// Higher is more worth keeping.
    fn score(&self, now: Instant) -> f64 {
        let age = now.saturating_duration_since(self.inserted).as_secs_f64() + 1.0;
        let idle = now.saturating_duration_since(self.last_hit).as_secs_f64() + 1.0;
        let size = (self.input.len() + self.output.len()) as f64 + 64.0;
        (f64::from(self.hits) + 1.0) / age / idle.sqrt() / size.log2()
    }
}

#[derive(Debug)]
pub struct LayerCache {
    ttl: Duration,
    capacity: usize,
    map: Mutex<HashMap<u64, Entry>>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
}

impl LayerCache {
    pub fn new(ttl: Duration, capacity: usize) -> LayerCache {
        LayerCache {
            ttl,
            capacity: capacity.max(1),
            map: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A live entry for (key, input), counting the hit or the miss.
    pub fn get(&self, key: u64, input: &str, now: Instant) -> Option<std::sync::Arc<str>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let found = match map.get_mut(&key) {
            Some(e)
                if &*e.input == input && now.saturating_duration_since(e.inserted) < self.ttl =>
            {
                e.hits = e.hits.saturating_add(1);
                e.last_hit = now;
                Some(e.output.clone())
            }
            Some(e) if now.saturating_duration_since(e.inserted) >= self.ttl => {
                map.remove(&key);
                None
            }
            _ => None,
        };
        drop(map);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn insert(&self, key: u64, input: &str, output: std::sync::Arc<str>, now: Instant) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&key) {
            let evicted = evict(&mut map, self.capacity * 9 / 10, self.ttl, now);
            self.evictions.fetch_add(evicted as u64, Ordering::Relaxed);
        }
        map.insert(
            key,
            Entry {
                input: input.into(),
                output,
                inserted: now,
                last_hit: now,
                hits: 0,
            },
        );
    }
}

/// Drop expired entries, then the lowest-scored, until `keep` remain.
fn evict(map: &mut HashMap<u64, Entry>, keep: usize, ttl: Duration, now: Instant) -> usize {
    let before = map.len();
    map.retain(|_, e| now.saturating_duration_since(e.inserted) < ttl);
    if map.len() > keep {
        let mut scored: Vec<(f64, u64)> = map.iter().map(|(k, e)| (e.score(now), *k)).collect();
        let drop_n = map.len() - keep;
        scored.select_nth_unstable_by(drop_n - 1, |a, b| a.0.total_cmp(&b.0));
        for (_, k) in &scored[..drop_n] {
            map.remove(k);
        }
    }
    before - map.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_expires_entries_and_counts_hits_and_misses() {
        let c = LayerCache::new(Duration::from_secs(120), 10);
        let t = Instant::now();
        assert!(c.get(1, "a", t).is_none());
        c.insert(1, "a", "out".into(), t);
        assert_eq!(
            c.get(1, "a", t + Duration::from_secs(119)).as_deref(),
            Some("out")
        );
        assert!(c.get(1, "a", t + Duration::from_secs(120)).is_none());
        assert!(c.get(1, "different input, same key", t).is_none());
        assert_eq!(c.hits.load(Ordering::Relaxed), 1);
        assert_eq!(c.misses.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_full_cache_evicts_to_ninety_percent_keeping_hot_entries() {
        let c = LayerCache::new(Duration::from_secs(600), 100);
        let t = Instant::now();
        for k in 0..100u64 {
            c.insert(k, &k.to_string(), "x".into(), t);
        }
        // Entry 7 is hot: it must survive the eviction.
        for _ in 0..50 {
            c.get(7, "7", t + Duration::from_secs(1));
        }
        c.insert(1000, "new", "y".into(), t + Duration::from_secs(2));
        assert_eq!(c.len(), 91, "evicted to 90, then inserted one");
        assert_eq!(c.evictions.load(Ordering::Relaxed), 10);
        assert!(c.get(7, "7", t + Duration::from_secs(3)).is_some());
    }
}
