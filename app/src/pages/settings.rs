//! `/settings`: which model each role uses and whether each provider's key is present.

use crate::api::settings::get_settings;
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = crate::codec::resource(|| (), |_| get_settings());
    view! {
        <section class="panel" data-testid="settings">
            <h1>"Settings"</h1>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Ok(s) => view! {
                            <h3>"Models per role"</h3>
                            <table class="table">
                                <thead><tr><th>"Role"</th><th>"Model"</th><th>"Set with"</th></tr></thead>
                                <tbody>{s.roles.into_iter().map(|r| view! {
                                    <tr data-testid="role-row"><td>{r.role}</td><td class="mono">{r.model}</td><td class="mono">{r.env_var}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                            <h3>"Providers"</h3>
                            <table class="table">
                                <thead><tr><th>"Provider"</th><th>"API key"</th><th>"Base URL"</th></tr></thead>
                                <tbody>{s.providers.into_iter().map(|p| view! {
                                    <tr data-testid="provider-row">
                                        <td>{p.provider.clone()}</td>
                                        <td>{if p.key_env.is_empty() { "not needed".to_string() } else if p.key_present { format!("✓ {} is set", p.key_env) } else { format!("✗ {} not set", p.key_env) }}</td>
                                        <td class="mono">{p.base_url.unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                            <h3>"Limits"</h3>
                            <dl>
                                <dt>"Tool-call cap per incident"</dt><dd>{s.tool_call_cap}</dd>
                                <dt>"Approval timeout"</dt><dd>{format!("{} s", s.approval_timeout_secs)}</dd>
                                <dt>"Embedder"</dt><dd class="mono">{s.embedder}</dd>
                            </dl>
                            <h3>"Configuration file"</h3>
                            {match s.config_file {
                                None => view! { <p class="muted" data-testid="config-file">"none (SENTINEL_CONFIG or --config names one)"</p> }.into_any(),
                                Some(f) => view! {
                                    <p class="mono" data-testid="config-file">{f}</p>
                                    <table class="table">
                                        <thead><tr><th>"Key"</th><th>"Value"</th></tr></thead>
                                        <tbody>{s.config_keys.into_iter().map(|(k, v)| view! {
                                            <tr data-testid="config-row"><td class="mono">{k}</td><td class="mono">{v}</td></tr>
                                        }).collect_view()}</tbody>
                                    </table>
                                }.into_any(),
                            }}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
