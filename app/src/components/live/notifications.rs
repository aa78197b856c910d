//! Who decided and who was told: the incident's approval decisions (the person, by name) and
//! every notification attempt (Slack, PagerDuty, webhook, email) with where it went and how it
//! ended, from the incident's `approval_decided` and `notified` events.

use crate::components::common::fmt_time;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn Notifications(events: Vec<RunEvent>) -> impl IntoView {
    let decisions: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::ApprovalDecided {
                outcome,
                by,
                comment,
            } => Some((e.ts, *outcome, by.clone(), comment.clone())),
            _ => None,
        })
        .collect();
    let sent: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::Notified {
                channel,
                event,
                target,
                outcome,
                attempt,
                detail,
            } => Some((
                e.ts,
                channel.clone(),
                event.clone(),
                target.clone(),
                outcome.clone(),
                *attempt,
                detail.clone(),
            )),
            _ => None,
        })
        .collect();
    view! {
        <section class="panel people" data-testid="people">
            <h3>"Decisions"</h3>
            {if decisions.is_empty() {
                view! { <p class="empty">"No decision recorded."</p> }.into_any()
            } else {
                view! {
                    <ul class="decisions" data-testid="decisions">
                        {decisions.into_iter().map(|(ts, outcome, by, comment)| view! {
                            <li>
                                <span class="badge">{outcome.as_str()}</span>
                                " by " <strong data-testid="decided-by">{by}</strong>
                                <span class="muted">{format!(" at {}", fmt_time(ts))}</span>
                                {(!comment.is_empty()).then(|| view! { <span>{format!(" — {comment}")}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <h3>"Notifications"</h3>
            {if sent.is_empty() {
                view! { <p class="empty" data-testid="no-notifications">"None sent (no channel configured, or nothing to announce yet)."</p> }.into_any()
            } else {
                view! {
                    <table class="notifications" data-testid="notifications">
                        <thead><tr><th>"When"</th><th>"Channel"</th><th>"Event"</th><th>"To"</th><th>"Outcome"</th><th>"Attempt"</th><th>"Detail"</th></tr></thead>
                        <tbody>
                            {sent.into_iter().map(|(ts, channel, event, target, outcome, attempt, detail)| {
                                let class = format!("outcome-{outcome}");
                                view! {
                                <tr class=class data-testid="notification">
                                    <td>{fmt_time(ts)}</td>
                                    <td>{channel}</td>
                                    <td class="mono">{event}</td>
                                    <td class="mono">{target}</td>
                                    <td>{outcome}</td>
                                    <td>{attempt}</td>
                                    <td class="muted">{detail}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
