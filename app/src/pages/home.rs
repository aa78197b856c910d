//! `/`: the live incident view. The server renders it from a snapshot; the board itself is an
//! island (the one large piece of WebAssembly), kept current by the SSE stream, which resumes
//! after the snapshot's last event, so nothing is lost or doubled.

use crate::api::incidents::{ResolutionFragment, get_live_snapshot, get_resolution};
use crate::api::scenarios::{fire_scenario, list_scenarios};
use crate::api::session::session_status;
use crate::components::common::{SeverityBadge, StatusBadge};
use crate::components::live::{AgentBoard, ApprovalOverlay, Counters, EventFeed};
use crate::live::state::LiveState;
use crate::model::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let pin = move || query.with(|q| q.get("incident"));
    let snapshot = crate::codec::resource(pin, get_live_snapshot);
    let scenarios = crate::codec::resource(|| (), |_| list_scenarios());
    let session = crate::codec::resource(|| (), |_| session_status());
    view! {
        <div class="live">
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = scenarios.await.unwrap_or_default();
                    let logged_in = session.await.unwrap_or(false);
                    match snapshot.await {
                        Ok(snap) => {
                            let start = LiveStart::new(snap, list, logged_in, pin().is_some());
                            view! { <LiveDashboard start=crate::codec::to_json(&start)/> }.into_any()
                        }
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// What the live board starts from: the snapshot cut down to what the board shows (the browser
/// never decodes a whole incident record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStart {
    events: Vec<RunEvent>,
    current: Option<String>,
    severity: Option<Priority>,
    /// The resolution of the shown incident when it had already finished (so server render
    /// and hydration agree); a live one's is fetched when it finishes.
    resolution: Option<ResolutionFragment>,
    memory_hits: usize,
    scenarios: Vec<ScenarioSummary>,
    logged_in: bool,
    pinned: bool,
    last_seq: i64,
}

impl LiveStart {
    fn new(
        snap: crate::api::incidents::LiveSnapshot,
        scenarios: Vec<ScenarioSummary>,
        logged_in: bool,
        pinned: bool,
    ) -> Self {
        let detail = snap.incident.as_ref();
        Self {
            current: detail.map(|d| d.summary.incident_id.clone()),
            severity: detail.and_then(|d| d.summary.severity),
            resolution: detail
                .filter(|d| d.summary.status.is_terminal())
                .map(|d| ResolutionFragment::render(d.report.clone())),
            memory_hits: detail
                .and_then(|d| d.report.triage.as_ref().map(|t| t.similar.len()))
                .unwrap_or(0),
            events: snap.events,
            scenarios,
            logged_in,
            pinned,
            last_seq: snap.last_seq,
        }
    }
}

/// The live board: scenario toolbar, incident header, agent cards, counters, resolution, feed
/// and the approval overlay. `start` is a [`LiveStart`] as JSON (see `codec::to_json`).
#[island]
fn LiveDashboard(start: String) -> impl IntoView {
    let Some(start) = crate::codec::from_json::<LiveStart>(&start) else {
        return view! { <p class="error">"The live board could not read its starting state."</p> }
            .into_any();
    };
    let LiveStart {
        events,
        current,
        severity,
        resolution,
        memory_hits,
        scenarios,
        logged_in,
        pinned,
        last_seq,
    } = start;
    // Every event received since the page loaded, plus the snapshot's.
    let all_events = RwSignal::new(events);
    let current = RwSignal::new(current);
    let state = Memo::new(move |_| {
        let id = current.get();
        all_events.with(|evs| {
            LiveState::from_events(evs.iter().filter(|e| Some(&e.incident_id) == id.as_ref()))
        })
    });
    // The snapshot's severity while its incident is shown; a newer incident's comes from triage.
    let severity = RwSignal::new(severity);
    let finished = Memo::new(move |_| state.with(|s| s.finished));
    let resolution = RwSignal::new(resolution);
    let start_hits = memory_hits;
    Effect::new(move |_| {
        let (id, done) = (current.get(), finished.get());
        let have = resolution.with_untracked(|r| r.as_ref().map(|r| r.incident_id.clone()));
        match (id, done) {
            (Some(id), true) if have.as_ref() != Some(&id) => {
                leptos::task::spawn_local(async move {
                    if let Ok(r) = get_resolution(id.clone()).await
                        && current.get_untracked().as_ref() == Some(&id)
                    {
                        resolution.set(Some(r));
                    }
                });
            }
            (Some(id), false) if have.as_ref() == Some(&id) => {}
            (_, false) => resolution.set(None),
            _ => {}
        }
    });
    let memory_hits = Signal::derive(move || {
        resolution
            .with(|r| r.as_ref().map(|r| r.memory_hits))
            .unwrap_or(start_hits)
    });
    // Set once this component (and so its buttons) is live in the browser.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let follow_new = !pinned;
    // Live updates (browser only).
    Effect::new(move |_| {
        let url = format!("/api/events?after={last_seq}");
        let handle = crate::live::stream::follow(&url, move |ev: RunEvent| {
            if follow_new && matches!(ev.kind, RunEventKind::IncidentOpened { .. }) {
                current.set(Some(ev.incident_id.clone()));
                severity.set(None);
            }
            all_events.update(|v| {
                if !v.iter().any(|e| e.seq == ev.seq) {
                    v.push(ev);
                }
            });
        });
        let handle = StoredValue::new_local(handle);
        on_cleanup(move || handle.update_value(|h| *h = None));
    });
    let (selected, set_selected) =
        signal(scenarios.first().map(|s| s.id.clone()).unwrap_or_default());
    let (fire_error, set_fire_error) = signal(None::<String>);
    let fire = move |_| {
        let id = selected.get_untracked();
        set_fire_error.set(None);
        leptos::task::spawn_local(async move {
            match fire_scenario(id).await {
                Ok(incident) => {
                    if current.get_untracked().as_ref() != Some(&incident) {
                        current.set(Some(incident));
                        severity.set(None);
                    }
                }
                Err(e) => set_fire_error.set(Some(e.to_string())),
            }
        });
    };
    let feed = Signal::derive(move || state.with(|s| s.feed.clone()));
    let pending = Signal::derive(move || state.with(|s| s.pending.clone()));
    view! {
        <section class="toolbar panel" data-testid="hydrated" data-hydrated=move || hydrated.get().to_string()>
            <label for="scenario-select">"Scenario"</label>
            <select id="scenario-select" data-testid="scenario-select" on:change=move |ev| set_selected.set(event_target_value(&ev))>
                {scenarios.iter().map(|s| view! {
                    <option value=s.id.clone() selected=s.id == selected.get_untracked()>{format!("{} — {} ({})", s.id, s.service, s.failure_class)}</option>
                }).collect_view()}
            </select>
            // Firing runs agents: an operator act (the server refuses it without a session).
            <button class="primary" data-testid="fire" on:click=fire disabled=!logged_in
                title=if logged_in { "Open an incident for this scenario" } else { "Log in as the operator to fire scenarios" }>
                "Fire scenario"
            </button>
            {move || fire_error.get().map(|e| view! { <span class="error">{e}</span> })}
            <span class="spacer"></span>
            <span class=move || if logged_in { "muted" } else { "muted warn" } data-testid="session">
                {if logged_in { "operator session" } else { "read-only (log in to fire scenarios and approve)" }}
            </span>
        </section>
        <section class="incident-header panel" data-testid="incident-header">
            {move || match current.get() {
                None => view! { <p class="empty" data-testid="no-incident">"No incident yet. Fire a scenario or send an alert to /webhooks/alert."</p> }.into_any(),
                Some(id) => {
                    let s = state.get();
                    let sev = severity.get()
                        .or_else(|| s.cards.iter().find(|c| c.role == AgentRole::Triage).and_then(|c| c.conclusion.as_ref()).and_then(|c| ["P1","P2","P3","P4"].iter().find(|p| c.contains(*p)).and_then(|p| Priority::parse(p).ok())));
                    view! {
                        <div class="ih-main">
                            <a class="mono" data-testid="incident-id" href=format!("/incidents/{id}")>{id.clone()}</a>
                            <h2>{s.title.clone().unwrap_or_default()}</h2>
                        </div>
                        <div class="ih-meta">
                            <span>{s.service.clone().unwrap_or_default()}</span>
                            <SeverityBadge severity=sev/>
                            <StatusBadge status=s.status/>
                        </div>
                    }.into_any()
                }
            }}
        </section>
        <AgentBoard state/>
        <Counters state memory_hits/>
        // Rendered on the server (`get_resolution`): the report never reaches the browser.
        {move || resolution.get().map(|r| view! { <div class="fragment" inner_html=r.html></div> })}
        <section class="panel">
            <h3>"Event feed"</h3>
            <EventFeed events=feed/>
        </section>
        <ApprovalOverlay pending logged_in=Signal::derive(move || logged_in)/>
    }
    .into_any()
}
