//! Semantic memory tables: services, dependency edges and runbooks.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    #[serde(default)]
    pub team: String,
    #[serde(default = "default_tier")]
    pub tier: u8,
    #[serde(default)]
    pub oncall_channel: String,
    #[serde(default)]
    pub repo: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub owners: Vec<String>,
}

fn default_tier() -> u8 {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DependencyEdge {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub criticality: String,
    #[serde(default)]
    pub external: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Runbook {
    pub id: String,
    pub service: String,
    pub failure_class: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub escalation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub services: Vec<ServiceInfo>,
    pub dependencies: Vec<DependencyEdge>,
    pub runbooks: Vec<Runbook>,
}

impl Store {
    /// Replaces the stored catalogue with `cat` in one transaction (idempotent).
    pub async fn save_catalogue(&self, cat: &Catalogue) -> Result<()> {
        db!(
            self,
            write
                | p
                | {
                    let mut tx = p.begin().await?;
                    for table in ["services", "dependencies", "runbooks"] {
                        sqlx::query(&format!("DELETE FROM {table}"))
                            .execute(&mut *tx)
                            .await?;
                    }
                    for s in &cat.services {
                        sqlx::query("INSERT INTO services (name, team, tier, oncall_channel, repo, description, json) VALUES ($1,$2,$3,$4,$5,$6,$7)")
                    .bind(&s.name)
                    .bind(&s.team)
                    .bind(s.tier as i64)
                    .bind(&s.oncall_channel)
                    .bind(&s.repo)
                    .bind(&s.description)
                    .bind(to_json(s))
                    .execute(&mut *tx)
                    .await?;
                    }
                    // A repeated edge or runbook id: the last one wins.
                    for d in &cat.dependencies {
                        sqlx::query(
                    "INSERT INTO dependencies (from_service, to_service, protocol, criticality, external) VALUES ($1,$2,$3,$4,$5) \
                     ON CONFLICT (from_service, to_service) DO UPDATE SET protocol = excluded.protocol, \
                     criticality = excluded.criticality, external = excluded.external",
                )
                .bind(&d.from)
                .bind(&d.to)
                .bind(&d.protocol)
                .bind(&d.criticality)
                .bind(d.external as i64)
                .execute(&mut *tx)
                .await?;
                    }
                    for r in &cat.runbooks {
                        sqlx::query(
                    "INSERT INTO runbooks (id, service, failure_class, title, json) VALUES ($1,$2,$3,$4,$5) \
                     ON CONFLICT (id) DO UPDATE SET service = excluded.service, \
                     failure_class = excluded.failure_class, title = excluded.title, json = excluded.json",
                )
                .bind(&r.id)
                .bind(&r.service)
                .bind(&r.failure_class)
                .bind(&r.title)
                .bind(to_json(r))
                .execute(&mut *tx)
                .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }
        )
    }

    pub async fn load_catalogue(&self) -> Result<Catalogue> {
        let services: Vec<String> = db!(
            self,
            read | p
                | sqlx::query_scalar("SELECT json FROM services ORDER BY name")
                    .fetch_all(p)
                    .await
        )?;
        let services = services
            .iter()
            .map(|j| from_json::<ServiceInfo>("services.json", j))
            .collect::<Result<Vec<_>>>()?;
        let dependencies: Vec<(String, String, String, String, i64)> =
            db!(self, read |p| sqlx::query_as(
            "SELECT from_service, to_service, protocol, criticality, external FROM dependencies",
        )
        .fetch_all(p)
        .await)?;
        let dependencies = dependencies
            .into_iter()
            .map(
                |(from, to, protocol, criticality, external)| DependencyEdge {
                    from,
                    to,
                    protocol,
                    criticality,
                    external: external != 0,
                },
            )
            .collect();
        let runbooks: Vec<String> = db!(
            self,
            read | p
                | sqlx::query_scalar("SELECT json FROM runbooks ORDER BY id")
                    .fetch_all(p)
                    .await
        )?;
        let runbooks = runbooks
            .iter()
            .map(|j| from_json::<Runbook>("runbooks.json", j))
            .collect::<Result<Vec<_>>>()?;
        Ok(Catalogue {
            services,
            dependencies,
            runbooks,
        })
    }
}
