//! `/eval`: the latest evaluation (summary cards, per-scenario scores with coloured cells, a
//! per-dimension bar chart, the judge's reasons) and the trend of the average across runs.

use crate::api::eval::get_eval_history;
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
    let history = Resource::new(|| (), |_| get_eval_history());
    view! {
        <section class="panel" data-testid="eval-page">
            <h1>"Evaluation"</h1>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Ok(h) if h.runs.is_empty() => view! {
                            <p class="empty" data-testid="eval-empty">"No evaluation yet. Run " <code>"sentinel eval"</code> " (or " <code>"make eval"</code> ")."</p>
                        }.into_any(),
                        Ok(h) => {
                            let latest = h.runs[0].clone();
                            view! { <EvalSummaryCards report=latest.clone()/> <TrendChart runs=h.runs.clone()/> <DimensionBars report=latest.clone()/> <ScenarioTable report=latest/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
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

#[component]
fn TrendChart(runs: Vec<EvalReport>) -> impl IntoView {
    let mut pts: Vec<(String, f64)> = runs
        .iter()
        .rev()
        .map(|r| {
            (
                r.generated_at.format("%m-%d %H:%M").to_string(),
                r.summary.avg_total_score,
            )
        })
        .collect();
    if pts.len() > 30 {
        pts = pts.split_off(pts.len() - 30);
    }
    let (w, h, pad) = (560.0, 160.0, 30.0);
    let n = pts.len().max(2) as f64 - 1.0;
    let xy: Vec<(f64, f64)> = pts
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            (
                pad + (w - 2.0 * pad) * i as f64 / n,
                h - pad - (h - 2.0 * pad) * v / 5.0,
            )
        })
        .collect();
    let line = xy
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <h3>"Trend across runs"</h3>
        <svg class="chart" viewBox=format!("0 0 {w} {h}") data-testid="trend-chart" role="img" aria-label="average score per run">
            {[0.0, 3.0, 5.0].into_iter().map(|v| {
                let y = h - pad - (h - 2.0 * pad) * v / 5.0;
                view! { <line x1=pad x2=w - pad y1=y y2=y class="grid"/> <text x="2" y=y + 4.0 class="label">{format!("{v:.0}")}</text> }
            }).collect_view()}
            <polyline points=line class="trend"/>
            {xy.iter().zip(pts.iter()).map(|((x, y), (label, v))| view! {
                <circle cx=*x cy=*y r="4" class="point"><title>{format!("{label}: {v:.2}")}</title></circle>
            }).collect_view()}
        </svg>
    }
}

#[component]
fn ScenarioTable(report: EvalReport) -> impl IntoView {
    let (open, set_open) = signal(None::<String>);
    view! {
        <h3>"Scenarios"</h3>
        <table class="table scores" data-testid="eval-table">
            <thead><tr><th>"Scenario"</th><th>"Total"</th>{DIMENSIONS.iter().map(|d| view! { <th>{d.replace('_', " ")}</th> }).collect_view()}</tr></thead>
            <tbody>
                {report.results.into_iter().map(|r| {
                    let sid = r.scenario_id.clone();
                    let sid2 = sid.clone();
                    let reasons = r.dimension_scores.clone();
                    let traj = r.trajectory.clone();
                    view! {
                        <tr class="clickable" data-testid="eval-row" on:click=move |_| set_open.update(|o| *o = if o.as_ref() == Some(&sid) { None } else { Some(sid.clone()) })>
                            <td class="mono" title=r.verdict.clone()>{r.scenario_id.clone()}{if r.harmful { " ⚠ harmful" } else if r.solved { " ✓" } else { " ✗" }}</td>
                            <td class=cell_class(r.total_score)>{format!("{:.2}", r.total_score)}</td>
                            {DIMENSIONS.iter().map(|d| {
                                let v = r.dimension_scores.iter().find(|x| x.dimension == *d).map(|x| x.score).unwrap_or(0.0);
                                view! { <td class=cell_class(v)>{format!("{v:.1}")}</td> }
                            }).collect_view()}
                        </tr>
                        <Show when=move || open.get().as_ref() == Some(&sid2)>
                            <tr class="reasons" data-testid="eval-reasons"><td colspan="8">
                                <ul>{reasons.iter().map(|d| view! { <li><b>{d.dimension.clone()}</b>{format!(" {:.2} — {} ", d.score, d.reasoning)}<span class="muted">{d.judge.clone().unwrap_or_default()}</span></li> }).collect_view()}</ul>
                                {traj.clone().map(|t| view! {
                                    <div class="eval-traj" data-testid="eval-trajectory">
                                        <p><b>"Diagnosis: "</b>{t.diagnosis.clone().unwrap_or_default()}</p>
                                        <p><b>"Action: "</b>{format!("{} {} ({})", t.action.clone().unwrap_or_default(), t.target.clone().unwrap_or_default(), t.approval.clone().unwrap_or_default())}</p>
                                        <ol class="steps">{t.steps.iter().map(|s| view! { <li class="mono">{s.clone()}</li> }).collect_view()}</ol>
                                    </div>
                                })}
                            </td></tr>
                        </Show>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
