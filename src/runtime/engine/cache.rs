//! Per-layer response caches: a TTL per layer, a capacity in entries and in
//! bytes, and score-based eviction down to 90 % of both when either is
//! exceeded. Bytes matter as much as entries: request content decides how
//! big an entry is. Time is passed in, so expiry and eviction are tested
//! without sleeping.

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
struct CacheEntry {
    neuron: usize,
    input: Box<str>,
    output: Arc<str>,
    route: Route,
    inserted: Instant,
    last_used: Instant,
    hits: u64,
}

/// What an entry costs beyond its text: the entry itself and its map slot.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<CacheEntry>() + 2 * std::mem::size_of::<u64>();

impl CacheEntry {
    fn bytes(&self) -> usize {
        cost(&self.input, &self.output)
    }
}

fn cost(input: &str, output: &str) -> usize {
    input.len() + output.len() + ENTRY_OVERHEAD
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

type Map = HashMap<u64, CacheEntry, BuildHasherDefault<KeyHasher>>;

/// The entries and the bytes they hold, kept together under one lock.
#[derive(Debug, Default)]
struct Cells {
    map: Map,
    bytes: usize,
}

impl Cells {
    fn remove(&mut self, key: &u64) {
        if let Some(e) = self.map.remove(key) {
            self.bytes = self.bytes.saturating_sub(e.bytes());
        }
    }
}

#[derive(Debug)]
pub struct LayerCache {
    layer: Layer,
    ttl: Duration,
    capacity: usize,
    max_bytes: usize,
    seed: RandomState,
    map: Mutex<Cells>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl LayerCache {
    pub fn new(layer: Layer, ttl: Duration, capacity: usize, max_bytes: usize) -> LayerCache {
        LayerCache {
            layer,
            ttl,
            capacity,
            max_bytes,
            seed: RandomState::new(),
            map: Mutex::new(Cells::default()),
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
        let mut cells = lock(&self.map);
        let found = match cells.map.get_mut(&key) {
            Some(e) if e.neuron == neuron && &*e.input == input => {
                if now.saturating_duration_since(e.inserted) >= self.ttl {
                    cells.remove(&key);
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
        drop(cells);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// Store a successful answer. When that makes the cache exceed its
    /// capacity or its bytes, the lowest-scored entries go until 90 % of
    /// both is left. An answer that alone exceeds the bytes is not kept.
    pub fn insert(&self, neuron: usize, input: &str, value: Cached, now: Instant) {
        if self.capacity == 0 || cost(input, &value.output) > self.max_bytes {
            return;
        }
        let key = self.key(neuron, input);
        let entry = CacheEntry {
            neuron,
            input: input.into(),
            output: value.output,
            route: value.route,
            inserted: now,
            last_used: now,
            hits: 0,
        };
        let mut cells = lock(&self.map);
        cells.remove(&key);
        cells.bytes += entry.bytes();
        cells.map.insert(key, entry);
        if cells.map.len() > self.capacity || cells.bytes > self.max_bytes {
            let target = EvictionTarget {
                entries: self.capacity * 9 / 10,
                bytes: self.max_bytes / 10 * 9,
            };
            let evicted = evict(&mut cells, target, key, now, self.ttl);
            drop(cells);
            self.evictions.fetch_add(evicted, Relaxed);
        }
    }

    pub fn stats(&self) -> CacheStats {
        let (entries, bytes) = {
            let cells = lock(&self.map);
            (cells.map.len(), cells.bytes)
        };
        CacheStats {
            layer: self.layer,
            entries,
            capacity: self.capacity,
            bytes,
            max_bytes: self.max_bytes,
            ttl_s: self.ttl.as_secs(),
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
        }
    }
}

/// How much an entry is worth keeping: its hit rate over its life, lowered
/// by how long it has been idle and by its size. Expired entries go first.
fn score(e: &CacheEntry, now: Instant, ttl: Duration) -> f64 {
    let age = now.saturating_duration_since(e.inserted);
    if age >= ttl {
        return f64::NEG_INFINITY;
    }
    let idle = now.saturating_duration_since(e.last_used).as_secs_f64();
    let rate = (e.hits as f64 + 1.0) / (age.as_secs_f64() + 1.0);
    rate / (1.0 + idle / 60.0) / (1.0 + e.bytes() as f64 / 1024.0)
}

/// What eviction brings a cache down to.
#[derive(Debug, Clone, Copy)]
struct EvictionTarget {
    entries: usize,
    bytes: usize,
}

/// Remove the lowest-scored entries until both targets are met, never
/// `keep` (the entry just inserted). Returns how many went.
fn evict(cells: &mut Cells, target: EvictionTarget, keep: u64, now: Instant, ttl: Duration) -> u64 {
    if cells.map.len() <= target.entries && cells.bytes <= target.bytes {
        return 0;
    }
    let mut scored: Vec<(f64, u64)> = cells
        .map
        .iter()
        .filter(|(k, _)| **k != keep)
        .map(|(k, e)| (score(e, now, ttl), *k))
        .collect();
    scored.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut evicted = 0;
    for (_, k) in scored {
        if cells.map.len() <= target.entries && cells.bytes <= target.bytes {
            break;
        }
        cells.remove(&k);
        evicted += 1;
    }
    evicted
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: usize = 1 << 20;

    fn cached(text: &str) -> Cached {
        Cached {
            output: Arc::from(text),
            route: Route::All,
        }
    }

    #[test]
    fn a_hit_returns_the_answer_and_counts() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 10, MB);
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
        let c = LayerCache::new(Layer::L4, Duration::from_secs(120), 10, MB);
        c.insert(1, "q", cached("a"), t0);
        assert!(c.get(1, "q", t0 + Duration::from_secs(119)).is_some());
        assert_eq!(c.get(1, "q", t0 + Duration::from_secs(120)), None);
        assert_eq!(c.stats().entries, 0, "the expired entry is dropped");
    }

    #[test]
    fn overflow_evicts_down_to_ninety_percent() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L3, Duration::from_secs(300), 20, MB);
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
        let c = LayerCache::new(Layer::L3, ttl, 20, MB);
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
    fn bytes_are_bounded_as_well_as_entries() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 10_000, 100 * 1024);
        let big = "z".repeat(10 * 1024);
        for i in 0..50 {
            c.insert(0, &format!("{i} {big}"), cached(&big), t0);
            let s = c.stats();
            assert!(s.bytes <= 100 * 1024, "{} bytes after {i}", s.bytes);
        }
        let s = c.stats();
        assert!(s.entries < 10 && s.evictions > 0, "{s:?}");
        assert!(
            c.get(0, &format!("49 {big}"), t0).is_some(),
            "the newest entry stays"
        );
        // One answer larger than the whole budget is not kept at all.
        c.insert(1, "huge", cached(&"h".repeat(200 * 1024)), t0);
        assert_eq!(c.get(1, "huge", t0), None);
        assert!(c.stats().bytes <= 100 * 1024);
    }

    #[test]
    fn replacing_an_entry_does_not_count_its_bytes_twice() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 10, MB);
        c.insert(0, "q", cached(&"a".repeat(1000)), t0);
        let once = c.stats().bytes;
        c.insert(0, "q", cached(&"a".repeat(1000)), t0);
        assert_eq!(c.stats().bytes, once);
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let t0 = Instant::now();
        let c = LayerCache::new(Layer::L2, Duration::from_secs(600), 0, MB);
        c.insert(1, "q", cached("a"), t0);
        assert_eq!(c.get(1, "q", t0), None);
    }
}
