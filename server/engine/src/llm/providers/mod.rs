//! Provider adapters, one folder each. Two wire protocols cover every supported provider:
//! OpenAI chat completions (openai, groq, azure, ollama, openai-compatible servers) and the
//! Anthropic Messages API.

pub mod anthropic;
#[cfg(test)]
mod mock;
pub mod openai;

use super::settings::ProviderSettings;
use super::spec::{ModelSpec, Provider};
use super::{ChatModel, LanguageModelError};
use std::sync::Arc;
use std::time::Duration;

/// Per-request timeout for every provider call.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the client for a non-builtin model spec from the configured keys and base URLs.
pub fn from_spec(
    spec: &ModelSpec,
    settings: &ProviderSettings,
) -> Result<Arc<dyn ChatModel>, LanguageModelError> {
    let key = settings.key(spec.provider).map(String::from);
    let base = settings.base_url(spec.provider);
    let need_key = |k: Option<String>| {
        k.ok_or_else(|| {
            LanguageModelError::Permanent(format!(
                "{} needs {} to be set",
                spec.provider,
                spec.provider.key_env().unwrap_or("an API key")
            ))
        })
    };
    let need_base = |b: Option<String>| {
        b.ok_or_else(|| {
            LanguageModelError::Permanent(format!(
                "{} needs {} to be set",
                spec.provider,
                spec.provider.base_url_env().unwrap_or("a base URL")
            ))
        })
    };
    let model: Arc<dyn ChatModel> = match spec.provider {
        Provider::Builtin => {
            return Err(LanguageModelError::Permanent(
                "builtin models are not chat models".into(),
            ));
        }
        Provider::Anthropic => Arc::new(anthropic::AnthropicModel::new(
            need_base(base)?,
            need_key(key)?,
            spec.model.clone(),
        )?),
        Provider::Azure => {
            let version = settings
                .get(Some(super::settings::AZURE_API_VERSION_ENV))
                .unwrap_or("2024-10-21")
                .to_string();
            Arc::new(openai::OpenAiModel::azure(
                need_base(base)?,
                need_key(key)?,
                spec.model.clone(),
                version,
            )?)
        }
        Provider::Ollama => Arc::new(openai::OpenAiModel::new(
            spec.provider,
            need_base(base)?,
            key,
            spec.model.clone(),
        )?),
        Provider::OpenAiCompatible => Arc::new(openai::OpenAiModel::new(
            spec.provider,
            need_base(base)?,
            key,
            spec.model.clone(),
        )?),
        Provider::OpenAi | Provider::Groq => Arc::new(openai::OpenAiModel::new(
            spec.provider,
            need_base(base)?,
            Some(need_key(key)?),
            spec.model.clone(),
        )?),
    };
    Ok(model)
}
