//! L2 memory: stored texts with hashed character-trigram embeddings, and a
//! top-k cosine search over an inverted index, so a query only touches the
//! entries that share a trigram bucket with it.

use std::sync::RwLock;

/// Embedding dimensions (hash buckets).
const DIM: usize = 4096;

/// A sparse, L2-normalised embedding: (bucket, weight), sorted by bucket.
pub type Embedding = Vec<(u32, f32)>;

fn fnv(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Hashed character-trigram counts of the lowercased text, normalised.
pub fn embed(text: &str) -> Embedding {
    let lower = text.to_lowercase();
    let padded = format!("  {lower} ");
    let bytes = padded.as_bytes();
    let mut counts: Vec<(u32, f32)> = Vec::with_capacity(bytes.len());
    for w in bytes.windows(3) {
        counts.push((fnv(w) % DIM as u32, 1.0));
    }
    counts.sort_unstable_by_key(|(b, _)| *b);
    let mut out: Embedding = Vec::with_capacity(counts.len());
    for (b, w) in counts {
        match out.last_mut() {
            Some((lb, lw)) if *lb == b => *lw += w,
            _ => out.push((b, w)),
        }
    }
    let norm = out.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut out {
            *w /= norm;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub text: String,
    pub score: f32,
}

#[derive(Debug, Default)]
struct Index {
    texts: Vec<Box<str>>,
    /// bucket → (entry id, weight)
    postings: Vec<Vec<(u32, f32)>>,
}

/// Bounded: when full, the oldest half is dropped and the index rebuilt,
/// which amortises to O(1) per insert.
#[derive(Debug)]
pub struct Memory {
    capacity: usize,
    index: RwLock<Index>,
}

impl Memory {
    pub fn new(capacity: usize) -> Memory {
        let index = Index {
            texts: Vec::new(),
            postings: vec![Vec::new(); DIM],
        };
        Memory {
            capacity: capacity.max(2),
            index: RwLock::new(index),
        }
    }

    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.texts.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn insert(&self, text: &str) {
        let e = embed(text);
        let mut idx = self.index.write().unwrap_or_else(|p| p.into_inner());
        if idx.texts.len() >= self.capacity {
            let half = idx.texts.len() / 2;
            let keep: Vec<Box<str>> = idx.texts.split_off(half);
            idx.texts.clear();
            idx.postings.iter_mut().for_each(Vec::clear);
            for t in keep {
                add(&mut idx, t.clone(), &embed(&t));
            }
        }
        add(&mut idx, text.into(), &e);
    }

    /// The `k` stored texts most similar to `query` (cosine), best first.
    pub fn search(&self, query: &str, k: usize) -> Vec<Hit> {
        let q = embed(query);
        let idx = self.index.read().unwrap_or_else(|p| p.into_inner());
        let mut scores = vec![0f32; idx.texts.len()];
        for (b, qw) in &q {
            for (id, w) in &idx.postings[*b as usize] {
                scores[*id as usize] += qw * w;
            }
        }
        let mut best: Vec<(f32, u32)> = scores
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .map(|(i, s)| (*s, i as u32))
            .collect();
        if best.len() > k && k > 0 {
            best.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
            best.truncate(k);
        }
        best.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        best.truncate(k);
        best.into_iter()
            .map(|(s, i)| Hit {
                text: idx.texts[i as usize].to_string(),
                score: s,
            })
            .collect()
    }
}

fn add(idx: &mut Index, text: Box<str>, e: &Embedding) {
    let id = idx.texts.len() as u32;
    idx.texts.push(text);
    for (b, w) in e {
        idx.postings[*b as usize].push((id, *w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_text_ranks_first() {
        let m = Memory::new(100);
        for t in [
            "disk is full on node 3",
            "port 8080 held by python",
            "rollback of the canary phase",
            "disk latency is high",
        ] {
            m.insert(t);
        }
        let hits = m.search("the disk is full", 2);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].text, "disk is full on node 3");
        assert!(hits[0].score > hits[1].score);
        assert!(m.search("", 3).len() <= 3);
    }

    #[test]
    fn identical_text_scores_one_and_capacity_is_bounded() {
        let m = Memory::new(10);
        for i in 0..25 {
            m.insert(&format!("entry number {i}"));
        }
        assert!(m.len() <= 10);
        let hits = m.search("entry number 24", 1);
        assert_eq!(hits[0].text, "entry number 24");
        assert!((hits[0].score - 1.0).abs() < 1e-4);
    }
}
