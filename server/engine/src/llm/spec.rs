//! `provider/model` strings (LiteLLM convention), parsed once at the edge.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The offline analysis engine.
    Builtin,
    OpenAi,
    Groq,
    Azure,
    Ollama,
    /// Any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio) at `OPENAI_COMPATIBLE_BASE_URL`.
    OpenAiCompatible,
    Anthropic,
}

impl Provider {
    pub const ALL: [Provider; 7] = [
        Provider::Builtin,
        Provider::OpenAi,
        Provider::Groq,
        Provider::Azure,
        Provider::Ollama,
        Provider::OpenAiCompatible,
        Provider::Anthropic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::OpenAi => "openai",
            Self::Groq => "groq",
            Self::Azure => "azure",
            Self::Ollama => "ollama",
            Self::OpenAiCompatible => "openai-compatible",
            Self::Anthropic => "anthropic",
        }
    }

    /// The environment variable holding the API key (None: no key needed).
    pub fn key_env(self) -> Option<&'static str> {
        match self {
            Self::Builtin | Self::Ollama => None,
            Self::OpenAi => Some("OPENAI_API_KEY"),
            Self::Groq => Some("GROQ_API_KEY"),
            Self::Azure => Some("AZURE_OPENAI_API_KEY"),
            Self::OpenAiCompatible => Some("OPENAI_COMPATIBLE_API_KEY"),
            Self::Anthropic => Some("ANTHROPIC_API_KEY"),
        }
    }

    /// The environment variable overriding the base URL.
    pub fn base_url_env(self) -> Option<&'static str> {
        match self {
            Self::Builtin => None,
            Self::OpenAi => Some("OPENAI_BASE_URL"),
            Self::Groq => Some("GROQ_BASE_URL"),
            Self::Azure => Some("AZURE_OPENAI_ENDPOINT"),
            Self::Ollama => Some("OLLAMA_BASE_URL"),
            Self::OpenAiCompatible => Some("OPENAI_COMPATIBLE_BASE_URL"),
            Self::Anthropic => Some("ANTHROPIC_BASE_URL"),
        }
    }

    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Builtin | Self::Azure | Self::OpenAiCompatible => None,
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Groq => Some("https://api.groq.com/openai/v1"),
            Self::Ollama => Some("http://127.0.0.1:11434/v1"),
            Self::Anthropic => Some("https://api.anthropic.com/v1"),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub provider: Provider,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model {raw:?}: {message}")]
pub struct ModelSpecError {
    pub raw: String,
    pub message: String,
}

impl ModelSpec {
    /// Parses `provider/model`; the model part may itself contain `/` (e.g. `groq/meta-llama/llama-4`).
    pub fn parse(raw: &str) -> Result<Self, ModelSpecError> {
        let err = |m: &str| ModelSpecError {
            raw: raw.to_string(),
            message: m.to_string(),
        };
        let (p, m) = raw.trim().split_once('/').ok_or_else(|| {
            err("expected provider/model, e.g. openai/gpt-4o-mini or builtin/sentinel-engine")
        })?;
        let provider = match p.to_ascii_lowercase().as_str() {
            "builtin" | "offline" => Provider::Builtin,
            "openai" => Provider::OpenAi,
            "groq" => Provider::Groq,
            "azure" | "azure_openai" | "azure-openai" => Provider::Azure,
            "ollama" | "ollama_chat" => Provider::Ollama,
            "openai-compatible" | "openai_compatible" | "hosted_vllm" | "vllm" | "lmstudio"
            | "llamacpp" => Provider::OpenAiCompatible,
            "anthropic" => Provider::Anthropic,
            other => {
                return Err(err(&format!(
                    "unknown provider {other:?} (known: builtin, openai, groq, azure, ollama, openai-compatible, anthropic)"
                )));
            }
        };
        if m.trim().is_empty() {
            return Err(err("the model name after the provider is empty"));
        }
        Ok(Self {
            provider,
            model: m.trim().to_string(),
        })
    }

    pub fn is_builtin(&self) -> bool {
        self.provider == Provider::Builtin
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}
