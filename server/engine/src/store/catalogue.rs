//! Semantic memory tables: services, dependency edges and runbooks.

use super::*;
use serde::{Deserialize, Serialize};
use sqlx::Row;

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
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM services")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM dependencies")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM runbooks")
            .execute(&mut *tx)
            .await?;
        for s in &cat.services {
            sqlx::query("INSERT INTO services (name, team, tier, oncall_channel, repo, description, json) VALUES (?,?,?,?,?,?,?)")
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
        for d in &cat.dependencies {
            sqlx::query("INSERT OR REPLACE INTO dependencies (from_service, to_service, protocol, criticality, external) VALUES (?,?,?,?,?)")
                .bind(&d.from)
                .bind(&d.to)
                .bind(&d.protocol)
                .bind(&d.criticality)
                .bind(d.external as i64)
                .execute(&mut *tx)
                .await?;
        }
        for r in &cat.runbooks {
            sqlx::query("INSERT OR REPLACE INTO runbooks (id, service, failure_class, title, json) VALUES (?,?,?,?,?)")
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

    pub async fn load_catalogue(&self) -> Result<Catalogue> {
        let services = sqlx::query("SELECT json FROM services ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| from_json::<ServiceInfo>("services.json", r.get::<&str, _>(0)))
            .collect::<Result<Vec<_>>>()?;
        let dependencies = sqlx::query(
            "SELECT from_service, to_service, protocol, criticality, external FROM dependencies",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| DependencyEdge {
            from: r.get(0),
            to: r.get(1),
            protocol: r.get(2),
            criticality: r.get(3),
            external: r.get::<i64, _>(4) != 0,
        })
        .collect();
        let runbooks = sqlx::query("SELECT json FROM runbooks ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| from_json::<Runbook>("runbooks.json", r.get::<&str, _>(0)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Catalogue {
            services,
            dependencies,
            runbooks,
        })
    }
}
