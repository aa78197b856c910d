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
