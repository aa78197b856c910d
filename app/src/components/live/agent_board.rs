//! One card per agent: state, tool calls (expandable) and conclusion; plus footer counters.

use crate::components::common::{fmt_duration_ms, pretty};
use crate::live::state::{CardView, LiveState};
use crate::model::AgentRole;
use leptos::prelude::*;

pub const TOOL_CALL_CAP: usize = 15;

#[component]
pub fn AgentBoard(#[prop(into)] state: Signal<LiveState>) -> impl IntoView {
    view! {
        <div class="agent-board" data-testid="agent-board">
            {AgentRole::ALL.into_iter().map(|role| {
                let card = Signal::derive(move || state.with(|s| s.card(role).clone()));
                view! { <AgentCard card/> }
            }).collect_view()}
        </div>
    }
}

#[component]
pub fn AgentCard(card: Signal<CardView>) -> impl IntoView {
    let role = card.with_untracked(|c| c.role);
    view! {
        <article
            class=move || format!("agent-card {}", card.with(|c| c.status.class()))
            data-testid=format!("card-{}", role.as_str())
            data-status=move || card.with(|c| c.status.as_str().to_string())
        >
            <header>
                <span class="dot"></span>
                <h3>{role.title()}</h3>
                <span class="card-status">{move || card.with(|c| c.status.as_str().to_string())}</span>
            </header>
            <ul class="tool-calls">
                {move || card.with(|c| c.tool_calls.clone()).into_iter().map(|t| {
                    let ok_class = match t.ok { Some(true) => "ok", Some(false) => "err", None => "pending" };
                    view! {
                        <li class=format!("tool-call {ok_class}")>
                            <details>
                                <summary>
                                    <span class="mono">{t.tool.clone()}</span>
                                    <span class="ms">{t.ms.map(fmt_duration_ms).unwrap_or_else(|| "…".into())}</span>
                                </summary>
                                <div class="io"><b>"args"</b><pre>{pretty(&t.args, 1500)}</pre></div>
                                {t.result.map(|r| view! { <div class="io"><b>"result"</b><pre>{pretty(&r, 4000)}</pre></div> })}
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="conclusion" data-testid=format!("conclusion-{}", role.as_str())>
                {move || card.with(|c| c.conclusion.clone().or_else(|| c.detail.clone()).unwrap_or_default())}
            </p>
        </article>
    }
}

#[component]
pub fn Counters(
    #[prop(into)] state: Signal<LiveState>,
    #[prop(into)] memory_hits: Signal<usize>,
) -> impl IntoView {
    let elapsed = move || {
        state.with(|s| match (s.started_at, s.last_at) {
            (Some(a), Some(b)) => fmt_duration_ms((b - a).num_milliseconds() as f64),
            _ => "—".into(),
        })
    };
    view! {
        <footer class="counters" data-testid="counters">
            <div><b data-testid="tool-count">{move || format!("{} / {}", state.with(|s| s.tool_calls), TOOL_CALL_CAP)}</b><span>"tool calls"</span></div>
            <div><b>{elapsed}</b><span>"elapsed"</span></div>
            <div><b>{move || memory_hits.get()}</b><span>"memory hits"</span></div>
            <div><b>{move || state.with(|s| s.active())}</b><span>"agents active"</span></div>
        </footer>
    }
}
