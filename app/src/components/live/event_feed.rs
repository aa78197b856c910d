//! The live event feed (newest at the bottom).

use crate::model::RunEvent;
use leptos::prelude::*;

#[component]
pub fn EventFeed(#[prop(into)] events: Signal<Vec<RunEvent>>) -> impl IntoView {
    view! {
        <ol class="feed" data-testid="event-feed">
            <For
                each=move || events.get()
                key=|e| e.seq
                children=|e| view! {
                    <li class=format!("feed-item kind-{}", e.kind.name()) data-seq=e.seq>
                        <time>{crate::components::common::fmt_clock_ms(e.ts)}</time>
                        <span class="who">{e.agent.title()}</span>
                        <span class="what">{e.kind.describe()}</span>
                    </li>
                }
            />
        </ol>
    }
}
