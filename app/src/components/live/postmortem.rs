//! The postmortem draft on the incident page: the Markdown `sentinel_model::postmortem` writes
//! from the incident's record and log, with Copy and Download (`postmortem-<id>.md`). The text
//! is built on the server; only the Copy button is an island.

use crate::model::*;
use leptos::prelude::*;

/// `text` as a `data:` URL (every byte outside the unreserved set percent-encoded).
fn data_url(text: &str) -> String {
    let mut out = String::from("data:text/markdown;charset=utf-8,");
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
pub fn Postmortem(detail: IncidentDetail, events: Vec<RunEvent>) -> impl IntoView {
    let text = postmortem(&detail, &events);
    let href = data_url(&text);
    let file = format!("postmortem-{}.md", detail.summary.incident_id);
    view! {
        <section class="panel postmortem" data-testid="postmortem">
            <h3>"Postmortem draft"</h3>
            <div class="postmortem-actions">
                <a class="button" href=href download=file data-testid="postmortem-download">"Download .md"</a>
                " "
                <CopyButton text=text.clone()/>
            </div>
            <details>
                <summary>"Show the draft"</summary>
                <pre class="postmortem-text" data-testid="postmortem-text">{text}</pre>
            </details>
        </section>
    }
}

/// Copies `text` to the clipboard (an island: the only part of the draft that needs the
/// browser).
#[island]
fn CopyButton(text: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
            set_copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&text, set_copied);
    };
    view! {
        <button on:click=copy data-testid="postmortem-copy">{move || if copied.get() { "Copied" } else { "Copy" }}</button>
    }
}
