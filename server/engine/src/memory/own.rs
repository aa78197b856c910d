//! The user's own service catalogue (`[catalog]`): Backstage `catalog-info.yaml` descriptors
//! (Component, Resource and System entities with `owner`, `lifecycle`, `dependsOn` and
//! annotations for tier and on-call) and runbooks as Markdown files with front matter naming
//! the service and the failure kind. Merged over the demo `data/services` (a service or
//! runbook of the same name replaces the demo one). Errors name the file and the field.
//! [`OwnCatalogue::changed`] tells the reloader when a file appeared, changed or went.

use super::semantic::{Catalogue, CatalogueError, DependencyEdge, Runbook, ServiceInfo};
use crate::telemetry::files::expand;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Annotation keys read from a Backstage entity.
pub const TIER: &str = "sentinel.io/tier";
pub const ONCALL: &str = "sentinel.io/oncall-channel";
pub const SLACK: &str = "slack.com/channel";
pub const EXTERNAL: &str = "sentinel.io/external";
pub const REPO: &str = "github.com/project-slug";
pub const SOURCE: &str = "backstage.io/source-location";

#[derive(Deserialize)]
struct Entity {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    metadata: Metadata,
    #[serde(default)]
    spec: Spec,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(default)]
    owner: Option<String>,
    #[serde(default, rename = "dependsOn")]
    depends_on: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// `component:default/payment-service` → `payment-service`; `group:team-a` → `team-a`.
pub fn entity_name(r: &str) -> String {
    let r = r.rsplit_once(':').map(|(_, n)| n).unwrap_or(r);
    r.rsplit_once('/').map(|(_, n)| n).unwrap_or(r).to_string()
}

fn err(file: &Path, message: impl Into<String>) -> CatalogueError {
    CatalogueError::File {
        file: file.display().to_string(),
        message: message.into(),
    }
}

/// The edges of an entity's `spec.dependsOn`.
fn depends_on<'a>(name: &'a str, deps: &'a [String]) -> impl Iterator<Item = DependencyEdge> + 'a {
    deps.iter().map(move |d| DependencyEdge {
        from: name.to_string(),
        to: entity_name(d),
        protocol: String::new(),
        criticality: "hard".into(),
        external: false,
    })
}

/// The services and dependency edges of one Backstage file (several documents allowed).
pub fn parse_backstage(
    file: &Path,
    text: &str,
) -> Result<(Vec<ServiceInfo>, Vec<DependencyEdge>), CatalogueError> {
    let mut services = Vec::new();
    let mut edges = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = serde_yaml::Value::deserialize(doc)
            .map_err(|e| err(file, format!("document {}: {e}", i + 1)))?;
        if value.is_null() {
            continue;
        }
        let e: Entity = serde_yaml::from_value(value)
            .map_err(|e| err(file, format!("document {}: {e}", i + 1)))?;
        if !e.api_version.starts_with("backstage.io/") {
            return Err(err(
                file,
                format!(
                    "document {}: apiVersion: {:?} is not a Backstage entity",
                    i + 1,
                    e.api_version
                ),
            ));
        }
        let name = e.metadata.name.trim().to_string();
        if name.is_empty() {
            return Err(err(
                file,
                format!("document {}: metadata.name: must not be empty", i + 1),
            ));
        }
        let ann = &e.metadata.annotations;
        match e.kind.as_str() {
            "Component" | "System" => {
                let tier = match ann.get(TIER) {
                    Some(t) => t.trim().parse::<u8>().ok().filter(|t| (1..=4).contains(t)).ok_or_else(|| {
                        err(file, format!("document {}: metadata.annotations.{TIER}: {t:?} is not a tier 1–4", i + 1))
                    })?,
                    None => 2,
                };
                let owner = e.spec.owner.as_deref().map(entity_name).unwrap_or_default();
                services.push(ServiceInfo {
                    name: name.clone(),
                    team: owner.clone(),
                    tier,
                    oncall_channel: ann
                        .get(ONCALL)
                        .or_else(|| ann.get(SLACK))
                        .cloned()
                        .unwrap_or_default(),
                    repo: ann
                        .get(REPO)
                        .cloned()
                        .or_else(|| {
                            ann.get(SOURCE)
                                .map(|s| s.trim_start_matches("url:").to_string())
                        })
                        .unwrap_or_default(),
                    description: e.metadata.description.clone(),
                    language: e.metadata.tags.first().cloned().unwrap_or_default(),
                    owners: if owner.is_empty() {
                        vec![]
                    } else {
                        vec![owner]
                    },
                });
                edges.extend(depends_on(&name, &e.spec.depends_on));
            }
            "Resource" => {
                // A datastore or a vendor: a node others depend on, not a service of ours.
                let external = ann.get(EXTERNAL).is_some_and(|v| v == "true")
                    || e.spec.kind.as_deref() == Some("external-service");
                edges.extend(depends_on(&name, &e.spec.depends_on));
                if external {
                    edges.push(DependencyEdge {
                        from: String::new(),
                        to: name,
                        protocol: String::new(),
                        criticality: String::new(),
                        external: true,
                    });
                }
            }
            _ => {}
        }
    }
    Ok((services, edges))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    service: String,
    #[serde(alias = "kind")]
    failure_class: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    escalation: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// A Markdown runbook: YAML front matter (`service`, `failure_class` or `kind`, optional
/// `title`, `escalation`, `id`), a `# Title`, a summary paragraph and numbered or bulleted steps.
pub fn parse_runbook(file: &Path, text: &str) -> Result<Runbook, CatalogueError> {
    let rest = text
        .strip_prefix("---")
        .ok_or_else(|| err(file, "front matter: missing (the file must start with ---)"))?;
    let (front, body) = rest
        .split_once("\n---")
        .ok_or_else(|| err(file, "front matter: not closed with ---"))?;
    let fm: FrontMatter =
        serde_yaml::from_str(front).map_err(|e| err(file, format!("front matter: {e}")))?;
    if fm.service.trim().is_empty() {
        return Err(err(
            file,
            "front matter: service: must not be empty (use \"*\" for any)",
        ));
    }
    let body = body.trim_start_matches(['-', '\n', '\r']);
    let mut title = fm.title.clone();
    let mut summary = Vec::new();
    let mut steps = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("# ") {
            title.get_or_insert_with(|| h.trim().to_string());
        } else if t.starts_with('#') || t.is_empty() {
            continue;
        } else if let Some(step) = t
            .strip_prefix("- ")
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| {
                t.split_once(". ")
                    .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                    .map(|(_, s)| s)
            })
        {
            steps.push(step.trim().to_string());
        } else if steps.is_empty() {
            summary.push(t.to_string());
        }
    }
    let id = fm.id.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    });
    Ok(Runbook {
        id,
        service: fm.service.trim().to_string(),
        failure_class: fm.failure_class.trim().to_string(),
        title: title
            .ok_or_else(|| err(file, "title: none in the front matter or as a # heading"))?,
        summary: summary.join(" "),
        steps,
        escalation: fm.escalation.unwrap_or_default(),
    })
}

/// The user's catalogue files, by glob.
#[derive(Debug, Clone, Default)]
pub struct OwnCatalogue {
    pub backstage: Vec<String>,
    pub runbooks: Vec<String>,
}

impl OwnCatalogue {
    pub fn is_empty(&self) -> bool {
        self.backstage.is_empty() && self.runbooks.is_empty()
    }

    fn files(globs: &[String]) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = globs.iter().flat_map(|g| expand(g)).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The files and their modification times (what the reloader compares).
    pub fn stamp(&self) -> Vec<(PathBuf, Option<SystemTime>)> {
        Self::files(&self.backstage)
            .into_iter()
            .chain(Self::files(&self.runbooks))
            .map(|p| {
                let m = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
                (p, m)
            })
            .collect()
    }

    /// `base` with the user's services, edges and runbooks merged over it.
    pub fn load_over(&self, base: &Catalogue) -> Result<Catalogue, CatalogueError> {
        let mut cat = base.clone();
        for f in Self::files(&self.backstage) {
            let text = std::fs::read_to_string(&f).map_err(|e| err(&f, e.to_string()))?;
            let (services, edges) = parse_backstage(&f, &text)?;
            for s in services {
                cat.services
                    .retain(|x| !x.name.eq_ignore_ascii_case(&s.name));
                cat.dependencies
                    .retain(|d| !d.from.eq_ignore_ascii_case(&s.name));
                cat.services.push(s);
            }
            for e in edges {
                if !cat.dependencies.contains(&e) {
                    cat.dependencies.push(e);
                }
            }
        }
        for f in Self::files(&self.runbooks) {
            let text = std::fs::read_to_string(&f).map_err(|e| err(&f, e.to_string()))?;
            let r = parse_runbook(&f, &text)?;
            cat.runbooks.retain(|x| x.id != r.id);
            cat.runbooks.push(r);
        }
        Ok(cat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIPTORS: &str = r##"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: Cart and checkout
  annotations:
    sentinel.io/tier: "1"
    slack.com/channel: "#checkout-oncall"
    github.com/project-slug: shop/checkout
  tags: [rust]
spec:
  type: service
  lifecycle: production
  owner: group:default/team-payments
  dependsOn: [component:default/payment-service, resource:checkout-db]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: card-network
  annotations:
    sentinel.io/external: "true"
spec:
  type: external-service
  owner: team-payments
"##;

    #[test]
    fn backstage_entities_become_services_and_edges() {
        let (s, e) = parse_backstage(Path::new("catalog-info.yaml"), DESCRIPTORS).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (
                s[0].name.as_str(),
                s[0].tier,
                s[0].team.as_str(),
                s[0].oncall_channel.as_str(),
                s[0].repo.as_str()
            ),
            (
                "checkout",
                1,
                "team-payments",
                "#checkout-oncall",
                "shop/checkout"
            )
        );
        let to: Vec<&str> = e.iter().map(|d| d.to.as_str()).collect();
        assert_eq!(to, vec!["payment-service", "checkout-db", "card-network"]);
        assert!(e[2].external);
        let bad = parse_backstage(
            Path::new("x.yaml"),
            &DESCRIPTORS.replace("\"1\"", "\"gold\""),
        )
        .unwrap_err();
        assert!(
            bad.to_string().contains("x.yaml") && bad.to_string().contains("sentinel.io/tier"),
            "{bad}"
        );
        let bad = parse_backstage(
            Path::new("y.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("apiVersion"), "{bad}");
    }

    #[test]
    fn markdown_runbooks_read_their_front_matter_and_steps() {
        let md = "---\nservice: checkout\nkind: bad_deploy\nescalation: \"#payments-leads\"\n---\n# Roll back a bad checkout release\n\nWhen a release breaks pricing.\n\n## Steps\n1. Roll back with `kubectl rollout undo`\n2. Watch the error ratio\n- Tell #checkout\n";
        let r = parse_runbook(Path::new("/rb/checkout-rollback.md"), md).unwrap();
        assert_eq!(r.id, "checkout-rollback");
        assert_eq!(r.failure_class, "bad_deploy");
        assert_eq!(r.title, "Roll back a bad checkout release");
        assert_eq!(r.summary, "When a release breaks pricing.");
        assert_eq!(r.steps.len(), 3);
        assert_eq!(r.escalation, "#payments-leads");
        let e = parse_runbook(Path::new("a.md"), "# no front matter")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.md") && e.contains("front matter"), "{e}");
        let e = parse_runbook(Path::new("b.md"), "---\nservice: x\nfailure: y\n---\n# T\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.md"), "{e}");
    }

    #[test]
    fn own_files_merge_over_the_demo_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("catalog-info.yaml"), DESCRIPTORS).unwrap();
        std::fs::write(
            dir.path().join("rb.md"),
            "---\nservice: checkout\nfailure_class: db_pool\n---\n# Pool\n1. Raise the pool\n",
        )
        .unwrap();
        let own = OwnCatalogue {
            backstage: vec![format!("{}/*.yaml", dir.path().display())],
            runbooks: vec![format!("{}/*.md", dir.path().display())],
        };
        let base = Catalogue {
            services: vec![ServiceInfo {
                name: "Checkout".into(),
                team: "old".into(),
                tier: 3,
                oncall_channel: String::new(),
                repo: String::new(),
                description: String::new(),
                language: String::new(),
                owners: vec![],
            }],
            ..Default::default()
        };
        let cat = own.load_over(&base).unwrap();
        assert_eq!(cat.services.len(), 1);
        assert_eq!(cat.service("checkout").unwrap().tier, 1);
        assert!(cat.is_external("card-network"));
        assert_eq!(cat.runbooks[0].failure_class, "db_pool");
        assert_eq!(own.stamp().len(), 2);
    }
}
