//! `/`: the live incident view.

use crate::api::scenarios::list_scenarios;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let scenarios = Resource::new(|| (), |_| list_scenarios());
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <section class="panel">
            <h1>"Scenarios" <span class="badge" data-testid="hydrated" data-hydrated=move || hydrated.get().to_string()>{move || if hydrated.get() { "live" } else { "static" }}</span></h1>
            <Suspense fallback=|| view! { <p class="empty">"Loading scenarios…"</p> }>
                {move || Suspend::new(async move {
                    match scenarios.await {
                        Ok(list) => view! {
                            <table class="table" data-testid="scenario-table">
                                <thead><tr><th>"Scenario"</th><th>"Service"</th><th>"Failure class"</th><th>"Alert"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr data-testid="scenario-row">
                                            <td class="mono">{s.id}</td>
                                            <td>{s.service}</td>
                                            <td>{s.failure_class}</td>
                                            <td>{format!("{} {}", s.alert_severity, s.metric)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
