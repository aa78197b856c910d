//! `POST /webhooks/grafana`: Grafana unified alerting's webhook contact point.
//!
//! Grafana sends Alertmanager's grouped shape plus its own fields (`orgId`, `state`, `title`,
//! `message`, per-alert `values`, `dashboardURL`, …), so this reuses the Alertmanager
//! normaliser with the `grafana` source; the current value falls back to the rule's values.

use super::alertmanager::{Payload, normalise_as};
use super::{IngestError, NormalisedAlert};

/// Parses and normalises a Grafana webhook body.
pub fn normalise(
    body: &[u8],
    service_labels: &[String],
) -> Result<Vec<NormalisedAlert>, IngestError> {
    let p: Payload = super::parse_json(body)?;
    normalise_as("grafana", &p, service_labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::AlertState;
    use sentinel_model::AlertSeverity;

    #[test]
    fn grafana_firing() {
        let body = std::fs::read(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
                .join("tests/fixtures/webhooks/grafana_firing.json"),
        )
        .unwrap();
        let out = normalise(
            &body,
            &crate::ingest::IngestConfig::default().service_labels,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.state, AlertState::Firing);
        assert_eq!(a.alert.source, "grafana");
        assert_eq!(a.alert.service.as_str(), "checkout-api");
        assert_eq!(a.alert.metric, "High memory usage");
        assert_eq!(a.alert.severity, AlertSeverity::Critical);
        assert!((a.alert.current_value - 91.73).abs() < 1e-9);
        // Deduplicated by the notification's group; the alert keeps its own fingerprint.
        assert!(
            a.fingerprint.starts_with("grafana:group:"),
            "{}",
            a.fingerprint
        );
        assert_eq!(
            a.alert.annotations["grafana_fingerprint"],
            "c6eadffa33fcdf37"
        );
        assert_eq!(a.ended_at, None);
    }

    #[test]
    fn grafana_missing_alerts_is_named() {
        let e = normalise(br#"{"status":"firing","orgId":1}"#, &[]).unwrap_err();
        assert!(e.to_string().contains("alerts"), "{e}");
    }
}
