//! One JSON reader in the browser. Server functions decode their answers with
//! `serde_json::from_slice`, while a resource's server-rendered value is decoded with
//! `from_str` by Leptos' default codec: every type a page both fetches and hydrates was then
//! compiled into the WebAssembly twice (once per reader), the largest cost in the bundle after
//! the views themselves. Resources here use [`JsonBytes`], which reads through `from_slice`
//! too, and the event stream does the same, so each type has one decoder.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON like Leptos' default resource codec, decoded through the same reader as server
/// functions' answers.
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource (server-rendered, then hydrated) decoded with [`JsonBytes`]; use it instead of
/// `Resource::new`.
#[track_caller]
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, JsonBytes>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// An island's starting state as one JSON text. Leptos decodes island props with `from_str`, a
/// second reader: islands here take a single `String` prop written by this function and
/// decode it with [`from_json`], so the props type is read through the same reader as
/// everything else.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Decodes one JSON text (an SSE message, an island's props) through the same reader.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_slice(text.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_like_the_default_codec() {
        let v = vec![Some(1.5), None];
        let s = <JsonBytes as Encoder<Vec<Option<f64>>>>::encode(&v).unwrap();
        assert_eq!(s, serde_json::to_string(&v).unwrap());
        let back: Vec<Option<f64>> = <JsonBytes as Decoder<_>>::decode(&s).unwrap();
        assert_eq!(back, v);
        assert!(<JsonBytes as Decoder<Vec<u8>>>::decode("[1,").is_err());
        assert_eq!(from_json::<u8>("7"), Some(7));
        assert_eq!(from_json::<u8>("x"), None);
    }
}
