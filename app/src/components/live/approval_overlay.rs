//! The human-approval overlay: action, risk, evidence, proposer; Approve, or Reject with a
//! required comment. The decision goes to the server; the overlay closes when the
//! `approval_decided` event arrives (on every open dashboard).

use crate::api::incidents::decide_approval;
use crate::model::ApprovalRequest;
use leptos::prelude::*;

#[component]
pub fn ApprovalOverlay(
    #[prop(into)] pending: Signal<Option<ApprovalRequest>>,
    #[prop(into)] logged_in: Signal<bool>,
) -> impl IntoView {
    let (comment, set_comment) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    // "Decide later" hides the overlay for this approval only, on this page.
    let (deferred, set_deferred) = signal(None::<String>);
    let visible = move || {
        pending.with(|p| {
            p.as_ref()
                .is_some_and(|p| deferred.with(|d| d.as_ref() != Some(&p.approval_id)))
        })
    };
    let send = move |decision: &'static str| {
        let Some(p) = pending.get_untracked() else {
            return;
        };
        set_busy.set(true);
        set_error.set(None);
        let c = comment.get_untracked();
        leptos::task::spawn_local(async move {
            match decide_approval(p.incident_id.clone(), decision.to_string(), c).await {
                Ok(_) => set_comment.set(String::new()),
                Err(e) => set_error.set(Some(
                    e.to_string().replace("error running server function: ", ""),
                )),
            }
            set_busy.set(false);
        });
    };
    view! {
        <Show when=visible>
            {move || pending.get().map(|p| view! {
                <div class="overlay" data-testid="approval-overlay" role="dialog" aria-modal="true">
                    <div class="modal">
                        <h2>"Approval needed"</h2>
                        <p class="action">
                            <span class="badge action-badge" data-testid="approval-action">{p.action.as_str()}</span>
                            " "
                            <span class="mono" data-testid="approval-target">{p.target.clone().unwrap_or_default()}</span>
                        </p>
                        <dl>
                            <dt>"Risk"</dt><dd>{p.risk.clone()}</dd>
                            <dt>"Proposed by"</dt><dd>{p.proposer.clone()}</dd>
                            <dt>"Deadline"</dt><dd>{crate::components::common::fmt_time(p.expires_at)}</dd>
                        </dl>
                        <h4>"Evidence"</h4>
                        <ul class="evidence">{p.evidence.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                        <Show when=move || !logged_in.get()>
                            <p class="hint" data-testid="login-hint">"Only the operator may decide. Log in with the link printed when the server started (/login?token=…)."</p>
                        </Show>
                        <textarea
                            data-testid="approval-comment"
                            placeholder="Comment (required to reject)"
                            prop:value=comment
                            on:input=move |ev| set_comment.set(event_target_value(&ev))
                        ></textarea>
                        {move || error.get().map(|e| view! { <p class="error" data-testid="approval-error">{e}</p> })}
                        <div class="buttons">
                            <button class="later" data-testid="later" on:click=move |_| set_deferred.set(pending.get_untracked().map(|p| p.approval_id))>"Decide later"</button>
                            <span class="spacer"></span>
                            <button class="approve" data-testid="approve" disabled=move || busy.get() on:click=move |_| send("approve")>"Approve"</button>
                            <button
                                class="reject"
                                data-testid="reject"
                                disabled=move || busy.get() || comment.with(|c| c.trim().is_empty())
                                on:click=move |_| send("reject")
                            >"Reject"</button>
                        </div>
                    </div>
                </div>
            })}
        </Show>
    }
}
