//! Model configuration as the settings page shows it (never a key, only whether one is set).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleModel {
    pub role: String,
    pub model: String,
    pub env_var: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    pub provider: String,
    pub key_env: String,
    pub key_present: bool,
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub roles: Vec<RoleModel>,
    pub providers: Vec<ProviderStatus>,
    pub tool_call_cap: u32,
    pub approval_timeout_secs: u64,
    pub embedder: String,
    /// The configuration file, if one was given.
    #[serde(default)]
    pub config_file: Option<String>,
    /// Its keys: values of non-secrets, `[set]` for secrets.
    #[serde(default)]
    pub config_keys: Vec<(String, String)>,
}
