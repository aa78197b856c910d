//! The resolution view: diagnosis, action and approval outcome, comms summary, similar past
//! incidents and pipeline stats.

use crate::components::common::fmt_duration_ms;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn Resolution(report: RunReport) -> impl IntoView {
    let diag = report.diagnosis.clone();
    let rem = report.remediation.clone();
    let triage = report.triage.clone();
    let comms = report.comms.clone();
    let t = report.trajectory.clone();
    // Why there is no diagnosis, when there is none.
    let no_diagnosis = match (
        triage.as_ref().and_then(|t| t.duplicate_of.clone()),
        t.stop_reason.clone(),
    ) {
        (Some(id), _) => Some(view! {
            <p class="empty" data-testid="no-diagnosis">
                "Not diagnosed separately: duplicate of " <a href=format!("/incidents/{id}")>{id.clone()}</a>
                ", whose investigation covers this alert."
            </p>
        }.into_any()),
        (None, Some(why)) => Some(view! { <p class="empty" data-testid="no-diagnosis">{format!("No diagnosis: {why}")}</p> }.into_any()),
        (None, None) => Some(view! { <p class="empty" data-testid="no-diagnosis">"Not diagnosed yet."</p> }.into_any()),
    };
    let no_diagnosis = if diag.is_some() { None } else { no_diagnosis };
    // Which telemetry the agents could read.
    let sources = (!report.telemetry.is_empty()).then(|| {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        view! {
            <p class="sources" data-testid="telemetry-sources">
                {format!(
                    "Telemetry consulted: {}; unavailable: {}",
                    list(&report.telemetry.consulted),
                    list(&report.telemetry.unavailable)
                )}
            </p>
        }
    });
    view! {
        <section class="resolution" data-testid="resolution">
            <div class="res-grid">
                <div class="panel">
                    <h3>"Diagnosis"</h3>
                    {no_diagnosis}
                    {sources}
                    {diag.map(|d| view! {
                        <p class="summary" data-testid="diagnosis-summary">{d.summary.clone()}</p>
                        <dl>
                            <dt>"Failure class"</dt><dd>{d.failure_class.to_string()}</dd>
                            <dt>"Culprit"</dt><dd class="mono" data-testid="culprit">{d.suspect_deploy.clone().or(d.suspect_change.clone()).unwrap_or_else(|| "none found".into())}</dd>
                            <dt>"Origin"</dt><dd>{d.origin_service.clone().unwrap_or_default()}</dd>
                            <dt>"Confidence"</dt><dd>
                                <span class="meter"><span style=format!("width:{:.0}%", d.confidence * 100.0)></span></span>
                                {format!(" {:.0}%", d.confidence * 100.0)}
                            </dd>
                        </dl>
                        <ul class="evidence">{d.evidence.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                    })}
                </div>
                <div class="panel">
                    <h3>"Action"</h3>
                    {rem.map(|r| view! {
                        <p>
                            <span class="badge action-badge" data-testid="resolution-action">{r.action.as_str()}</span>
                            " " <span class="mono">{r.target.clone().unwrap_or_default()}</span>
                        </p>
                        <dl>
                            <dt>"Approval"</dt><dd data-testid="approval-outcome">{r.approval.as_str()}</dd>
                            <dt>"Decided by"</dt><dd>{r.decided_by.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Comment"</dt><dd>{r.decision_comment.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Why"</dt><dd>{r.rationale.clone()}</dd>
                            <dt>"Risk"</dt><dd>{r.risk.clone()}</dd>
                        </dl>
                        {r.draft.clone().map(|d| view! { <details><summary>"Draft"</summary><pre>{d}</pre></details> })}
                    })}
                    <h3>"Pipeline"</h3>
                    <dl>
                        <dt>"Tool calls"</dt><dd>{t.tool_calls.len()}</dd>
                        <dt>"Model calls"</dt><dd>{t.llm_calls}</dd>
                        <dt>"Active time"</dt><dd>{fmt_duration_ms(t.elapsed_ms)}</dd>
                        {t.stop_reason.clone().map(|s| view! { <dt>"Stopped"</dt><dd>{s}</dd> })}
                        {(!t.fallbacks.is_empty()).then(|| view! { <dt>"Fell back to the built-in engine"</dt><dd data-testid="fallbacks">{t.fallbacks.join("; ")}</dd> })}
                        {(!t.truncations.is_empty()).then(|| view! { <dt>"Cut to fit a context window"</dt><dd data-testid="truncations">{t.truncations.join("; ")}</dd> })}
                        {t.usage.clone().map(|u| view! {
                            <dt>"Model usage"</dt>
                            <dd data-testid="usage">
                                {format!("{} in / {} out tokens{}", u.input_tokens, u.output_tokens,
                                    u.cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default())}
                                <ul class="usage">
                                    {u.agents.into_iter().map(|a| view! {
                                        <li>{format!("{}: {} × {} — {} in / {} out, {:.0} ms{}", a.agent.title(), a.calls, a.model,
                                            a.input_tokens, a.output_tokens, a.ms,
                                            a.cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default())}</li>
                                    }).collect_view()}
                                </ul>
                            </dd>
                        })}
                    </dl>
                </div>
                <div class="panel">
                    <h3>"Status update"</h3>
                    <pre class="comms" data-testid="comms">{comms.map(|c| c.summary).unwrap_or_else(|| "—".into())}</pre>
                    <h3>"Similar past incidents"</h3>
                    {triage.map(|t| if t.similar.is_empty() {
                        view! { <p class="empty">"none in memory yet"</p> }.into_any()
                    } else {
                        view! {
                            <ul class="similar" data-testid="similar">
                                {t.similar.into_iter().map(|s| view! {
                                    <li>
                                        <a href=format!("/incidents/{}", s.incident_id)>{s.incident_id.clone()}</a>
                                        {format!(" {:.0}% ", s.similarity * 100.0)}
                                        <span class="muted">{s.action.clone().unwrap_or_default()}" · "{s.summary.clone().unwrap_or_default()}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    })}
                </div>
            </div>
        </section>
    }
}
