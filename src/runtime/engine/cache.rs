//! Per-layer response caches: a TTL per layer, a capacity, and score-based
//! eviction down to 90 % of the capacity when full. Time is passed in, so
//! expiry and eviction are tested without sleeping.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::lock;
use super::rules::Route;
use crate::runtime::api::CacheStats;
use crate::runtime::layer::Layer;

/// A cached answer of one neuron to one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub output: Arc<str>,
    pub route: Route,
}

#[derive(Debug)]
struct Entry {
    neuron: usize,
    input: Box<str>,
    output: Arc<str>,
    route: Route,
    inserted: Instant,
    last_used: Instant,
    hits: u64,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.input.len() + self.output.len()
    }
}

/// Keys are already hashed with the cache's random seed; hashing them again
/// would only cost time.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map = HashMap<u64, Entry, BuildHasherDefault<KeyHasher>>;

#[derive(Debug)]
pub struct LayerCache {
    layer: Layer,
    ttl: Duration,
    capacity: usize,
    seed: RandomState,
    map: Mutex<Map>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl LayerCache {
    pub fn new(layer: Layer, ttl: Duration, capacity: usize) -> LayerCache {
        LayerCache {
            layer,
            ttl,
            capacity,
            seed: RandomState::new(),
            map: Mutex::new(Map::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    fn key(&self, neuron: usize, input: &str) -> u64 {
        let mut h = self.seed.build_hasher();
        h.write_usize(neuron);
        h.write(input.as_bytes());
        h.finish()
    }

    /// The cached answer, if one is there and younger than the TTL. The
    /// stored input is compared too, so a hash collision is a miss, never a
    /// wrong answer.
    pub fn get(&self, neuron: usize, input: &str, now: Instant) -> Option<Cached> {
        let key = self.key(neuron, input);
        let mut map = lock(&self.map);
        let found = match map.get_mut(&key) {
            Some(e) if e.neuron == neuron && &*e.input == input => {
                if now.saturating_duration_since(e.inserted) >= self.ttl {
                    map.remove(&key);
                    None
                } else {
                    e.hits += 1;
                    e.last_used = now;
                    Some(Cached {
                        output: Arc::clone(&e.output),
                        route: e.route,
                    })
                }
            }
            _ => None,
        };
        drop(map);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// Store a successful answer. When that makes the cache exceed its
    /// capacity, the lowest-scored entries go until 90 % is left.
    pub fn insert(&self, neuron: usize, input: &str, value: Cached, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let key = self.key(neuron, input);
        let entry = Entry {
            neuron,
            input: input.into(),
            output: value.output,
            route: value.route,
            inserted: now,
            last_used: now,
            hits: 0,
        };
        let mut map = lock(&self.map);
        map.insert(key, entry);
        if map.len() > self.capacity {
            let target = self.capacity * 9 / 10;
            let evicted = evict(&mut map, target, key, now, self.ttl);
            drop(map);
            self.evictions.fetch_add(evicted, Relaxed);
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            layer: self.layer,
            entries: lock(&self.map).len(),
            capacity: self.capacity,
            ttl_s: self.ttl.as_secs(),
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
        }
    }
}

/// How much an entry is worth keeping: its hit rate over its life, lowered
/// by how long it has been idle and by its size. Expired entries go first.
fn score(e: &Entry, now: Instant, ttl: Duration) -> f64 {
    let age = now.saturating_duration_since(e.inserted);
    if age >= ttl {
        return f64::NEG_INFINITY;
    }
    let idle = now.saturating_duration_since(e.last_used).as_secs_f64();
    let rate = (e.hits as f64 + 1.0) / (age.as_secs_f64() + 1.0);
    rate / (1.0 + idle / 60.0) / (1.0 + e.bytes() as f64 / 1024.0)
}

/// Remove the lowest-scored entries until `target` are left, never `keep`
/// (the entry just inserted). Returns how many went.
fn evict(map: &mut Map, target: usize, keep: u64, now: Instant, ttl: Duration) -> u64 {
    let excess = map.len().saturating_sub(target);
    if excess == 0 {
        return 0;
    }
    let mut scored: Vec<(f64, u64)> = map
        .iter()
        .filter(|(k, _)| **k != keep)
        .map(|(k, e)| (score(e, now, ttl), *k))
        .collect();
    let excess = excess.min(scored.len());
    if excess == 0 {
        return 0;
    }
    scored.select_nth_unstable_by(excess - 1, |a, b| a.0.total_cmp(&b.0));
    for (_, k) in &scored[..excess] {
        map.remove(k);
    }
    excess as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(text: &str) -> Cached {
        Cached {
            output: Arc::from(text),
            route: Route::All,
        }
    }

    #[test]
    fn a_hit_returns_the_answer_and_counts() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 10);
        assert_eq!(c.get(1, "q", t0), None);
        c.insert(1, "q", cached("a"), t0);
        assert_eq!(c.get(1, "q", t0), Some(cached("a")));
        assert_eq!(
            c.get(2, "q", t0),
            None,
            "another neuron's answer is not shared"
        );
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries, s.ttl_s), (1, 2, 1, 600));
    }

    #[test]
    fn an_entry_expires_at_the_ttl() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L4, Duration::from_secs(120), 10);
        c.insert(1, "q", cached("a"), t0);
        assert!(c.get(1, "q", t0 + Duration::from_secs(119)).is_some());
        assert_eq!(c.get(1, "q", t0 + Duration::from_secs(120)), None);
        assert_eq!(c.stats().entries, 0, "the expired entry is dropped");
    }

    #[test]
    fn overflow_evicts_down_to_ninety_percent() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L3, Duration::from_secs(300), 20);
        for i in 0..20 {
            c.insert(0, &format!("q{i}"), cached("a"), t0);
        }
        assert_eq!(c.stats().entries, 20);
        assert_eq!(c.stats().evictions, 0);
        c.insert(0, "one more", cached("a"), t0);
        let s = c.stats();
        assert_eq!(s.entries, 18);
        assert_eq!(s.evictions, 3);
        assert!(c.get(0, "one more", t0).is_some(), "the new entry stays");
    }

    #[test]
    fn eviction_keeps_hot_entries_and_drops_idle_large_and_expired_ones() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(300);
        let c = LayerCache::new(Layer::L3, ttl, 20);
        c.insert(0, "expired", cached("a"), t0);
        let t1 = t0 + Duration::from_secs(200);
        c.insert(0, "large", cached(&"x".repeat(64 * 1024)), t1);
        c.insert(0, "idle", cached("a"), t1);
        for i in 0..17 {
            c.insert(0, &format!("hot{i}"), cached("a"), t1);
        }
        let t2 = t0 + Duration::from_secs(301);
        for i in 0..17 {
            for _ in 0..5 {
                assert!(c.get(0, &format!("hot{i}"), t2).is_some());
            }
        }
        c.insert(0, "new", cached("a"), t2);
        // 21 entries over a capacity of 20 → 18 left: the expired, the large
        // and the idle one went.
        assert_eq!(c.stats().entries, 18);
        for q in ["expired", "large", "idle"] {
            assert_eq!(c.get(0, q, t2), None, "{q} should be evicted");
        }
        for i in 0..17 {
            assert!(c.get(0, &format!("hot{i}"), t2).is_some());
        }
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 0);
        c.insert(1, "q", cached("a"), t0);
        assert_eq!(c.get(1, "q", t0), None);
    }
}
