//! `/incidents/:id`: one incident's resolution, evidence, postmortem, full timeline, and a
//! replay of its trajectory (the agent cards as they were after any step). The page is HTML
//! from the server; only the replay (with the timeline it steps through) is an island.

use crate::api::incidents::get_incident_view;
use crate::components::common::{SeverityBadge, StatusBadge, fmt_time};
use crate::components::live::{
    AgentBoard, EventFeed, Hypotheses, IncidentChanges, LogSignatures, MetricCharts, Notifications,
    Postmortem, Resolution,
};
use crate::live::state::LiveState;
use crate::model::RunEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).unwrap_or_default();
    let view_res = crate::codec::resource(id, get_incident_view);
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Err(e) => view! { <p class="error" data-testid="incident-error">{e.to_string()}</p> }.into_any(),
                    Ok(v) => {
                        let d = v.detail.clone();
                        let events = v.events.clone();
                        let replay = crate::codec::to_json(&events);
                        view! {
                            <section class="incident-header panel" data-testid="incident-page">
                                <div class="ih-main">
                                    <span class="mono">{d.summary.incident_id.clone()}</span>
                                    <h2>{d.summary.title.clone()}</h2>
                                    <span class="muted">{format!("opened {} · alert from {}{}", fmt_time(d.summary.created_at), d.alert.source,
                                        d.alert.annotations.get("fired_by").map(|w| format!(" · fired by {w}")).unwrap_or_default())}</span>
                                </div>
                                <div class="ih-meta">
                                    <span>{d.summary.service.clone()}</span>
                                    <SeverityBadge severity=d.summary.severity/>
                                    <StatusBadge status=d.summary.status/>
                                    {d.pending_approval.is_some().then(|| view! { <a class="primary-link" href=format!("/?incident={}", d.summary.incident_id)>"Review approval"</a> })}
                                </div>
                            </section>
                            <Resolution report=d.report.clone()/>
                            <MetricCharts report=d.report.clone() events=events.clone() fired_at=d.alert.fired_at/>
                            <Hypotheses report=d.report.clone()/>
                            <LogSignatures events=events.clone()/>
                            <IncidentChanges report=d.report.clone() events=events.clone() fired_at=d.alert.fired_at/>
                            <Notifications events=events.clone()/>
                            <Postmortem detail=d.clone() events=events.clone()/>
                            <ReplayTimeline events=replay/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The replay controls over the agent cards, and the timeline up to the chosen step. `events`
/// is the incident's event log as JSON (see `codec::to_json`).
#[island]
fn ReplayTimeline(events: String) -> impl IntoView {
    let events: Vec<RunEvent> = crate::codec::from_json(&events).unwrap_or_default();
    let n = events.len();
    let (step, set_step) = signal(n);
    let evs = StoredValue::new(events);
    let state = Signal::derive(move || {
        evs.with_value(|e| LiveState::from_events(e.iter().take(step.get())))
    });
    let feed = Signal::derive(move || {
        evs.with_value(|e| e.iter().take(step.get()).cloned().collect::<Vec<_>>())
    });
    // Set once the controls are live in the browser.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <section class="panel replay" data-testid="replay" data-hydrated=move || hydrated.get().to_string()>
            <h3>"Replay"</h3>
            <div class="replay-controls">
                <button title="First step" aria-label="First step" on:click=move |_| set_step.set(0)>"«"</button>
                <button title="Previous step" aria-label="Previous step" on:click=move |_| set_step.update(|s| *s = s.saturating_sub(1))>"‹"</button>
                <input type="range" min="0" max=n.to_string() prop:value=move || step.get().to_string()
                    data-testid="replay-slider"
                    on:input=move |ev| set_step.set(event_target_value(&ev).parse().unwrap_or(n))/>
                <button title="Next step" aria-label="Next step" on:click=move |_| set_step.update(|s| *s = (*s + 1).min(n))>"›"</button>
                <button title="Last step" aria-label="Last step" on:click=move |_| set_step.set(n)>"»"</button>
                <span class="muted" data-testid="replay-step">{move || format!("step {} of {n}", step.get())}</span>
            </div>
            <AgentBoard state/>
        </section>
        <section class="panel timeline">
            <h3>"Timeline"</h3>
            <EventFeed events=feed/>
        </section>
    }
}
