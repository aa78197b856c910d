//! `/changes`: the deploys and changes CI/CD announced (`/webhooks/change`, GitHub, Argo CD),
//! newest first, filterable by service and window — what changed before the pager went off.

use crate::api::changes::list_changes;
use crate::components::common::fmt_time;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ChangesPage() -> impl IntoView {
    let query = use_query_map();
    let service = move || query.with(|q| q.get("service")).filter(|s| !s.is_empty());
    let hours = move || {
        query
            .with(|q| q.get("hours"))
            .and_then(|h| h.parse::<f64>().ok())
            .unwrap_or(72.0)
    };
    let rows = crate::codec::resource(move || (service(), hours()), |(sv, h)| list_changes(sv, h));
    view! {
        <section class="panel">
            <h1>"Changes"</h1>
            <form class="filters" method="get" action="/changes">
                <input name="service" placeholder="service" data-testid="changes-service" value=service().unwrap_or_default()/>
                <select name="hours" data-testid="changes-hours">
                    {[6.0, 24.0, 72.0, 168.0, 720.0].into_iter().map(|h| view! {
                        <option value=h.to_string() selected=hours() == h>{format!("last {}", if h < 48.0 { format!("{h:.0} h") } else { format!("{:.0} days", h / 24.0) })}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty" data-testid="changes-empty">"No changes announced in this window. Post them to /webhooks/change (see the README)."</p> }.into_any(),
                        Ok(mut list) => {
                            list.reverse();
                            view! {
                                <table class="table" data-testid="changes-table">
                                    <thead><tr><th>"When"</th><th>"Service"</th><th>"Kind"</th><th>"Change"</th><th>"Author"</th><th>"Version / commit"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|c| view! {
                                            <tr data-testid="change-row">
                                                <td>{fmt_time(c.ts)}</td>
                                                <td>{c.service.clone()}</td>
                                                <td><span class="badge">{c.kind.clone()}</span></td>
                                                <td><span class="mono">{c.id.clone()}</span>" "{c.description.clone()}</td>
                                                <td>{c.author.clone()}</td>
                                                <td class="mono">{c.version.clone().or(c.commit.clone()).unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="error" data-testid="changes-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
