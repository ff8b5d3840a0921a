//! L2 memory: what the L2 (Implementation) neurons produced, searchable by
//! similarity.
//!
//! Each text becomes a hashed character-trigram embedding: every trigram of
//! the lowercased text adds ±1 to one of `DIM` buckets (the sign comes from
//! the hash too, so collisions cancel instead of piling up). The vector is
//! quantized to `i8`, which keeps 100 000 entries in 12.8 MB — small enough
//! to stay in the CPU cache — and lets a search scan them all with integer
//! SIMD in well under 2 ms (BENCHMARKS.md). Scores are the cosine
//! similarity of the quantized vectors. The store is a queue bounded in
//! entries and in bytes: the texts are request content, so their size, not
//! only their number, decides what the store holds. Past either bound the
//! oldest entries go.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// Embedding dimensions.
pub const DIM: usize = 128;

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The neuron whose output this was.
    pub neuron: String,
    pub text: String,
    /// Cosine similarity to the query, -1..1.
    pub score: f32,
}

#[derive(Debug)]
pub struct Memory {
    capacity: usize,
    max_bytes: usize,
    store: RwLock<Store>,
}

/// Oldest first. The embeddings sit in their own queue of fixed-size slots,
/// so a search scans (at most two) contiguous slices.
#[derive(Debug, Default)]
struct Store {
    entries: VecDeque<Stored>,
    slots: VecDeque<Slot>,
    bytes: usize,
}

#[derive(Debug)]
struct Stored {
    /// The neuron whose output this was.
    neuron: Arc<str>,
    text: Arc<str>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    vector: [i8; DIM],
    inv_norm: f32,
}

/// What an entry costs: its text, its slot, and the two queue cells.
fn entry_bytes(text: &str) -> usize {
    text.len() + std::mem::size_of::<Slot>() + std::mem::size_of::<Stored>()
}

impl Store {
    fn pop_oldest(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.bytes = self.bytes.saturating_sub(entry_bytes(&e.text));
        }
        self.slots.pop_front();
    }
}

/// A quantized embedding and the inverse of its norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    pub vector: [i8; DIM],
    pub inv_norm: f32,
}

/// How much of a text its embedding reads. The text itself is request
/// content and up to 64 KiB; past a few KiB more trigrams only blur the
/// vector, and reading them all would make the CPU cost of a signal grow
/// with what an unauthenticated client sends.
pub const EMBED_MAX_BYTES: usize = 8 * 1024;

/// The longest prefix of `text` within `max` bytes, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// The hashed character-trigram embedding of the first `EMBED_MAX_BYTES` of `text`.
pub fn embed(text: &str) -> Embedding {
    let text = prefix(text, EMBED_MAX_BYTES);
    let mut acc = [0i32; DIM];
    // Spaces around the text give its first and last characters trigrams of
    // their own, so short words still count.
    let mut window = [' ' as u32; 3];
    let mut push = |c: u32, acc: &mut [i32; DIM]| {
        window = [window[1], window[2], c];
        let h = fnv1a(&window);
        let bucket = (h % DIM as u64) as usize;
        acc[bucket] += if h >> 63 == 0 { 1 } else { -1 };
    };
    let mut count = 0usize;
    if text.is_ascii() {
        // The same characters as below, without the per-character
        // iterators: embedding is most of a signal's CPU time, and it is
        // linear in the request content.
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            push(u32::from(bytes[i].to_ascii_lowercase()), &mut acc);
            i += 1;
        }
        count = bytes.len();
    } else {
        for c in text.chars().flat_map(char::to_lowercase) {
            push(c as u32, &mut acc);
            count += 1;
        }
    }
    if count > 0 {
        push(' ' as u32, &mut acc);
        push(' ' as u32, &mut acc);
    }
    quantize(&acc)
}

fn fnv1a(chars: &[u32; 3]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    // Plain loops over the little-endian bytes: the hot loop of `embed`.
    let mut i = 0;
    while i < 3 {
        let c = chars[i];
        let mut shift = 0;
        while shift < 32 {
            h ^= u64::from((c >> shift) & 0xff);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            shift += 8;
        }
        i += 1;
    }
    // FNV's high bits mix poorly; fold them so the sign bit is usable.
    h ^ (h >> 29).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn quantize(acc: &[i32; DIM]) -> Embedding {
    let max = acc.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    let mut vector = [0i8; DIM];
    if max == 0 {
        return Embedding {
            vector,
            inv_norm: 0.0,
        };
    }
    let scale = 127.0 / max as f32;
    let mut norm2 = 0i64;
    for (q, &v) in vector.iter_mut().zip(acc) {
        *q = (v as f32 * scale).round() as i8;
        norm2 += i64::from(*q) * i64::from(*q);
    }
    Embedding {
        vector,
        inv_norm: 1.0 / (norm2 as f32).sqrt(),
    }
}

impl Memory {
    pub fn new(capacity: usize, max_bytes: usize) -> Memory {
        Memory {
            capacity,
            max_bytes,
            store: RwLock::new(Store::default()),
        }
    }

    pub fn len(&self) -> usize {
        read(&self.store).entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes held now, and the bound on them.
    pub fn bytes(&self) -> (usize, usize) {
        (read(&self.store).bytes, self.max_bytes)
    }

    /// Remember `text`, produced by `neuron`. A text larger than the whole
    /// byte budget is not kept.
    pub fn insert(&self, neuron: &Arc<str>, text: &Arc<str>) {
        let cost = entry_bytes(text);
        if self.capacity == 0 || cost > self.max_bytes {
            return;
        }
        // Embed outside the lock: it is the expensive part.
        let e = embed(text);
        let mut s = write(&self.store);
        while !s.entries.is_empty()
            && (s.entries.len() >= self.capacity || s.bytes + cost > self.max_bytes)
        {
            s.pop_oldest();
        }
        s.entries.push_back(Stored {
            neuron: Arc::clone(neuron),
            text: Arc::clone(text),
        });
        s.slots.push_back(Slot {
            vector: e.vector,
            inv_norm: e.inv_norm,
        });
        s.bytes += cost;
    }

    /// The `k` entries most similar to `query`, best first.
    pub fn search(&self, query: &str, k: usize) -> Vec<Hit> {
        let q = embed(query);
        if k == 0 || q.inv_norm == 0.0 {
            return Vec::new();
        }
        let s = read(&self.store);
        let (front, back) = s.slots.as_slices();
        let top = scan(front, back, &q.vector, k);
        top.into_iter()
            .filter_map(|(score, i)| {
                let e = s.entries.get(i)?;
                Some(Hit {
                    neuron: e.neuron.to_string(),
                    text: e.text.to_string(),
                    score: score * q.inv_norm,
                })
            })
            .collect()
    }
}

fn read(l: &RwLock<Store>) -> std::sync::RwLockReadGuard<'_, Store> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write(l: &RwLock<Store>) -> std::sync::RwLockWriteGuard<'_, Store> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A candidate ordered so that the heap's top is the weakest one kept.
#[derive(Debug, Clone, Copy)]
struct RankedCandidate(f32, usize);

impl PartialEq for RankedCandidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for RankedCandidate {}
impl PartialOrd for RankedCandidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RankedCandidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: lower scores are "greater"; ties keep the older entry.
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// The `k` best (score without the query's norm, index), best first, over
/// the two halves of the slot queue (indices run on from `front` into `back`).
fn scan(front: &[Slot], back: &[Slot], q: &[i8; DIM], k: usize) -> Vec<(f32, usize)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        #[allow(unsafe_code)]
        let best = unsafe { scan_avx2(front, back, q, k) };
        return best;
    }
    scan_portable(front, back, q, k)
}

/// The same loop compiled for AVX2, which doubles the integer SIMD width.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(front: &[Slot], back: &[Slot], q: &[i8; DIM], k: usize) -> Vec<(f32, usize)> {
    scan_portable(front, back, q, k)
}

#[inline(always)]
fn scan_portable(front: &[Slot], back: &[Slot], q: &[i8; DIM], k: usize) -> Vec<(f32, usize)> {
    let mut heap: BinaryHeap<RankedCandidate> = BinaryHeap::with_capacity(k + 1);
    let mut floor = f32::NEG_INFINITY;
    for (i, slot) in front.iter().chain(back).enumerate() {
        let score = dot(&slot.vector, q) as f32 * slot.inv_norm;
        if heap.len() < k {
            heap.push(RankedCandidate(score, i));
            if heap.len() == k {
                floor = heap.peek().map_or(f32::NEG_INFINITY, |c| c.0);
            }
        } else if score > floor {
            heap.pop();
            heap.push(RankedCandidate(score, i));
            floor = heap.peek().map_or(f32::NEG_INFINITY, |c| c.0);
        }
    }
    let mut out: Vec<(f32, usize)> = heap.into_iter().map(|c| (c.0, c.1)).collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    out
}

#[inline(always)]
fn dot(v: &[i8], q: &[i8; DIM]) -> i32 {
    let mut sum = 0i32;
    for (a, b) in v.iter().zip(q) {
        sum += i32::from(*a) * i32::from(*b);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(texts: &[&str], capacity: usize) -> Memory {
        let m = Memory::new(capacity, 1 << 20);
        let n: Arc<str> = Arc::from("recall");
        for t in texts {
            m.insert(&n, &Arc::from(*t));
        }
        m
    }

    #[test]
    fn the_most_similar_entry_ranks_first() {
        let m = memory(
            &[
                "disk full on /var/lib/hal9",
                "certificate expired for api.example.com",
                "pod crash loop in namespace hal9",
                "disk almost full on /var/log",
            ],
            10,
        );
        let hits = m.search("DISK FULL on /var/lib", 2);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].text, "disk full on /var/lib/hal9");
        assert_eq!(hits[1].text, "disk almost full on /var/log");
        assert!(hits[0].score > hits[1].score);
        assert_eq!(hits[0].neuron, "recall");
        let hits = m.search("certificate expiry", 1);
        assert_eq!(hits[0].text, "certificate expired for api.example.com");
    }

    #[test]
    fn the_ascii_path_embeds_exactly_like_the_general_one() {
        // A non-ASCII character at the end sends the text down the general
        // path; its trigrams differ only at the end.
        let ascii = "Disk FULL on /var/lib/hal9 ".repeat(20);
        let general: String = ascii.chars().chain(['é']).collect();
        let mut a = [0i32; DIM];
        let mut window = [' ' as u32; 3];
        for c in ascii.chars().flat_map(char::to_lowercase).chain([' ', ' ']) {
            window = [window[1], window[2], c as u32];
            let h = fnv1a(&window);
            a[(h % DIM as u64) as usize] += if h >> 63 == 0 { 1 } else { -1 };
        }
        assert_eq!(embed(&ascii), quantize(&a));
        // And the hash is FNV-1a over the little-endian bytes, as before.
        let w = ['d' as u32, 'é' as u32, '✓' as u32];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in w.iter().flat_map(|c| c.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        assert_eq!(fnv1a(&w), h ^ (h >> 29).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        assert_ne!(embed(&general), embed(&ascii));
    }

    #[test]
    fn only_the_first_8_kib_are_embedded_cut_at_a_character() {
        let head = "é".repeat(EMBED_MAX_BYTES / 2 - 1) + "x";
        assert_eq!(
            prefix(&(head.clone() + "éé"), EMBED_MAX_BYTES).len(),
            EMBED_MAX_BYTES - 1
        );
        let a = embed(&(head.clone() + &"tail one ".repeat(1000)));
        let b = embed(&(head.clone() + &"other tail ".repeat(1000)));
        assert_eq!(a, b);
        assert_ne!(embed("short one"), embed("short two"));
    }

    #[test]
    fn identical_text_scores_one() {
        let m = memory(&["crash loop backoff"], 10);
        let hit = &m.search("crash loop backoff", 1)[0];
        assert!((hit.score - 1.0).abs() < 1e-4, "{}", hit.score);
    }

    #[test]
    fn the_ring_drops_the_oldest_when_full() {
        let m = memory(&["alpha one", "beta two", "gamma three", "delta four"], 3);
        assert_eq!(m.len(), 3);
        let texts: Vec<String> = m
            .search("alpha one", 3)
            .into_iter()
            .map(|h| h.text)
            .collect();
        assert!(!texts.contains(&"alpha one".to_string()), "{texts:?}");
        assert!(texts.contains(&"delta four".to_string()), "{texts:?}");
    }

    #[test]
    fn k_larger_than_the_store_returns_everything_and_empty_queries_nothing() {
        let m = memory(&["a b c", "d e f"], 10);
        assert_eq!(m.search("abc", 50).len(), 2);
        assert!(m.search("", 5).is_empty());
        assert!(m.search("abc", 0).is_empty());
    }

    #[test]
    fn the_portable_and_simd_scans_agree() {
        let texts: Vec<String> = (0..700).map(|i| format!("entry {i} of the ring")).collect();
        // Capacity 300 for 700 texts: the queue wraps, so the scan runs
        // over both halves.
        let m = Memory::new(300, 1 << 20);
        let n: Arc<str> = Arc::from("recall");
        for t in &texts {
            m.insert(&n, &Arc::from(t.as_str()));
        }
        let q = embed("entry 642 of");
        let s = read(&m.store);
        let (front, back) = s.slots.as_slices();
        assert!(!back.is_empty(), "the test needs a wrapped queue");
        let a = scan(front, back, &q.vector, 10);
        let b = scan_portable(front, back, &q.vector, 10);
        assert_eq!(a, b);
        assert_eq!(s.entries[a[0].1].text.as_ref(), "entry 642 of the ring");
    }

    #[test]
    fn bytes_are_bounded_and_the_oldest_go_first() {
        let budget = 64 * 1024;
        let m = Memory::new(1000, budget);
        let n: Arc<str> = Arc::from("recall");
        for i in 0..40 {
            m.insert(&n, &Arc::from(format!("{i:02} {}", "w".repeat(4000))));
            assert!(m.bytes().0 <= budget, "{:?} after {i}", m.bytes());
        }
        assert!(m.len() < 40 && m.len() >= 10, "{}", m.len());
        let texts: Vec<String> = m
            .search("39 www", 1000)
            .into_iter()
            .map(|h| h.text)
            .collect();
        assert!(
            texts.iter().any(|t| t.starts_with("39 ")),
            "the newest stays"
        );
        assert!(
            !texts.iter().any(|t| t.starts_with("00 ")),
            "the oldest went"
        );
        m.insert(&n, &Arc::from("h".repeat(budget)));
        assert!(m.bytes().0 <= budget, "a text over the budget is not kept");
    }
}
