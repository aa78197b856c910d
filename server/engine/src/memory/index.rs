//! The in-memory vector index behind episodic memory search. It exists because similar-incident
//! search must stay fast as memory grows (top-5 over 1,000,000 incidents in < 50 ms on two
//! cores), and an exact f32 scan of 1.5 GB takes ~130 ms there (an int8 scan of 384 MB ~50 ms:
//! both are bound by memory bandwidth).
//!
//! Every row is kept twice, both contiguous and row-major: as f32 (exact scores) and as sign
//! bits (48 bytes for 384 dimensions, 32x less memory traffic). A search computes the Hamming
//! distance of the query's sign bits to every row (split over two threads when the index is
//! large), takes the nearest `candidates(k, n)` rows by a histogram threshold (no heap), and
//! re-ranks those with exact f32 dot products. The returned scores are exact cosines; recall of
//! the top matches is checked against the exact scan in the tests and the benchmark. Small
//! indexes are scanned exactly.

use std::ops::Range;

/// Below this many rows an exact f32 scan is fast enough and simplest.
pub const EXACT_BELOW: usize = 4096;
/// Rows per thread below which a second thread costs more than it saves.
pub const PARALLEL_ABOVE: usize = 16_384;
/// Candidates re-ranked exactly per requested result (at least [`MIN_CANDIDATES`], and at least
/// one in [`CANDIDATE_FRACTION`] rows).
pub const OVERSAMPLE: usize = 64;
pub const MIN_CANDIDATES: usize = 512;
pub const CANDIDATE_FRACTION: usize = 1000;

/// How many rows the bit scan hands to the exact re-ranking.
pub fn candidates(k: usize, n: usize) -> usize {
    (k * OVERSAMPLE)
        .max(MIN_CANDIDATES)
        .max(n / CANDIDATE_FRACTION)
        .min(n)
}

/// Contiguous row-major matrix of unit vectors, with sign bits for fast scans.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    dim: usize,
    words: usize,
    data: Vec<f32>,
    bits: Vec<u64>,
    exact_below: usize,
    parallel_above: usize,
}

impl Default for VectorIndex {
    fn default() -> Self {
        Self::new(0)
    }
}

/// The sign bit of every component (1 = positive), 64 per word.
pub fn sign_bits(v: &[f32], out: &mut [u64]) {
    out.iter_mut().for_each(|w| *w = 0);
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0 {
            out[i / 64] |= 1 << (i % 64);
        }
    }
}

impl VectorIndex {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            words: dim.div_ceil(64),
            data: Vec::new(),
            bits: Vec::new(),
            exact_below: EXACT_BELOW,
            parallel_above: PARALLEL_ABOVE,
        }
    }

    /// Other size thresholds for the exact scan and the second thread (tests, benchmarks).
    pub fn with_thresholds(mut self, exact_below: usize, parallel_above: usize) -> Self {
        self.exact_below = exact_below;
        self.parallel_above = parallel_above;
        self
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reserve(&mut self, rows: usize) {
        self.data.reserve(rows * self.dim);
        self.bits.reserve(rows * self.words);
    }

    pub fn push(&mut self, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector dimension mismatch");
        self.data.extend_from_slice(v);
        let start = self.bits.len();
        self.bits.resize(start + self.words, 0);
        sign_bits(v, &mut self.bits[start..]);
    }

    /// Replaces row `i` in place.
    pub fn set(&mut self, i: usize, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector dimension mismatch");
        self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(v);
        sign_bits(v, &mut self.bits[i * self.words..(i + 1) * self.words]);
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Indices and exact scores of the `k` most similar rows, best first.
    pub fn top_k(&self, q: &[f32], k: usize) -> Vec<(usize, f32)> {
        if k == 0 || self.is_empty() || q.len() != self.dim {
            return Vec::new();
        }
        let n = self.len();
        if n < self.exact_below {
            return self.top_k_exact(q, k);
        }
        let mut qb = vec![0u64; self.words];
        sign_bits(q, &mut qb);
        let mut dist = vec![0u16; n];
        if n >= 2 * self.parallel_above {
            let mid = n / 2;
            let (lo, hi) = dist.split_at_mut(mid);
            std::thread::scope(|s| {
                s.spawn(|| self.hamming(&qb, mid..n, hi));
                self.hamming(&qb, 0..mid, lo);
            });
        } else {
            self.hamming(&qb, 0..n, &mut dist);
        }
        // The smallest distance t with at least `want` rows at or under it.
        let want = candidates(k, n);
        let mut hist = vec![0usize; self.words * 64 + 1];
        for &d in &dist {
            hist[d as usize] += 1;
        }
        let mut below = 0;
        let mut t = 0;
        for (d, c) in hist.iter().enumerate() {
            if below + c >= want {
                t = d;
                break;
            }
            below += c;
        }
        // Everything under t, and rows at t until `want` (ties beyond are alike by bits).
        let mut at_t = want - below;
        let mut top = TopK::new(k);
        for (i, &d) in dist.iter().enumerate() {
            let take = if (d as usize) < t {
                true
            } else if d as usize == t && at_t > 0 {
                at_t -= 1;
                true
            } else {
                false
            };
            if take {
                top.offer(i, dot(self.row(i), q));
            }
        }
        top.into_vec()
    }

    /// Exact f32 scan over every row.
    pub fn top_k_exact(&self, q: &[f32], k: usize) -> Vec<(usize, f32)> {
        if k == 0 || self.is_empty() || q.len() != self.dim {
            return Vec::new();
        }
        let mut top = TopK::new(k);
        for (i, row) in self.data.chunks_exact(self.dim).enumerate() {
            top.offer(i, dot(row, q));
        }
        top.into_vec()
    }

    fn hamming(&self, qb: &[u64], rows: Range<usize>, out: &mut [u16]) {
        let codes = &self.bits[rows.start * self.words..rows.end * self.words];
        for (d, row) in out.iter_mut().zip(codes.chunks_exact(self.words)) {
            let mut s = 0u32;
            for (a, b) in row.iter().zip(qb) {
                s += (a ^ b).count_ones();
            }
            *d = s as u16;
        }
    }
}

/// The best `k` (index, score) pairs seen, kept sorted, best first.
struct TopK {
    k: usize,
    best: Vec<(usize, f32)>,
    floor: f32,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(k + 1),
            floor: f32::NEG_INFINITY,
        }
    }

    #[inline]
    fn offer(&mut self, i: usize, s: f32) {
        if self.best.len() < self.k || s > self.floor {
            let pos = self.best.partition_point(|&(_, b)| b >= s);
            self.best.insert(pos, (i, s));
            if self.best.len() > self.k {
                self.best.pop();
            }
            if self.best.len() == self.k {
                self.floor = self.best[self.k - 1].1;
            }
        }
    }

    fn into_vec(self) -> Vec<(usize, f32)> {
        self.best
    }
}

#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the loop.
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::embed::normalize;
    use rand::{Rng, SeedableRng};

    fn random_unit(rng: &mut impl Rng, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        normalize(&mut v);
        v
    }

    /// `base` nudged by noise of size `eps`, renormalised.
    fn near(rng: &mut impl Rng, base: &[f32], eps: f32) -> Vec<f32> {
        let mut v: Vec<f32> = base
            .iter()
            .map(|x| x + rng.random_range(-eps..eps))
            .collect();
        normalize(&mut v);
        v
    }

    #[test]
    fn top_k_is_best_first_and_exact_for_small_indexes() {
        let mut idx = VectorIndex::new(4);
        for v in [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.6, 0.8, 0.0, 0.0],
            [0.8, 0.6, 0.0, 0.0],
        ] {
            idx.push(&v);
        }
        let got = idx.top_k(&[1.0, 0.0, 0.0, 0.0], 3);
        let order: Vec<usize> = got.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![0, 3, 2]);
        assert!((got[0].1 - 1.0).abs() < 1e-6 && (got[1].1 - 0.8).abs() < 1e-6);
        assert_eq!(idx.top_k(&[1.0, 0.0, 0.0, 0.0], 10).len(), 4);
        assert!(idx.top_k(&[1.0, 0.0, 0.0, 0.0], 0).is_empty());
        assert!(idx.top_k(&[1.0, 0.0], 3).is_empty(), "wrong dimension");
        idx.set(1, &[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(idx.top_k(&[1.0, 0.0, 0.0, 0.0], 2)[1].0, 1);
    }

    #[test]
    fn sign_bits_track_cosine() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = random_unit(&mut rng, 384);
        let close = near(&mut rng, &a, 0.02);
        let far = random_unit(&mut rng, 384);
        let bits = |v: &[f32]| {
            let mut b = vec![0u64; 6];
            sign_bits(v, &mut b);
            b
        };
        let ham = |x: &[u64], y: &[u64]| {
            x.iter()
                .zip(y)
                .map(|(p, q)| (p ^ q).count_ones())
                .sum::<u32>()
        };
        let (ba, bc, bf) = (bits(&a), bits(&close), bits(&far));
        assert_eq!(ham(&ba, &ba), 0);
        assert!(ham(&ba, &bc) < 60, "{}", ham(&ba, &bc));
        assert!(ham(&ba, &bf) > 150, "{}", ham(&ba, &bf));
    }

    #[test]
    fn quantised_search_matches_exact_search() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let dim = 384;
        let n = 5001;
        // The bit scan on two threads, as for a large index.
        let mut idx = VectorIndex::new(dim).with_thresholds(0, 1000);
        idx.reserve(n);
        // Clustered data (like incidents of a few kinds) is harder than uniform noise.
        let centres: Vec<Vec<f32>> = (0..50).map(|_| random_unit(&mut rng, dim)).collect();
        for i in 0..n {
            let c = &centres[i % centres.len()];
            let v = near(&mut rng, c, 0.08);
            idx.push(&v);
        }
        let mut same = 0;
        let mut total = 0;
        for q in 0..20 {
            let query = near(&mut rng, &centres[q % centres.len()], 0.08);
            let exact = idx.top_k_exact(&query, 5);
            let fast = idx.top_k(&query, 5);
            assert_eq!(fast.len(), 5);
            assert_eq!(fast[0], exact[0], "the best match must be found");
            for w in fast.windows(2) {
                assert!(w[0].1 >= w[1].1, "best first");
            }
            let ids: Vec<usize> = fast.iter().map(|x| x.0).collect();
            same += exact.iter().filter(|(i, _)| ids.contains(i)).count();
            total += exact.len();
        }
        let recall = same as f64 / total as f64;
        assert!(recall >= 0.95, "recall@5 {recall}");
    }
}
