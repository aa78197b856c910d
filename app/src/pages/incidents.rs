//! `/incidents`: history, newest first, filterable by status and service.

use crate::api::incidents::list_incidents;
use crate::components::common::{SeverityBadge, StatusBadge, fmt_time};
use crate::model::IncidentStatus;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status")).filter(|s| !s.is_empty());
    let service = move || query.with(|q| q.get("service")).filter(|s| !s.is_empty());
    let rows = crate::codec::resource(
        move || (status(), service()),
        |(st, sv)| list_incidents(st, sv),
    );
    view! {
        <section class="panel">
            <h1>"Incidents"</h1>
            <form class="filters" method="get" action="/incidents">
                <select name="status" data-testid="filter-status">
                    <option value="">"any status"</option>
                    {IncidentStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=status() == Some(s.as_str().to_string())>{s.as_str().replace('_', " ")}</option> }).collect_view()}
                </select>
                <input name="service" placeholder="service" data-testid="filter-service" value=service().unwrap_or_default()/>
                <button type="submit">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No incidents match."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="incident-table">
                                <thead><tr><th>"Incident"</th><th>"Service"</th><th>"Severity"</th><th>"Status"</th><th>"Alert"</th><th>"Opened"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|i| {
                                        let pending = i.status == IncidentStatus::AwaitingApproval;
                                        view! {
                                            <tr data-testid="incident-row" class=if pending { "pending" } else { "" }>
                                                <td><a class="mono" href=format!("/incidents/{}", i.incident_id)>{i.incident_id.clone()}</a></td>
                                                <td>{i.service.clone()}</td>
                                                <td><SeverityBadge severity=i.severity/></td>
                                                <td><StatusBadge status=i.status/>{pending.then(|| view! { " " <a href=format!("/?incident={}", i.incident_id) data-testid="review-approval">"review approval →"</a> })}</td>
                                                <td>{i.title.clone()}{(i.alert_count > 1).then(|| format!(" (×{})", i.alert_count))}</td>
                                                <td>{fmt_time(i.created_at)}</td>
                                            </tr>
                                        }
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
