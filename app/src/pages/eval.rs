//! `/eval`: solved and harmful per suite first, then the history of runs, the latest run's
//! summary, per-dimension bars and per-scenario rows that open their trajectories. An operator
//! starts an evaluation of the configured suites here and watches it run (the page polls
//! `get_eval_status` once a second while one runs, then reloads the history).

use crate::api::eval::{get_eval_history, get_eval_status, start_eval};
use crate::api::session::session_status;
use crate::model::*;
use leptos::prelude::*;

fn cell_class(score: f64) -> &'static str {
    if score >= 4.0 {
        "good"
    } else if score >= 3.0 {
        "fair"
    } else {
        "poor"
    }
}

#[component]
pub fn EvalPage() -> impl IntoView {
    let history = crate::codec::resource(|| (), |_| get_eval_history());
    let status = crate::codec::resource(|| (), |_| get_eval_status());
    let session = crate::codec::resource(|| (), |_| session_status());
    view! {
        <section class="panel" data-testid="eval-page">
            <h1>"Evaluation"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let st = status.await.unwrap_or_default();
                    let logged_in = session.await.unwrap_or(false);
                    view! { <RunPanel status=crate::codec::to_json(&st) logged_in/> }
                })}
            </Suspense>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Ok(h) if h.runs.is_empty() => view! {
                            <p class="empty" data-testid="eval-empty">"No evaluation yet. Run one here, or " <code>"sentinel eval"</code> " (or " <code>"make eval"</code> ")."</p>
                        }.into_any(),
                        Ok(h) => {
                            let latest = h.runs[0].clone();
                            view! { <EvalSummaryCards report=latest.clone()/> <HistoryChart runs=h.runs.clone()/> <DimensionBars report=latest.clone()/> <ScenarioTable report=latest/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Starting an evaluation and watching it: suite choice, the Run button, a progress bar and
/// the scenarios finished so far. An island; `status` is an [`EvalStatus`] as JSON (see
/// `codec::to_json`). When a run it watched ends, the page reloads, so the server renders the
/// history with the new run.
#[island]
fn RunPanel(status: String, logged_in: bool) -> impl IntoView {
    let status: EvalStatus = crate::codec::from_json(&status).unwrap_or_default();
    let progress = RwSignal::new(status.current.clone());
    let chosen = RwSignal::new(status.suites.clone());
    let error = RwSignal::new(None::<String>);
    // A start request is on its way (the button waits for its answer).
    let starting = RwSignal::new(false);
    let running = Memo::new(move |_| {
        progress.with(|p| p.as_ref().is_some_and(|p| p.state == EvalJobState::Running))
    });
    // While one runs, ask for its progress every second (one request at a time); when it
    // ends, reload the history once.
    let polling = StoredValue::new(false);
    Effect::new(move |_| {
        if !running.get() {
            return;
        }
        let handle = set_interval_with_handle(
            move || {
                if polling.try_get_value() != Some(false) {
                    return;
                }
                polling.set_value(true);
                leptos::task::spawn_local(async move {
                    let answer = get_eval_status().await;
                    polling.try_set_value(false);
                    let Ok(st) = answer else { return };
                    // An answer older than what the page shows (same run, fewer done) is
                    // dropped; the run's end is acted on once, on the change.
                    let Some(was) = progress.try_get_untracked() else { return };
                    let stale = matches!((&was, &st.current), (Some(a), Some(b))
                        if a.id == b.id && (b.done < a.done || (a.state != EvalJobState::Running && b.state == EvalJobState::Running)));
                    if stale {
                        return;
                    }
                    let was_running = was.is_some_and(|p| p.state == EvalJobState::Running);
                    let ended = st
                        .current
                        .as_ref()
                        .is_some_and(|p| p.state != EvalJobState::Running);
                    progress.try_set(st.current);
                    if was_running && ended {
                        reload_page();
                    }
                });
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    let start = move |_| {
        if starting.get_untracked() {
            return;
        }
        let suites = chosen.get_untracked();
        error.set(None);
        starting.set(true);
        leptos::task::spawn_local(async move {
            let answer = start_eval(suites).await;
            starting.try_set(false);
            match answer {
                Ok(p) => {
                    progress.try_set(Some(p));
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
        });
    };
    let suites = status.suites.clone();
    // Set once the panel (and so its button) is live in the browser.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <div class="run-eval" data-testid="eval-run-panel" data-hydrated=move || hydrated.get().to_string()>
            <div class="suite-choice">
                {suites.into_iter().map(|name| {
                    let n1 = name.clone();
                    let n2 = name.clone();
                    view! {
                        <label>
                            <input type="checkbox" data-testid="eval-suite-choice" value=name.clone()
                                prop:checked=move || chosen.with(|c| c.contains(&n1))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| x != &n2);
                                        if on { c.push(n2.clone()); }
                                    });
                                }/>
                            " " {name}
                        </label>
                    }
                }).collect_view()}
            </div>
            <button class="btn" data-testid="eval-start"
                disabled=move || !logged_in || running.get() || starting.get() || chosen.with(Vec::is_empty)
                title=move || if logged_in { "Run the chosen suites now (each scenario in its own database)" } else { "Log in as an operator to start an evaluation" }
                on:click=start>
                {move || if running.get() { "Running…" } else { "Run evaluation" }}
            </button>
            {(!logged_in).then(|| view! { <span class="muted">" Log in as an operator to start an evaluation."</span> })}
            {move || error.get().map(|e| view! { <p class="error" data-testid="eval-start-error">{e}</p> })}
            {move || progress.get().map(|p| view! { <EvalProgressView p/> })}
        </div>
    }
}

/// Reloads the page (browser only).
fn reload_page() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

#[component]
fn EvalProgressView(p: EvalProgress) -> impl IntoView {
    let state = match p.state {
        EvalJobState::Running => "running",
        EvalJobState::Finished => "finished",
        EvalJobState::Failed => "failed",
    };
    view! {
        <div class="eval-progress" data-testid="eval-progress" data-state=state>
            <progress max=p.total.max(1) value=p.done></progress>
            <span data-testid="eval-progress-count">{format!(" {}/{} ", p.done, p.total)}</span>
            <span>{format!("{state} · solved {} · harmful {}", p.solved, p.harmful)}</span>
            {(p.errors > 0).then(|| view! { <span class="poor">{format!(" · {} run(s) failed", p.errors)}</span> })}
            <span class="muted">{format!(" · {} by {} at {}", p.suites.join(", "), p.started_by, crate::components::common::fmt_clock(p.started_at))}</span>
            {p.error.map(|e| view! { <p class="error">{e}</p> })}
            <ul class="recent">
                {p.recent.into_iter().rev().map(|l| view! {
                    <li class="mono" title=l.verdict.clone()>
                        {if l.harmful { "⚠ " } else if l.solved { "✓ " } else { "✗ " }}
                        {format!("{}/{} {:.2}", l.suite, l.scenario_id, l.total_score)}
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn EvalSummaryCards(report: EvalReport) -> impl IntoView {
    let s = report.summary;
    let suites = s.suites.clone();
    view! {
        <div class="cards" data-testid="eval-summary">
            <div class="stat"><b data-testid="eval-solved">{format!("{}/{}", s.solved, s.scenarios_run)}</b><span>"solved"</span></div>
            <div class="stat"><b data-testid="eval-harmful" class={if s.harmful > 0 { "poor" } else { "good" }}>{s.harmful}</b><span>"harmful"</span></div>
            <div class="stat"><b data-testid="eval-avg">{format!("{:.2}", s.avg_total_score)}</b><span>"average / 5"</span></div>
            <div class="stat"><b data-testid="eval-pass-rate">{format!("{:.0}%", s.pass_rate * 100.0)}</b><span>"pass rate (≥ " {format!("{:.1}", s.pass_threshold)} ")"</span></div>
            <div class="stat"><b>{s.scenarios_run}</b><span>"scenarios"</span></div>
            <div class="stat"><b class="small">{s.judge_model}</b><span>"judge"</span></div>
        </div>
        {(!suites.is_empty()).then(|| view! {
            <table class="table" data-testid="eval-suites">
                <thead><tr><th>"Suite"</th><th>"Scenarios"</th><th>"Solved"</th><th>"Harmful"</th><th>"Average"</th></tr></thead>
                <tbody>
                    {suites.into_iter().map(|x| view! {
                        <tr data-testid="eval-suite-row">
                            <td>{x.suite}</td>
                            <td>{x.scenarios}</td>
                            <td class={if x.solved == x.scenarios { "good" } else { "fair" }}>{x.solved}</td>
                            <td class={if x.harmful > 0 { "poor" } else { "good" }}>{x.harmful}</td>
                            <td>{format!("{:.2}", x.avg_total_score)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

#[component]
fn DimensionBars(report: EvalReport) -> impl IntoView {
    let w = 560.0;
    let row = 30.0;
    let h = row * report.dimension_stats.len() as f64 + 10.0;
    view! {
        <h3>"Per dimension (average of 5)"</h3>
        <svg class="chart" viewBox=format!("0 0 {w} {h}") data-testid="dimension-chart" role="img" aria-label="average score per dimension">
            {report.dimension_stats.iter().enumerate().map(|(i, d)| {
                let y = i as f64 * row + 5.0;
                let bw = (d.avg_score / 5.0) * (w - 230.0);
                view! {
                    <text x="0" y=y + 17.0 class="label">{d.dimension.clone()}</text>
                    <rect x="180" y=y width=w - 230.0 height="20" class="track"/>
                    <rect x="180" y=y width=bw height="20" class=format!("bar {}", cell_class(d.avg_score))/>
                    <text x=185.0 + bw y=y + 15.0 class="value">{format!("{:.2}", d.avg_score)}</text>
                }
            }).collect_view()}
        </svg>
    }
}

/// The runs (oldest left, at most 30): a bar per run, its height the share solved, harmful
/// runs marked red; hover gives the figures per suite.
#[component]
fn HistoryChart(runs: Vec<EvalReport>) -> impl IntoView {
    let mut runs: Vec<EvalReport> = runs.into_iter().rev().collect();
    if runs.len() > 30 {
        runs = runs.split_off(runs.len() - 30);
    }
    let (w, h, pad) = (560.0, 170.0, 30.0);
    let slot = (w - 2.0 * pad) / runs.len().max(1) as f64;
    let bw = (slot * 0.7).min(40.0);
    let y_of = |share: f64| h - pad - (h - 2.0 * pad) * share;
    view! {
        <h3>"History of runs (share solved; red: harmful actions)"</h3>
        <svg class="chart" viewBox=format!("0 0 {w} {h}") data-testid="history-chart" role="img" aria-label="share of scenarios solved per run">
            {[0.0, 0.5, 1.0].into_iter().map(|v| {
                let y = y_of(v);
                view! { <line x1=pad x2=w - pad y1=y y2=y class="grid"/> <text x="0" y=y + 4.0 class="label">{format!("{:.0}%", v * 100.0)}</text> }
            }).collect_view()}
            {runs.iter().enumerate().map(|(i, r)| {
                let s = &r.summary;
                let share = s.solved as f64 / s.scenarios_run.max(1) as f64;
                let x = pad + slot * i as f64 + (slot - bw) / 2.0;
                let y = y_of(share);
                let mut tip = format!(
                    "{}: solved {}/{}, harmful {}",
                    r.generated_at.format("%m-%d %H:%M"), s.solved, s.scenarios_run, s.harmful
                );
                for x in &s.suites {
                    tip.push_str(&format!("\n{}: {}/{} solved, {} harmful", x.suite, x.solved, x.scenarios, x.harmful));
                }
                let class = if s.harmful > 0 { "bar poor" } else if s.solved == s.scenarios_run { "bar good" } else { "bar fair" };
                view! {
                    <rect x=x y=y width=bw height=(h - pad - y).max(1.0) class=class data-testid="history-bar">
                        <title>{tip}</title>
                    </rect>
                    {(s.harmful > 0).then(|| view! { <text x=x + bw / 2.0 y=y - 4.0 class="value harmful" text-anchor="middle">{format!("⚠{}", s.harmful)}</text> })}
                }
            }).collect_view()}
        </svg>
    }
}

/// The scenario rows; a click on one shows or hides its judge's reasons and trajectory (the
/// row after it, rendered hidden).
#[component]
fn ScenarioTable(report: EvalReport) -> impl IntoView {
    view! {
        <h3>"Scenarios"</h3>
        <ToggleRows>
        <table class="table scores" data-testid="eval-table">
            <thead><tr><th>"Scenario"</th><th>"Total"</th>{DIMENSIONS.iter().map(|d| view! { <th>{d.replace('_', " ")}</th> }).collect_view()}</tr></thead>
            <tbody>
                {report.results.into_iter().map(|r| {
                    let reasons = r.dimension_scores.clone();
                    let traj = r.trajectory.clone();
                    view! {
                        <tr class="clickable" data-testid="eval-row" data-toggles="next">
                            <td class="mono" title=r.verdict.clone()>{r.scenario_id.clone()}{if r.harmful { " ⚠ harmful" } else if r.solved { " ✓" } else { " ✗" }}</td>
                            <td class=cell_class(r.total_score)>{format!("{:.2}", r.total_score)}</td>
                            {DIMENSIONS.iter().map(|d| {
                                let v = r.dimension_scores.iter().find(|x| x.dimension == *d).map(|x| x.score).unwrap_or(0.0);
                                view! { <td class=cell_class(v)>{format!("{v:.1}")}</td> }
                            }).collect_view()}
                        </tr>
                        <tr class="reasons" data-testid="eval-reasons" hidden><td colspan="8">
                            <ul>{reasons.iter().map(|d| view! { <li><b>{d.dimension.clone()}</b>{format!(" {:.2} — {} ", d.score, d.reasoning)}<span class="muted">{d.judge.clone().unwrap_or_default()}</span></li> }).collect_view()}</ul>
                            {traj.map(|t| view! {
                                <div class="eval-traj" data-testid="eval-trajectory">
                                    <p><b>"Diagnosis: "</b>{t.diagnosis.clone().unwrap_or_default()}</p>
                                    <p><b>"Action: "</b>{format!("{} {} ({})", t.action.clone().unwrap_or_default(), t.target.clone().unwrap_or_default(), t.approval.clone().unwrap_or_default())}</p>
                                    <ol class="steps">{t.steps.iter().map(|s| view! { <li class="mono">{s.clone()}</li> }).collect_view()}</ol>
                                </div>
                            })}
                        </td></tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </ToggleRows>
    }
}

/// Event delegation for server-rendered rows: a click inside a row marked `data-toggles`
/// shows or hides the row after it. A tiny island, so the table itself stays HTML.
#[island]
fn ToggleRows(children: Children) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let toggle = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let row = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|t| t.closest("tr[data-toggles]").ok().flatten());
            if let Some(next) = row.and_then(|r| r.next_element_sibling()) {
                let _ = next.toggle_attribute("hidden");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="toggle-rows" data-testid="toggle-rows" data-hydrated=move || hydrated.get().to_string() on:click=toggle>
            {children()}
        </div>
    }
}
