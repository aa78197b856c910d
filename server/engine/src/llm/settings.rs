//! The LLM providers' keys and base URLs, as the configuration read them (the variables each
//! [`Provider`] names). Lives beside the providers, which are its only users; `config`
//! fills it.

use super::spec::Provider;
use std::collections::BTreeMap;

/// The LLM providers' keys and base URLs (the variables each [`Provider`] names).
#[derive(Clone, Default)]
pub struct ProviderSettings {
    values: BTreeMap<&'static str, String>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.values.keys()).finish()
    }
}

/// Azure's API version variable (not a key or a URL, but provider configuration).
pub const AZURE_API_VERSION_ENV: &str = "AZURE_OPENAI_API_VERSION";

impl ProviderSettings {
    /// The provider variables `lookup` knows (the configuration passes its environment).
    pub fn from_lookup<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        let mut values = BTreeMap::new();
        let names = Provider::ALL
            .iter()
            .flat_map(|p| [p.key_env(), p.base_url_env()])
            .flatten()
            .chain([AZURE_API_VERSION_ENV]);
        for name in names {
            if let Some(v) = lookup(name) {
                values.insert(name, v.to_string());
            }
        }
        Self { values }
    }

    /// Explicit values (tests): variable name → value.
    pub fn from_pairs(pairs: &[(&'static str, &str)]) -> Self {
        Self {
            values: pairs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    pub fn get(&self, var: Option<&str>) -> Option<&str> {
        var.and_then(|v| self.values.get(v)).map(String::as_str)
    }

    pub fn key(&self, p: Provider) -> Option<&str> {
        self.get(p.key_env())
    }

    /// The configured base URL, else the provider's default.
    pub fn base_url(&self, p: Provider) -> Option<String> {
        self.get(p.base_url_env())
            .map(String::from)
            .or_else(|| p.default_base_url().map(String::from))
    }
}
