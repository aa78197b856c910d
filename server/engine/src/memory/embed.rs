//! Text embeddings for episodic memory. [`HashingEmbedder`] is the always-available local
//! embedder: signed feature hashing of word unigrams and bigrams into 384 dimensions, L2
//! normalised. Deterministic, dependency-free, a few microseconds per text.

pub const DIM: usize = 384;

pub trait Embedder: Send + Sync {
    /// A stable name stored with each vector, so vectors of different embedders never mix.
    fn name(&self) -> &str;
    fn dim(&self) -> usize;
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model unavailable: {0}")]
    Unavailable(String),
    #[error("embedding failed: {0}")]
    Failed(String),
}

#[derive(Debug, Default, Clone)]
pub struct HashingEmbedder;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Lowercase word tokens; numbers, hex ids and very short tokens carry no meaning here.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map(|t| t.trim_matches('.').to_lowercase())
        .filter(|t| t.len() >= 2 && !t.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .filter(|t| !(t.len() >= 8 && t.chars().all(|c| c.is_ascii_hexdigit())))
        .collect()
}

impl HashingEmbedder {
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        let toks = tokens(text);
        let mut add = |feature: &str, weight: f32| {
            let h = fnv1a(feature.as_bytes());
            let idx = (h % DIM as u64) as usize;
            let sign = if (h >> 63) & 1 == 1 { -1.0 } else { 1.0 };
            v[idx] += sign * weight;
        };
        for t in &toks {
            add(t, 1.0);
        }
        for w in toks.windows(2) {
            add(&format!("{} {}", w[0], w[1]), 0.7);
        }
        normalize(&mut v);
        v
    }
}

pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

impl Embedder for HashingEmbedder {
    fn name(&self) -> &str {
        "hashing-384-v1"
    }
    fn dim(&self) -> usize {
        DIM
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

/// Remembers the vectors of recent texts. Alerts repeat (the same rule fires again and again,
/// triage compares each alert with the open incidents), and a model embedding costs
/// milliseconds, so identical texts are embedded once. Bounded: cleared when full.
pub struct CachedEmbedder {
    inner: std::sync::Arc<dyn Embedder>,
    cache: std::sync::Mutex<std::collections::HashMap<String, Vec<f32>>>,
    capacity: usize,
}

impl CachedEmbedder {
    pub fn new(inner: std::sync::Arc<dyn Embedder>, capacity: usize) -> Self {
        Self {
            inner,
            cache: Default::default(),
            capacity: capacity.max(1),
        }
    }
}

impl Embedder for CachedEmbedder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out: Vec<Option<Vec<f32>>> = {
            let cache = self
                .cache
                .lock()
                .map_err(|_| EmbedError::Failed("embedding cache poisoned".into()))?;
            texts.iter().map(|t| cache.get(*t).cloned()).collect()
        };
        let missing: Vec<&str> = texts
            .iter()
            .zip(&out)
            .filter(|(_, v)| v.is_none())
            .map(|(t, _)| *t)
            .collect();
        if !missing.is_empty() {
            let fresh = self.inner.embed(&missing)?;
            let mut cache = self
                .cache
                .lock()
                .map_err(|_| EmbedError::Failed("embedding cache poisoned".into()))?;
            if cache.len() + fresh.len() > self.capacity {
                cache.clear();
            }
            let mut fresh_iter = fresh.into_iter();
            for (t, slot) in texts.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    let v = fresh_iter.next().ok_or_else(|| {
                        EmbedError::Failed("embedder returned too few vectors".into())
                    })?;
                    cache.insert(t.to_string(), v.clone());
                    *slot = Some(v);
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);
    impl Embedder for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn dim(&self) -> usize {
            DIM
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| HashingEmbedder.embed_one(t)).collect())
        }
    }

    #[test]
    fn identical_texts_are_embedded_once_and_results_keep_their_order() {
        let inner = std::sync::Arc::new(Counting(AtomicUsize::new(0)));
        let c = CachedEmbedder::new(inner.clone(), 2);
        let a = c
            .embed(&["db pool exhausted", "heap out of memory"])
            .unwrap();
        let b = c
            .embed(&["heap out of memory", "db pool exhausted"])
            .unwrap();
        assert_eq!(a[0], b[1]);
        assert_eq!(a[1], b[0]);
        assert_eq!(inner.0.load(Ordering::SeqCst), 2);
        // Over capacity the cache starts again rather than growing.
        c.embed(&["a new text"]).unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 3);
        assert!(c.cache.lock().unwrap().len() <= 2);
    }
}
