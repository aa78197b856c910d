//! `POST /webhooks/alertmanager`: Prometheus Alertmanager's webhook (payload version 4).
//!
//! Alertmanager sends one notification per alert group, carrying every alert of the group
//! (`alerts[]`, each with its own `status`, labels, annotations, `fingerprint`, `startsAt`,
//! `endsAt`). A group is one page to the on-call, so it is one incident: every alert of the
//! notification is deduplicated by the group (`receiver` + `groupKey`); the first firing
//! alert opens the incident and the others — and every re-send — join it. The alert's own
//! fingerprint is kept in its annotations (`alertmanager_fingerprint`). An alert that clears
//! while its group still fires is recorded as `cleared`; the incident is resolved at the
//! source only when the whole group is (top-level `status: resolved`). A payload without a
//! `groupKey` falls back to one incident per alert fingerprint (or label hash). The service
//! comes from the first present label of `SENTINEL_SERVICE_LABELS`, the severity from
//! `severity`. Grafana's unified-alerting webhook shares this shape (see `grafana.rs`).

use super::{
    AlertState, IngestError, NormalisedAlert, labels_fingerprint, parse_number, parse_time,
    service_slug, severity_or_warning, unknown_service,
};
use sentinel_model::Alert;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub group_key: Option<String>,
    pub status: String,
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    pub external_url: Option<String>,
    pub alerts: Vec<PayloadAlert>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadAlert {
    #[serde(default)]
    pub status: Option<String>,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Grafana only: the values of the rule's expressions (`{"B": 44.2, "C": 1}`).
    #[serde(default)]
    pub values: Option<BTreeMap<String, serde_json::Value>>,
}

/// Normalises a parsed webhook. `source` is `alertmanager` or `grafana` (the fingerprint
/// prefix and the alert's `source`).
pub fn normalise_as(
    source: &str,
    p: &Payload,
    service_labels: &[String],
) -> Result<Vec<NormalisedAlert>, IngestError> {
    if !matches!(p.status.as_str(), "firing" | "resolved") {
        return Err(IngestError::field(
            "status",
            format!("{:?} is neither firing nor resolved", p.status),
        ));
    }
    let group = p
        .group_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            let receiver = p.receiver.as_deref().unwrap_or_default();
            let mut key = BTreeMap::new();
            key.insert(receiver.to_string(), k.to_string());
            format!("{source}:group:{}", labels_fingerprint(&key))
        });
    let group_resolved = p.status == "resolved";
    let mut out = Vec::with_capacity(p.alerts.len());
    for (i, a) in p.alerts.iter().enumerate() {
        let status = a.status.as_deref().unwrap_or(&p.status);
        let state = match status {
            "firing" => AlertState::Firing,
            "resolved" if group.is_some() && !group_resolved => AlertState::Cleared,
            "resolved" => AlertState::Resolved,
            other => {
                return Err(IngestError::field(
                    format!("alerts[{i}].status"),
                    format!("{other:?} is neither firing nor resolved"),
                ));
            }
        };
        let fired_at = parse_time(&format!("alerts[{i}].startsAt"), a.starts_at.as_deref())?;
        let ended_at = parse_time(&format!("alerts[{i}].endsAt"), a.ends_at.as_deref())?;
        let service = service_labels
            .iter()
            .find_map(|l| a.labels.get(l).filter(|v| !v.trim().is_empty()))
            .map(|v| service_slug(v))
            .unwrap_or_else(unknown_service);
        let metric = a
            .labels
            .get("alertname")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "alert".into());
        let grafana_value = a.values.as_ref().and_then(|vs| {
            vs.values()
                .find_map(|v| v.as_f64())
                .filter(|v| v.is_finite())
        });
        let current_value = parse_number(a.annotations.get("value"))
            .or_else(|| parse_number(a.annotations.get("current_value")))
            .or(grafana_value)
            .unwrap_or(0.0);
        let threshold = parse_number(a.annotations.get("threshold")).unwrap_or(0.0);
        let mut annotations = a.annotations.clone();
        if let Some(u) = a.generator_url.as_ref().filter(|u| !u.is_empty()) {
            annotations
                .entry("generator_url".into())
                .or_insert_with(|| u.clone());
        }
        let fp = a
            .fingerprint
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| labels_fingerprint(&a.labels));
        annotations
            .entry(format!("{source}_fingerprint"))
            .or_insert_with(|| fp.clone());
        let fingerprint = group.clone().unwrap_or_else(|| format!("{source}:{fp}"));
        out.push(NormalisedAlert {
            alert: Alert {
                source: source.to_string(),
                service,
                metric,
                threshold,
                current_value,
                severity: severity_or_warning(a.labels.get("severity").map(String::as_str)),
                labels: a.labels.clone(),
                annotations,
                fired_at,
            },
            fingerprint,
            state,
            ended_at,
        });
    }
    Ok(out)
}

/// Parses and normalises an Alertmanager v4 body.
pub fn normalise(
    body: &[u8],
    service_labels: &[String],
) -> Result<Vec<NormalisedAlert>, IngestError> {
    let p: Payload = super::parse_json(body)?;
    if let Some(v) = p.version.as_deref()
        && v != "4"
    {
        return Err(IngestError::field(
            "version",
            format!("webhook payload version {v:?} is not supported (expected \"4\")"),
        ));
    }
    normalise_as("alertmanager", &p, service_labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::test_fixture as fixture;
    use sentinel_model::AlertSeverity;

    fn labels() -> Vec<String> {
        crate::ingest::IngestConfig::default().service_labels
    }

    #[test]
    fn firing_group() {
        let out = normalise(&fixture("alertmanager_firing.json"), &labels()).unwrap();
        assert_eq!(out.len(), 2);
        let a = &out[0];
        assert_eq!(a.state, AlertState::Firing);
        assert_eq!(a.alert.source, "alertmanager");
        assert_eq!(a.alert.service.as_str(), "payment-service");
        assert_eq!(a.alert.metric, "HighErrorRate");
        assert_eq!(a.alert.severity, AlertSeverity::Critical);
        assert_eq!(a.alert.current_value, 0.137);
        assert_eq!(a.alert.threshold, 0.05);
        // One group, one dedup key; each alert keeps its own fingerprint.
        assert!(
            a.fingerprint.starts_with("alertmanager:group:"),
            "{}",
            a.fingerprint
        );
        assert_eq!(out[1].fingerprint, a.fingerprint);
        assert_eq!(
            a.alert.annotations["alertmanager_fingerprint"],
            "4a1f0c9e2b7d3e11"
        );
        assert!(a.alert.fired_at.is_some());
        assert_eq!(a.ended_at, None, "0001-01-01 means ongoing");
        assert!(a.alert.annotations.contains_key("generator_url"));
        // Second alert: no `service` label, `job` is next in the list.
        assert_eq!(out[1].alert.service.as_str(), "order-service");
        assert_eq!(out[1].alert.severity, AlertSeverity::Warning);
    }

    #[test]
    fn resolved_group() {
        let out = normalise(&fixture("alertmanager_resolved.json"), &labels()).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|a| a.state == AlertState::Resolved));
        assert!(out[0].ended_at.is_some());
        let firing = normalise(&fixture("alertmanager_firing.json"), &labels()).unwrap();
        assert_eq!(out[0].fingerprint, firing[0].fingerprint, "same group");
    }

    #[test]
    fn an_alert_clearing_in_a_firing_group_does_not_resolve_it() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&fixture("alertmanager_firing.json")).unwrap();
        v["alerts"][1]["status"] = "resolved".into();
        let out = normalise(&serde_json::to_vec(&v).unwrap(), &labels()).unwrap();
        assert_eq!(out[0].state, AlertState::Firing);
        assert_eq!(out[1].state, AlertState::Cleared);
        // Without a group key each alert stands alone and its resolve is a resolve.
        v.as_object_mut().unwrap().remove("groupKey");
        let out = normalise(&serde_json::to_vec(&v).unwrap(), &labels()).unwrap();
        assert_eq!(out[1].state, AlertState::Resolved);
        assert_eq!(out[1].fingerprint, "alertmanager:b83c7d0e91aa4f52");
        assert_ne!(out[0].fingerprint, out[1].fingerprint);
    }

    #[test]
    fn custom_service_label_and_fallbacks() {
        let body = br#"{"version":"4","status":"firing","alerts":[
            {"status":"firing","labels":{"alertname":"X","team":"Core Payments","severity":"bogus"}}]}"#;
        let out = normalise(body, &["team".to_string()]).unwrap();
        assert_eq!(out[0].alert.service.as_str(), "core-payments");
        assert_eq!(out[0].alert.severity, AlertSeverity::Warning);
        assert!(out[0].fingerprint.starts_with("alertmanager:"));
        let out2 = normalise(body, &labels()).unwrap();
        assert_eq!(out2[0].alert.service.as_str(), "unknown");
        assert_eq!(
            out[0].fingerprint, out2[0].fingerprint,
            "label hash is stable"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = normalise(br#"{"version":"4","status":"firing"}"#, &labels()).unwrap_err();
        assert!(
            e.to_string().starts_with("alerts: missing field `alerts`"),
            "{e}"
        );
        let e = normalise(
            br#"{"version":"4","status":"firing","alerts":[{"status":"firing"}]}"#,
            &labels(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("alerts[0]"), "{e}");
        let e = normalise(
            br#"{"status":"firing","alerts":[{"status":"odd","labels":{}}]}"#,
            &labels(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("alerts[0].status"), "{e}");
        let e = normalise(
            br#"{"status":"firing","alerts":[{"labels":{},"startsAt":"soon"}]}"#,
            &labels(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("alerts[0].startsAt"), "{e}");
        assert!(matches!(
            normalise(b"{\"alerts\": [", &labels()).unwrap_err(),
            IngestError::Malformed(_)
        ));
    }
}
