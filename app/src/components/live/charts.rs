//! The metrics the agents read, charted: one light SVG per series from the trajectory's
//! `query_metrics` results, with the deploys and changes the investigation listed, the first
//! error and the moment the alert fired drawn as markers on the same time axis. Hovering a
//! point or a marker shows its time and value (SVG `<title>`). No chart crate: a polyline and a
//! few lines keep the bundle small.

use super::evidence::{Mark, marks};
use crate::components::common::fmt_time;
use crate::model::*;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// One series as the agents saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) service: String,
    pub(crate) metric: String,
    pub(crate) points: Vec<(DateTime<Utc>, f64)>,
}

/// Every distinct (service, metric) series in the `query_metrics` results, the fullest copy of
/// each, in first-read order.
pub(crate) fn series(events: &[RunEvent]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for result in tool_results(events, "query_metrics") {
        for s in result
            .get("series")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let text = |k: &str| {
                s.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let points: Vec<(DateTime<Utc>, f64)> = s
                .get("points")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let t = p.get(0)?.as_str()?;
                    let v = p.get(1)?.as_f64()?;
                    let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
                    v.is_finite().then_some((t, v))
                })
                .collect();
            if points.len() < 2 {
                continue;
            }
            let (service, metric) = (text("service"), text("metric"));
            match out
                .iter_mut()
                .find(|o| o.service == service && o.metric == metric)
            {
                Some(o) if o.points.len() < points.len() => o.points = points,
                Some(_) => {}
                None => out.push(Series {
                    service,
                    metric,
                    points,
                }),
            }
        }
    }
    for s in &mut out {
        s.points.sort_by_key(|p| p.0);
    }
    out
}

const W: f64 = 640.0;
const H: f64 = 150.0;
const PAD_L: f64 = 48.0;
const PAD_R: f64 = 8.0;
const PAD_T: f64 = 10.0;
const PAD_B: f64 = 22.0;
/// Points drawn per series at most (evenly thinned beyond).
const MAX_POINTS: usize = 240;

fn fmt_value(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[component]
fn Chart(s: Series, marks: Vec<Mark>, culprit: Option<String>) -> impl IntoView {
    let t0 = s.points.first().map(|p| p.0).unwrap_or_default();
    let t1 = s.points.last().map(|p| p.0).unwrap_or_default();
    let span = (t1 - t0).num_milliseconds().max(1) as f64;
    let max = s.points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let min = s
        .points
        .iter()
        .map(|p| p.1)
        .fold(f64::MAX, f64::min)
        .min(0.0);
    let range = if (max - min).abs() < f64::EPSILON {
        1.0
    } else {
        (max - min) * 1.1
    };
    let x = move |t: DateTime<Utc>| {
        PAD_L + (t - t0).num_milliseconds() as f64 / span * (W - PAD_L - PAD_R)
    };
    let y = move |v: f64| PAD_T + (1.0 - (v - min) / range) * (H - PAD_T - PAD_B);
    let step = s.points.len().div_ceil(MAX_POINTS).max(1);
    let shown: Vec<(DateTime<Utc>, f64)> = s.points.iter().step_by(step).copied().collect();
    let line = shown
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    // Markers inside the series' time range (a change long before it would squash the line).
    let inside: Vec<Mark> = marks
        .into_iter()
        .filter(|m| m.ts >= t0 && m.ts <= t1)
        .collect();
    let title = format!("{} · {}", s.service, s.metric);
    view! {
        <figure class="chart" data-testid="metric-chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=format!("{} over time", s.metric)>
                <line class="axis" x1=PAD_L y1=H - PAD_B x2=W - PAD_R y2=H - PAD_B/>
                <text class="tick" x=PAD_L - 4.0 y=y(max) text-anchor="end">{fmt_value(max)}</text>
                <text class="tick" x=PAD_L - 4.0 y=y(min) text-anchor="end">{fmt_value(min)}</text>
                <text class="tick" x=PAD_L y=H - 6.0>{fmt_time(t0)}</text>
                <text class="tick" x=W - PAD_R y=H - 6.0 text-anchor="end">{fmt_time(t1)}</text>
                {inside.into_iter().map(|m| {
                    let is_culprit = culprit.as_ref().is_some_and(|c| m.label.contains(&format!(" {c} ")));
                    let class = format!("marker {}{}", m.kind, if is_culprit { " culprit" } else { "" });
                    let mx = x(m.ts);
                    view! {
                        <g class=class data-testid="chart-marker" data-kind=m.kind>
                            <line x1=mx y1=PAD_T x2=mx y2=H - PAD_B/>
                            <title>{format!("{} — {}{}", fmt_time(m.ts), m.label, if m.detail.is_empty() { String::new() } else { format!(": {}", m.detail) })}</title>
                        </g>
                    }
                }).collect_view()}
                <polyline class="series" points=line fill="none"/>
                {shown.into_iter().map(|(t, v)| view! {
                    <circle class="point" cx=format!("{:.1}", x(t)) cy=format!("{:.1}", y(v)) r="2.5">
                        <title>{format!("{} — {}", fmt_time(t), fmt_value(v))}</title>
                    </circle>
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// The charts panel (absent when the agents read no metric series).
#[component]
pub fn MetricCharts(
    report: RunReport,
    events: Vec<RunEvent>,
    fired_at: Option<DateTime<Utc>>,
) -> impl IntoView {
    let all = series(&events);
    let list = marks(&report, &events, fired_at);
    let culprit = report
        .diagnosis
        .as_ref()
        .and_then(|d| d.suspect_deploy.clone().or(d.suspect_change.clone()));
    (!all.is_empty()).then(|| {
        view! {
            <section class="panel charts" data-testid="metric-charts">
                <h3>"Metrics the agents read"</h3>
                <p class="muted legend">
                    <span class="key change">"deploy / change"</span>
                    <span class="key culprit">"suspect"</span>
                    <span class="key first-error">"first error"</span>
                    <span class="key alert">"alert fired"</span>
                    " — hover a point or a marker for its value"
                </p>
                <div class="chart-grid">
                    {all.into_iter().map(|s| view! { <Chart s marks=list.clone() culprit=culprit.clone()/> }).collect_view()}
                </div>
            </section>
        }
    })
}
