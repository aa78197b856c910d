//! Hydrate entry point: the browser loads this WebAssembly module, which brings the page's
//! islands (the `#[island]` components of `app`) to life on top of the HTML the server already
//! rendered; everything else on a page stays plain HTML. Nothing else lives here, so the WASM
//! build pulls only `app` with its `hydrate` feature (never tokio, sqlx or reqwest).

#![recursion_limit = "512"]

// Links `app`, whose islands export their hydrate functions to the page's loader script.
#[allow(clippy::single_component_path_imports, unused_imports)]
use app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
