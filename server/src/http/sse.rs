//! Server-sent events. A subscriber first receives every persisted event after its
//! `Last-Event-ID` (or `?after=`), then live ones; the sequence number is the SSE id, so a
//! reconnecting browser misses nothing and sees nothing twice.

use super::AppState;
use app::model::RunEvent;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;

#[derive(serde::Deserialize)]
pub struct After {
    after: Option<i64>,
}

fn last_id(headers: &HeaderMap, q: &After) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(q.after)
        .unwrap_or(0)
}

pub async fn all_events(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    stream(s, None, last_id(&headers, &q))
}

pub async fn incident_events(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    stream(s, Some(id), last_id(&headers, &q))
}

fn to_event(ev: &RunEvent) -> Event {
    Event::default()
        .id(ev.seq.to_string())
        .event("run_event")
        .data(serde_json::to_string(ev).unwrap_or_default())
}

fn stream(
    s: AppState,
    incident: Option<String>,
    mut last: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(256);
    // Subscribe before reading the log so nothing falls between the two.
    let mut live = s.sentinel.events.subscribe();
    let store = s.sentinel.store.clone();
    tokio::spawn(async move {
        let matches = |ev: &RunEvent| incident.as_deref().is_none_or(|i| i == ev.incident_id);
        // Replay from the log (in pages), then follow the live channel.
        loop {
            let page = match store.events_after(incident.as_deref(), last, 500).await {
                Ok(p) => p,
                Err(_) => return,
            };
            let n = page.len();
            for ev in page {
                last = ev.seq;
                if tx.send(Ok(to_event(&ev))).await.is_err() {
                    return;
                }
            }
            if n < 500 {
                break;
            }
        }
        loop {
            match live.recv().await {
                Ok(ev) => {
                    if ev.seq <= last || !matches(&ev) {
                        continue;
                    }
                    last = ev.seq;
                    if tx.send(Ok(to_event(&ev))).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Fell behind: catch up from the log.
                    let Ok(page) = store.events_after(incident.as_deref(), last, 10_000).await
                    else {
                        return;
                    };
                    for ev in page {
                        last = ev.seq;
                        if tx.send(Ok(to_event(&ev))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}
