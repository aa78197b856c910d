//! The service catalogue, dependency graph and runbooks, read from `data/services/` and kept
//! in SQLite. Loaded once at start; tools read it through [`Catalogue`].

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

// The catalogue's types are the rows of its tables, so they live with their repository
// (`store::catalogue`); the behaviour (loading the files, walking the graph) is here.
pub use crate::store::{Catalogue, DependencyEdge, Runbook, ServiceInfo};

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T, CatalogueError> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| CatalogueError::File {
        file: path.display().to_string(),
        message: e.to_string(),
    })?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| CatalogueError::File {
        file: path.display().to_string(),
        message: format!("field `{}`: {}", e.path(), e.inner()),
    })
}

impl Catalogue {
    /// Reads `services.json`, `dependencies.json` and `runbooks.json` from `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, CatalogueError> {
        Ok(Self {
            services: read_json(dir, "services.json")?,
            dependencies: read_json(dir, "dependencies.json")?,
            runbooks: read_json(dir, "runbooks.json")?,
        })
    }

    pub fn service(&self, name: &str) -> Option<&ServiceInfo> {
        self.services
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// What `service` calls directly.
    pub fn dependencies_of(&self, service: &str) -> Vec<&DependencyEdge> {
        self.dependencies
            .iter()
            .filter(|d| d.from.eq_ignore_ascii_case(service))
            .collect()
    }

    /// Who calls `service` directly.
    pub fn dependents_of(&self, service: &str) -> Vec<&DependencyEdge> {
        self.dependencies
            .iter()
            .filter(|d| d.to.eq_ignore_ascii_case(service))
            .collect()
    }

    /// Everything `service` depends on, transitively, with the hop count (breadth first).
    pub fn upstream_closure(&self, service: &str) -> Vec<(String, usize)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut queue = VecDeque::from([(service.to_string(), 0usize)]);
        seen.insert(service.to_string());
        while let Some((s, d)) = queue.pop_front() {
            for e in self.dependencies_of(&s) {
                if seen.insert(e.to.clone()) {
                    out.push((e.to.clone(), d + 1));
                    queue.push_back((e.to.clone(), d + 1));
                }
            }
        }
        out
    }

    pub fn is_external(&self, name: &str) -> bool {
        self.dependencies
            .iter()
            .any(|d| d.external && d.to.eq_ignore_ascii_case(name))
    }

    /// The runbook for `service` and `failure_class`: service-specific first, then the generic
    /// one for the class, then the service's any-class runbook.
    /// The runbook written for this failure class: for the service, else the generic one.
    pub fn runbook_for_class(&self, service: &str, failure_class: &str) -> Option<&Runbook> {
        self.runbooks
            .iter()
            .find(|r| {
                r.service.eq_ignore_ascii_case(service)
                    && r.failure_class.eq_ignore_ascii_case(failure_class)
            })
            .or_else(|| {
                self.runbooks.iter().find(|r| {
                    r.service == "*" && r.failure_class.eq_ignore_ascii_case(failure_class)
                })
            })
    }

    /// Runbooks that may apply to `service` (its own and the generic ones).
    pub fn runbooks_for(&self, service: &str) -> impl Iterator<Item = &Runbook> {
        self.runbooks
            .iter()
            .filter(move |r| r.service == "*" || r.service.eq_ignore_ascii_case(service))
    }

    pub fn runbook(&self, service: &str, failure_class: &str) -> Option<&Runbook> {
        let exact = |s: &str, c: &str| {
            self.runbooks.iter().find(|r| {
                r.service.eq_ignore_ascii_case(s) && r.failure_class.eq_ignore_ascii_case(c)
            })
        };
        exact(service, failure_class)
            .or_else(|| exact("*", failure_class))
            .or_else(|| exact(service, "*"))
            .or_else(|| exact("*", "*"))
    }
}
