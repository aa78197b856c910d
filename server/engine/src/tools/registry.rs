//! The one list of tools, and the boundary where their typed errors become JSON.

use super::*;
use crate::llm::ToolSpec;

pub struct Registry {
    tools: Vec<Box<dyn Tool>>,
}

/// Largest serialised tool result handed back to an agent; longer results are cut with a note.
pub const MAX_RESULT_BYTES: usize = 24_000;

impl Default for Registry {
    fn default() -> Self {
        Self::standard()
    }
}

impl Registry {
    pub fn standard() -> Self {
        let tools: Vec<Box<dyn Tool>> = vec![
            Box::new(get_service_metadata::GetServiceMetadata),
            Box::new(get_dependencies::GetDependencies),
            Box::new(get_runbook::GetRunbook),
            Box::new(search_past_incidents::SearchPastIncidents),
            Box::new(fetch_logs::FetchLogs),
            Box::new(list_recent_deploys::ListRecentDeploys),
            Box::new(list_changes::ListChanges),
            Box::new(query_metrics::QueryMetrics),
            Box::new(draft_rollback_pr::DraftRollbackPr),
            Box::new(draft_hotfix::DraftHotfix),
            Box::new(draft_scaling_plan::DraftScalingPlan),
            Box::new(draft_flag_change::DraftFlagChange),
            Box::new(draft_restart_plan::DraftRestartPlan),
            Box::new(draft_slack_summary::DraftSlackSummary),
            Box::new(request_human_approval::RequestHumanApproval),
        ];
        Self { tools }
    }

    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.tools
            .iter()
            .find(|t| t.name() == name)
            .map(|b| b.as_ref())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    /// Specs of the named tools (for a model), in registry order.
    pub fn specs(&self, names: &[&str]) -> Vec<ToolSpec> {
        self.tools
            .iter()
            .filter(|t| names.contains(&t.name()))
            .map(|t| ToolSpec {
                name: t.name().into(),
                description: t.description().into(),
                parameters: t.parameters(),
            })
            .collect()
    }

    /// Calls a tool by name; results too large are truncated with a note.
    pub async fn call(
        &self,
        ctx: &ToolContext,
        name: &str,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let tool = self
            .get(name)
            .ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
        let mut out = tool.call(ctx, args).await?;
        out.value = truncate(out.value);
        Ok(out)
    }
}

fn truncate(v: serde_json::Value) -> serde_json::Value {
    let text = v.to_string();
    if text.len() <= MAX_RESULT_BYTES {
        return v;
    }
    // Arrays are cut by element so the result stays valid JSON; anything else becomes a preview.
    if let serde_json::Value::Object(mut map) = v {
        for (_, field) in map.iter_mut() {
            if let serde_json::Value::Array(items) = field {
                let total = items.len();
                let mut kept = Vec::new();
                let mut size = 0;
                for it in items.drain(..) {
                    size += it.to_string().len();
                    if size > MAX_RESULT_BYTES * 3 / 4 {
                        break;
                    }
                    kept.push(it);
                }
                let shown = kept.len();
                *field = serde_json::Value::Array(kept);
                if shown < total {
                    map.insert(
                        "truncated".into(),
                        serde_json::json!(format!(
                            "output truncated: showing {shown} of {total} items; narrow the query"
                        )),
                    );
                }
                return serde_json::Value::Object(map);
            }
        }
        let s = serde_json::Value::Object(map).to_string();
        return serde_json::json!({ "preview": s.chars().take(MAX_RESULT_BYTES / 2).collect::<String>(), "truncated": "output truncated" });
    }
    serde_json::json!({ "preview": text.chars().take(MAX_RESULT_BYTES / 2).collect::<String>(), "truncated": "output truncated" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_unique_name() {
        let r = Registry::standard();
        let names = r.names();
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), names.len());
        for t in &r.tools {
            let schema = t.parameters();
            assert_eq!(schema["type"], "object", "{} schema: {schema}", t.name());
            assert!(!t.description().is_empty());
        }
        assert_eq!(r.tools.iter().filter(|t| t.is_gate()).count(), 1);
    }

    #[test]
    fn large_results_are_truncated_with_a_note() {
        let items: Vec<_> = (0..5000)
            .map(|i| serde_json::json!({"i": i, "msg": "x".repeat(20)}))
            .collect();
        let v = truncate(serde_json::json!({ "lines": items }));
        assert!(v.to_string().len() <= MAX_RESULT_BYTES);
        assert!(v["truncated"].as_str().unwrap().contains("of 5000"));
    }
}
