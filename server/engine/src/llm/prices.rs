//! What a model call costs: USD per million input and output tokens, from the configuration's
//! `[prices."<provider/model>"]` table, else the defaults below (list prices of the common
//! hosted models; local servers cost nothing). An unknown model has no price: its usage is
//! counted, its cost is left out rather than guessed.

use serde::Deserialize;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_mtok + output_tokens as f64 * self.output_per_mtok)
            / 1_000_000.0
    }
}

/// The default price of a `provider/model` string, if it is a known one.
pub fn default_price(model: &str) -> Option<Price> {
    let m = model.to_ascii_lowercase();
    let p = |i: f64, o: f64| {
        Some(Price {
            input_per_mtok: i,
            output_per_mtok: o,
        })
    };
    let (provider, name) = m.split_once('/')?;
    match provider {
        "ollama" | "openai-compatible" | "builtin" => p(0.0, 0.0),
        _ if name.starts_with("gpt-4o-mini") => p(0.15, 0.60),
        _ if name.starts_with("gpt-4o") => p(2.50, 10.0),
        _ if name.starts_with("gpt-4.1-mini") => p(0.40, 1.60),
        _ if name.starts_with("gpt-4.1") => p(2.0, 8.0),
        _ if name.starts_with("claude-haiku") || name.starts_with("claude-3-5-haiku") => {
            p(0.80, 4.0)
        }
        _ if name.starts_with("claude-sonnet") || name.starts_with("claude-3-5-sonnet") => {
            p(3.0, 15.0)
        }
        _ if name.starts_with("claude-opus") => p(15.0, 75.0),
        "groq" if name.starts_with("llama-3.3-70b") => p(0.59, 0.79),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_models_have_prices_and_local_ones_are_free() {
        let p = default_price("openai/gpt-4o-mini").unwrap();
        assert!((p.cost(1_000_000, 1_000_000) - 0.75).abs() < 1e-9);
        assert_eq!(
            default_price("ollama/llama3.1").unwrap().cost(5000, 5000),
            0.0
        );
        assert_eq!(default_price("acme/unknown-model"), None);
        assert_eq!(default_price("not a model string"), None);
    }
}
