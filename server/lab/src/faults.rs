//! The fault kinds the lab injects, each planned from a seed: which service, how strong,
//! which words its log lines use (drawn from pools), and which innocent changes land near it.
//! Every change of a plan lands within a minute before the symptoms begin, so a lab run is
//! short and the fleet's history stays consistent (versions change when their deploy lands).
//! A [`Plan`] carries its ground truth ([`Truth`]) for the lab evaluation; the fleet acts it
//! out through metrics and log lines that never name it.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Every kind of fault, in the order `sentinel lab faults` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    BadDeploy,
    BadConfig,
    BadFlag,
    PoolExhaustion,
    LeakDeploy,
    SlowLeak,
    UpstreamRegression,
    VendorOutage,
    CertExpiry,
    TrafficSurge,
    DiskFull,
    DnsFailure,
    RetryStorm,
    Irreversible,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::BadDeploy,
        Kind::BadConfig,
        Kind::BadFlag,
        Kind::PoolExhaustion,
        Kind::LeakDeploy,
        Kind::SlowLeak,
        Kind::UpstreamRegression,
        Kind::VendorOutage,
        Kind::CertExpiry,
        Kind::TrafficSurge,
        Kind::DiskFull,
        Kind::DnsFailure,
        Kind::RetryStorm,
        Kind::Irreversible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BadDeploy => "bad_deploy",
            Kind::BadConfig => "bad_config",
            Kind::BadFlag => "bad_flag",
            Kind::PoolExhaustion => "pool_exhaustion",
            Kind::LeakDeploy => "leak_deploy",
            Kind::SlowLeak => "slow_leak",
            Kind::UpstreamRegression => "upstream_regression",
            Kind::VendorOutage => "vendor_outage",
            Kind::CertExpiry => "cert_expiry",
            Kind::TrafficSurge => "traffic_surge",
            Kind::DiskFull => "disk_full",
            Kind::DnsFailure => "dns_failure",
            Kind::RetryStorm => "retry_storm",
            Kind::Irreversible => "irreversible",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault {s:?}; one of: {}",
                    Kind::ALL.map(Kind::as_str).join(", ")
                )
            })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::BadDeploy => "a deploy whose new version fails (errors only on its instances)",
            Kind::BadConfig => "a configuration change that breaks every instance",
            Kind::BadFlag => "a feature-flag rollout that fails the requests it reaches",
            Kind::PoolExhaustion => "a deploy with a slow query that exhausts the connection pool",
            Kind::LeakDeploy => "a deploy that leaks memory until instances are OOM-killed",
            Kind::SlowLeak => "a slow memory leak with no change behind it",
            Kind::UpstreamRegression => {
                "an upstream service's deploy, seen as timeouts at its caller"
            }
            Kind::VendorOutage => "a third-party vendor outage, with a coincidental deploy",
            Kind::CertExpiry => "an expired certificate its callers reject",
            Kind::TrafficSurge => "a traffic surge beyond capacity",
            Kind::DiskFull => "a disk that fills until writes fail",
            Kind::DnsFailure => "cluster DNS failing for a service's dependencies",
            Kind::RetryStorm => "a caller's retries without backoff overloading a dependency",
            Kind::Irreversible => {
                "a deploy with a forward-only migration (a rollback makes it worse)"
            }
        }
    }

    /// The services this kind can hit (the first is the default of `lab inject`).
    pub fn candidates(self) -> &'static [&'static str] {
        match self {
            Kind::BadDeploy | Kind::BadConfig => &[
                "payment-service",
                "user-service",
                "order-service",
                "auth-service",
                "notification-service",
            ],
            Kind::BadFlag => &["order-service", "user-service", "payment-service"],
            Kind::PoolExhaustion => &["payment-service", "order-service", "user-service"],
            Kind::LeakDeploy | Kind::SlowLeak => {
                &["notification-service", "order-service", "user-service"]
            }
            Kind::UpstreamRegression => &["user-service", "auth-service", "order-service"],
            Kind::VendorOutage => &["payment-service", "notification-service"],
            Kind::CertExpiry => &["auth-service", "user-service"],
            Kind::TrafficSurge => &["api-gateway", "order-service"],
            Kind::DiskFull => &["analytics-pipeline", "notification-service"],
            Kind::DnsFailure => &["order-service", "payment-service"],
            Kind::RetryStorm => &["user-service"],
            Kind::Irreversible => &["order-service", "payment-service", "user-service"],
        }
    }
}

/// A change the fault plan announces (the culprit, or an innocent one nearby).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub service: String,
    /// `deploy`, `config`, `feature_flag`, `infra`.
    pub kind: String,
    pub description: String,
    /// A deploy's new version.
    pub version: Option<String>,
    pub ts: DateTime<Utc>,
    /// A deploy's files (committed to the service's repository).
    pub files: Vec<String>,
}

/// What a right answer is: kept in the lab, read only by the lab evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub origin: String,
    pub action: String,
    pub culprit: Option<String>,
    pub acceptable: Vec<String>,
    pub harmful: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub kind: Kind,
    pub seed: u64,
    /// Where the fault lives.
    pub service: String,
    /// The dependency it concerns, when it is about one (a vendor, an upstream service).
    pub dependency: Option<String>,
    /// When the symptoms begin.
    pub onset: DateTime<Utc>,
    /// 0.5–1: how strong the symptoms are.
    pub magnitude: f64,
    /// Index into the wording pools of its log lines.
    pub wording: usize,
    /// Ends by itself this long after the onset (a vendor or DNS outage), if it does.
    pub lasts_secs: Option<i64>,
    pub culprit: Option<Change>,
    pub innocent: Vec<Change>,
    pub truth: Truth,
}

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

fn version(rng: &mut StdRng) -> String {
    format!(
        "v{}.{}.{}",
        rng.random_range(1..6),
        rng.random_range(0..30),
        rng.random_range(0..10)
    )
}

fn change_id(rng: &mut StdRng, prefix: &str, service: &str) -> String {
    let short: String = service
        .split('-')
        .next()
        .unwrap_or(service)
        .chars()
        .take(4)
        .collect();
    format!("{prefix}-{short}-{}", rng.random_range(1000..9999))
}

const DEPLOY_WORDS: &[&str] = &[
    "refactor request validation",
    "move serialisation to the shared codec",
    "batch lookups in the read path",
    "upgrade the HTTP client",
    "new pricing rules for partner accounts",
    "cache the tenant settings per request",
];
const INNOCENT_DEPLOY_WORDS: &[&str] = &[
    "copy changes on the settings page",
    "bump the base image",
    "add a metric for cache hits",
    "log sampling for debug lines",
    "update the README and the runbook link",
    "tighten lint rules",
];
const INNOCENT_FLAG_WORDS: &[&str] = &[
    "holiday-banner on 100%",
    "new-onboarding-tips on 25%",
    "dark-mode-emails on 50%",
];

/// What a kind of fault is made of: the dependency it concerns, its culprit, the right action,
/// also acceptable ones, harmful ones, and when it ends by itself (seconds after the onset).
type Outline<'a> = (
    Option<String>,
    Option<Change>,
    &'a str,
    &'a [&'a str],
    &'a [&'a str],
    Option<i64>,
);

/// The plan of `kind` on `service` (one of its candidates; the first when `None`), with the
/// symptoms starting at `onset`, everything else drawn from `seed`.
pub fn plan(
    kind: Kind,
    service: Option<&str>,
    seed: u64,
    onset: DateTime<Utc>,
) -> Result<Plan, String> {
    let mut rng = StdRng::seed_from_u64(seed ^ (kind as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let service = match service {
        Some(s) if kind.candidates().contains(&s) => s.to_string(),
        Some(s) => {
            return Err(format!(
                "{} cannot be injected into {s}; choose one of: {}",
                kind.as_str(),
                kind.candidates().join(", ")
            ));
        }
        None => kind.candidates()[0].to_string(),
    };
    let magnitude = rng.random_range(0.6..1.0);
    let wording = rng.random_range(0..3);
    let mut innocent: Vec<Change> = Vec::new();
    // One or two innocent changes near the onset, on other services, sometimes more recent
    // than the culprit.
    let neighbours: Vec<&str> = [
        "api-gateway",
        "order-service",
        "user-service",
        "cdn-proxy",
        "notification-service",
        "analytics-pipeline",
    ]
    .into_iter()
    .filter(|s| *s != service)
    .collect();
    let n_innocent = rng.random_range(1..=2);
    for i in 0..n_innocent {
        let svc = pick(&mut rng, &neighbours).to_string();
        if rng.random_bool(0.7) {
            innocent.push(Change {
                id: change_id(&mut rng, "dep", &svc),
                kind: "deploy".into(),
                version: Some(version(&mut rng)),
                description: pick(&mut rng, INNOCENT_DEPLOY_WORDS).to_string(),
                ts: onset - Duration::seconds(rng.random_range(5..45) + 20 * i as i64),
                files: vec!["src/ui/strings.txt".into()],
                service: svc,
            });
        } else {
            innocent.push(Change {
                id: change_id(&mut rng, "flag", &svc),
                kind: "feature_flag".into(),
                version: None,
                description: pick(&mut rng, INNOCENT_FLAG_WORDS).to_string(),
                ts: onset - Duration::seconds(rng.random_range(5..40) + 15 * i as i64),
                files: vec![],
                service: svc,
            });
        }
    }
    let deploy = |rng: &mut StdRng, svc: &str, words: &str, lead: Duration| Change {
        id: change_id(rng, "dep", svc),
        service: svc.to_string(),
        kind: "deploy".into(),
        version: Some(version(rng)),
        description: words.to_string(),
        ts: onset - lead,
        files: vec!["src/handlers/mod.rs".into(), "src/store/query.rs".into()],
    };
    let change = |rng: &mut StdRng, prefix: &str, kind: &str, description: String| Change {
        id: change_id(rng, prefix, &service),
        service: service.clone(),
        kind: kind.into(),
        version: None,
        description,
        ts: onset - Duration::seconds(15),
        files: vec![],
    };
    // Reverting something that did not cause it is harmful wherever no change did.
    const NO_CHANGE_HARMS: &[&str] = &["rollback", "disable_flag"];
    // (the dependency, the culprit, the action, also acceptable, harmful, ends by itself after)
    let (dependency, culprit, action, acceptable, harmful, lasts): Outline<'_> = match kind {
        Kind::BadDeploy | Kind::PoolExhaustion | Kind::LeakDeploy => {
            let words = match kind {
                Kind::PoolExhaustion => "orders report joins across all partitions",
                Kind::LeakDeploy => "keep a per-tenant response cache",
                _ => pick(&mut rng, DEPLOY_WORDS),
            };
            let lead = Duration::seconds(rng.random_range(10..25));
            let c = deploy(&mut rng, &service, words, lead);
            (None, Some(c), "rollback", &[], &[], None)
        }
        Kind::Irreversible => {
            let words =
                "forward-only migration: drop column legacy_status (down() not implemented)";
            let c = deploy(&mut rng, &service, words, Duration::seconds(15));
            (None, Some(c), "hotfix", &["escalate"], &["rollback"], None)
        }
        // The fault lives upstream; its caller (the gateway) alerts.
        Kind::UpstreamRegression => {
            let words = "switch the profile lookups to the new index";
            let c = deploy(&mut rng, &service, words, Duration::seconds(15));
            (None, Some(c), "rollback", &[], &[], None)
        }
        Kind::BadConfig => {
            let keys = [
                "http.client.timeout_ms",
                "db.pool.max_size",
                "auth.jwks_url",
            ];
            let key = pick(&mut rng, &keys);
            let c = change(
                &mut rng,
                "cfg",
                "config",
                format!("set {key} for the new region"),
            );
            (None, Some(c), "rollback", &[], &[], None)
        }
        Kind::BadFlag => {
            let c = change(
                &mut rng,
                "flag",
                "feature_flag",
                "new-checkout-flow on 100%".into(),
            );
            (None, Some(c), "disable_flag", &["rollback"], &[], None)
        }
        Kind::SlowLeak => (None, None, "restart", &[], NO_CHANGE_HARMS, None),
        Kind::VendorOutage => {
            let vendor = if service == "payment-service" {
                "cardproc-api"
            } else {
                "ses-smtp"
            };
            // A coincidental deploy of the service itself, just before.
            let words = pick(&mut rng, INNOCENT_DEPLOY_WORDS);
            let lead = Duration::seconds(rng.random_range(20..60));
            innocent.push(deploy(&mut rng, &service, words, lead));
            let lasts = rng.random_range(420..600);
            (
                Some(vendor.into()),
                None,
                "escalate",
                &[],
                NO_CHANGE_HARMS,
                Some(lasts),
            )
        }
        Kind::CertExpiry | Kind::DiskFull => {
            (None, None, "hotfix", &["escalate"], NO_CHANGE_HARMS, None)
        }
        Kind::TrafficSurge => (None, None, "scale", &[], NO_CHANGE_HARMS, None),
        Kind::DnsFailure => {
            let lasts = rng.random_range(420..600);
            (
                None,
                None,
                "escalate",
                &["restart"],
                NO_CHANGE_HARMS,
                Some(lasts),
            )
        }
        Kind::RetryStorm => (
            Some("notification-service".into()),
            None,
            "scale",
            &["escalate"],
            NO_CHANGE_HARMS,
            None,
        ),
    };
    let owned = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let truth = Truth {
        origin: service.clone(),
        action: action.into(),
        culprit: culprit.as_ref().map(|c| c.id.clone()),
        acceptable: owned(acceptable),
        harmful: owned(harmful),
    };
    innocent.sort_by_key(|c| c.ts);
    Ok(Plan {
        kind,
        seed,
        service,
        dependency,
        onset,
        magnitude,
        wording,
        lasts_secs: lasts,
        culprit,
        innocent,
        truth,
    })
}

impl Plan {
    /// Every change the plan announces, oldest first.
    pub fn changes(&self) -> Vec<Change> {
        let mut all: Vec<Change> = self.innocent.clone();
        all.extend(self.culprit.clone());
        all.sort_by_key(|c| c.ts);
        all
    }

    /// Whether an approved `action` on `target` fixes this fault (the executor's test).
    pub fn fixed_by(&self, action: &str, target: Option<&str>) -> bool {
        let on_service = target.is_none_or(|t| t == self.service);
        match (self.kind, action) {
            (Kind::BadFlag, "disable_flag" | "rollback") => target == self.truth.culprit.as_deref(),
            (
                Kind::BadDeploy
                | Kind::BadConfig
                | Kind::PoolExhaustion
                | Kind::LeakDeploy
                | Kind::UpstreamRegression,
                "rollback",
            ) => target == self.truth.culprit.as_deref(),
            (Kind::SlowLeak, "restart") => on_service,
            (Kind::CertExpiry | Kind::DiskFull | Kind::Irreversible, "hotfix") => true,
            (Kind::TrafficSurge | Kind::RetryStorm, "scale") => on_service,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_seed_gives_the_same_plan_and_another_seed_another() {
        for kind in Kind::ALL {
            let a = plan(kind, None, 7, t0()).unwrap();
            assert_eq!(a, plan(kind, None, 7, t0()).unwrap(), "{kind:?}");
            assert_eq!(a.truth.origin, a.service);
            assert!(
                !a.innocent.is_empty(),
                "{kind:?} has no innocent change nearby"
            );
            assert!(
                a.innocent
                    .iter()
                    .all(|c| c.ts < a.onset && a.onset - c.ts < Duration::minutes(30))
            );
            if let Some(c) = &a.culprit {
                assert_eq!(a.truth.culprit.as_deref(), Some(c.id.as_str()));
                assert!(c.ts < a.onset);
            }
        }
        let differs = (0..20u64).any(|s| {
            plan(Kind::BadDeploy, None, s, t0()).unwrap()
                != plan(Kind::BadDeploy, None, 7, t0()).unwrap()
        });
        assert!(differs);
    }

    #[test]
    fn kinds_parse_by_name_and_services_are_checked() {
        assert_eq!(Kind::parse("disk_full").unwrap(), Kind::DiskFull);
        assert!(Kind::parse("meteor").unwrap_err().contains("bad_deploy"));
        let e = plan(Kind::VendorOutage, Some("cdn-proxy"), 1, t0()).unwrap_err();
        assert!(e.contains("payment-service"), "{e}");
    }

    #[test]
    fn only_the_right_action_on_the_right_target_fixes_a_fault() {
        let p = plan(Kind::BadDeploy, Some("payment-service"), 3, t0()).unwrap();
        let culprit = p.truth.culprit.clone().unwrap();
        assert!(p.fixed_by("rollback", Some(&culprit)));
        let innocent = p.innocent[0].id.clone();
        assert!(!p.fixed_by("rollback", Some(&innocent)));
        assert!(!p.fixed_by("restart", Some("payment-service")));
        let v = plan(Kind::VendorOutage, None, 3, t0()).unwrap();
        assert!(v.lasts_secs.is_some());
        assert!(!v.fixed_by("rollback", Some(&v.innocent.last().unwrap().id)));
        assert!(v.truth.harmful.contains(&"rollback".to_string()));
        let s = plan(Kind::TrafficSurge, None, 3, t0()).unwrap();
        assert!(s.fixed_by("scale", Some("api-gateway")));
        assert!(!s.fixed_by("scale", Some("order-service")));
    }
}
