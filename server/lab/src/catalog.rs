//! The services the fleet runs and the edges between them, read from the same catalogue
//! files Sentinel reads (`data/services/services.json`, `dependencies.json`). Names that are
//! only the target of an edge are datastores or, when the edge says `external`, vendors.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub tier: u8,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub criticality: String,
    #[serde(default)]
    pub external: bool,
}

impl Edge {
    pub fn hard(&self) -> bool {
        self.criticality != "soft"
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub services: Vec<Service>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not a valid catalogue file: {1}")]
    Parse(String, serde_json::Error),
    #[error("the catalogue lists no services")]
    Empty,
}

impl Catalog {
    /// Reads `services.json` and `dependencies.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        fn read<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T, CatalogError> {
            let name = p.display().to_string();
            let text =
                std::fs::read_to_string(p).map_err(|e| CatalogError::Read(name.clone(), e))?;
            serde_json::from_str(&text).map_err(|e| CatalogError::Parse(name, e))
        }
        let services: Vec<Service> = read(&dir.join("services.json"))?;
        let edges: Vec<Edge> = read(&dir.join("dependencies.json"))?;
        if services.is_empty() {
            return Err(CatalogError::Empty);
        }
        Ok(Self { services, edges })
    }

    pub fn is_service(&self, name: &str) -> bool {
        self.services.iter().any(|s| s.name == name)
    }

    /// Datastores and vendors: edge targets that are not services.
    pub fn backends(&self) -> BTreeSet<String> {
        self.edges
            .iter()
            .filter(|e| !self.is_service(&e.to))
            .map(|e| e.to.clone())
            .collect()
    }

    /// Vendors: backends some edge marks `external`.
    pub fn vendors(&self) -> BTreeSet<String> {
        self.edges
            .iter()
            .filter(|e| e.external && !self.is_service(&e.to))
            .map(|e| e.to.clone())
            .collect()
    }

    pub fn deps_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges.iter().filter(move |e| e.from == service)
    }

    pub fn callers_of<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.to == target)
            .map(|e| e.from.as_str())
    }

    /// Services ordered so every one comes after the services it depends on (the graph is a
    /// DAG; a cycle's remainder is appended as listed).
    pub fn bottom_up(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut left: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
        while !left.is_empty() {
            let before = left.len();
            left.retain(|s| {
                let ready = self
                    .deps_of(s)
                    .filter(|e| self.is_service(&e.to))
                    .all(|e| out.contains(&e.to));
                if ready {
                    out.push(s.to_string());
                }
                !ready
            });
            if left.len() == before {
                out.extend(left.drain(..).map(String::from));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn shipped() -> Catalog {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/services");
        Catalog::load(&dir).unwrap()
    }

    #[test]
    fn the_shipped_catalogue_orders_dependencies_first() {
        let c = shipped();
        let order = c.bottom_up();
        assert_eq!(order.len(), c.services.len());
        let pos = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert!(pos("user-service") < pos("api-gateway"));
        assert!(pos("payment-service") < pos("order-service"));
        assert!(pos("api-gateway") < pos("cdn-proxy"));
        assert!(c.backends().contains("redis-cache"));
        assert!(c.vendors().contains("cardproc-api"), "{:?}", c.vendors());
    }

    #[test]
    fn a_missing_or_broken_catalogue_is_named() {
        let d = tempfile::tempdir().unwrap();
        let e = Catalog::load(d.path()).unwrap_err();
        assert!(e.to_string().contains("services.json"), "{e}");
        std::fs::write(d.path().join("services.json"), "[{]").unwrap();
        let e = Catalog::load(d.path()).unwrap_err();
        assert!(e.to_string().contains("not a valid catalogue file"), "{e}");
    }
}
