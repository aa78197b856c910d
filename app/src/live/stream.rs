//! Following the server's SSE stream in the browser. `EventSource` reconnects on its own and
//! sends `Last-Event-ID`, so the server replays whatever was missed. On the server (SSR) this
//! is a no-op.

use crate::model::RunEvent;

/// Subscribes to `url` and calls `on_event` for each run event. Returns a handle that closes
/// the stream when dropped (browser only).
#[cfg(feature = "hydrate")]
pub fn follow(url: &str, on_event: impl Fn(RunEvent) + 'static) -> Option<StreamHandle> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let es = web_sys::EventSource::new(url).ok()?;
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
        if let Some(ev) = m
            .data()
            .as_string()
            .and_then(|t| crate::codec::from_json::<RunEvent>(&t))
        {
            on_event(ev);
        }
    });
    es.add_event_listener_with_callback("run_event", cb.as_ref().unchecked_ref())
        .ok()?;
    Some(StreamHandle { es, _cb: cb })
}

#[cfg(feature = "hydrate")]
pub struct StreamHandle {
    es: web_sys::EventSource,
    _cb: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

#[cfg(feature = "hydrate")]
impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.es.close();
    }
}

#[cfg(not(feature = "hydrate"))]
pub struct StreamHandle;

#[cfg(not(feature = "hydrate"))]
pub fn follow(_url: &str, _on_event: impl Fn(RunEvent) + 'static) -> Option<StreamHandle> {
    None
}
