//! Sentinel's Leptos application: shared wire types (`model`), server-function declarations
//! (`api`), pages and components. Compiled twice: with `ssr` into the server (which renders the
//! pages and answers server functions through the [`backend::Backend`] port), and with `hydrate`
//! into the browser's WebAssembly. Nothing here depends on the server crate.

#![recursion_limit = "512"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod codec;
pub mod components;
pub mod live;
/// The domain and wire types live in their own crate (no Leptos), shared with the engine.
pub use sentinel_model as model;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, StaticSegment,
    components::{A, Route, Router, Routes},
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/sentinel.css"/>
        <Title text="Sentinel"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"◆ Sentinel"</a>
                <nav>
                    <A href="/">"Live"</A>
                    <A href="/incidents">"Incidents"</A>
                    <A href="/changes">"Changes"</A>
                    <A href="/eval">"Evaluation"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
            </header>
            <main class="page">
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=pages::home::HomePage/>
                    <Route path=StaticSegment("incidents") view=pages::incidents::IncidentsPage/>
                    <Route path=(StaticSegment("incidents"), ParamSegment("id")) view=pages::incident::IncidentPage/>
                    <Route path=StaticSegment("changes") view=pages::changes::ChangesPage/>
                    <Route path=StaticSegment("settings") view=pages::settings::SettingsPage/>
                    <Route path=StaticSegment("eval") view=pages::eval::EvalPage/>
                </Routes>
            </main>
        </Router>
    }
}
