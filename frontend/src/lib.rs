//! Hydrate entry point: the browser loads this WebAssembly module, which attaches Leptos'
//! reactive system to the HTML the server already rendered. Nothing else lives here, so the
//! WASM build pulls only `app` with its `hydrate` feature (never tokio, sqlx or reqwest).

#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
