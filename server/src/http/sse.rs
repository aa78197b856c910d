//! Server-sent events. A subscriber first receives every persisted event after its
//! `Last-Event-ID` (or `?after=`), then live ones; the sequence number is the SSE id, so a
//! reconnecting browser misses nothing and sees nothing twice.
//!
//! Bounded: at most [`SseLimits::streams`] streams at once (more get a JSON 503), replay
//! from the log in pages of [`PAGE`] events with at most [`SseLimits::replays`] pages being
//! read at a time across all streams, and a client that stops reading for [`STALL`] is
//! disconnected (its browser reconnects with `Last-Event-ID` and replays what it missed).
//! A subscriber that falls behind the live channel catches up from the log until it is live
//! again, page after page — never a silent gap.

use super::{AppState, error::ApiError};
use app::model::RunEvent;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::Sender;
use tokio_stream::wrappers::ReceiverStream;

/// Events per replay page.
pub const PAGE: i64 = 500;
/// A client that accepts nothing for this long is disconnected.
pub const STALL: Duration = Duration::from_secs(30);

/// Shared bounds of the event streams.
pub struct SseLimits {
    pub streams: Arc<Semaphore>,
    pub replays: Arc<Semaphore>,
}

impl SseLimits {
    pub fn new(max_streams: usize, concurrent_replays: usize) -> Self {
        Self {
            streams: Arc::new(Semaphore::new(max_streams.max(1))),
            replays: Arc::new(Semaphore::new(concurrent_replays.max(1))),
        }
    }
}

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
        .max(0)
}

pub async fn all_events(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<impl IntoResponse, ApiError> {
    stream(s, None, last_id(&headers, &q))
}

pub async fn incident_events(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<impl IntoResponse, ApiError> {
    stream(s, Some(id), last_id(&headers, &q))
}

fn to_event(ev: &RunEvent) -> Event {
    Event::default()
        .id(ev.seq.to_string())
        .event("run_event")
        .data(serde_json::to_string(ev).unwrap_or_default())
}

/// Why a stream's task stopped.
enum Stop {
    ClientGone,
    Failed,
}

async fn send(tx: &Sender<Result<Event, Infallible>>, ev: &RunEvent) -> Result<(), Stop> {
    match tokio::time::timeout(STALL, tx.send(Ok(to_event(ev)))).await {
        Ok(Ok(())) => Ok(()),
        // Closed by the client, or stalled: drop the stream; the browser reconnects.
        _ => Err(Stop::ClientGone),
    }
}

/// Sends every persisted event after `*last` (page by page, one page read at a time per
/// replay permit) until the log has no more; `*last` follows what was sent.
async fn catch_up(
    s: &AppState,
    incident: Option<&str>,
    last: &mut i64,
    tx: &Sender<Result<Event, Infallible>>,
) -> Result<(), Stop> {
    loop {
        let page = {
            let _permit = s.sse.replays.acquire().await.map_err(|_| Stop::Failed)?;
            s.sentinel
                .store
                .events_after(incident, *last, PAGE)
                .await
                .map_err(|_| Stop::Failed)?
        };
        let n = page.len() as i64;
        for ev in page {
            *last = ev.seq;
            send(tx, &ev).await?;
        }
        if n < PAGE {
            return Ok(());
        }
    }
}

fn stream(
    s: AppState,
    incident: Option<String>,
    mut last: i64,
) -> Result<impl IntoResponse, ApiError> {
    let permit =
        s.sse.streams.clone().try_acquire_owned().map_err(|_| {
            ApiError::Unavailable("too many event streams open; retry shortly".into())
        })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(256);
    // Subscribe before reading the log so nothing falls between the two.
    let mut live = s.sentinel.events.subscribe();
    tokio::spawn(async move {
        let _permit = permit;
        let incident = incident.as_deref();
        let matches = |ev: &RunEvent| incident.is_none_or(|i| i == ev.incident_id);
        if catch_up(&s, incident, &mut last, &tx).await.is_err() {
            return;
        }
        loop {
            let next = tokio::select! {
                ev = live.recv() => ev,
                _ = tx.closed() => return,
            };
            match next {
                Ok(ev) => {
                    if ev.seq <= last || !matches(&ev) {
                        continue;
                    }
                    last = ev.seq;
                    if send(&tx, &ev).await.is_err() {
                        return;
                    }
                }
                // Fell behind the live channel: everything missed is in the log.
                Err(RecvError::Lagged(_)) => {
                    if let Err(Stop::ClientGone | Stop::Failed) =
                        catch_up(&s, incident, &mut last, &tx).await
                    {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}
