//! The one list of tools, and the boundary where their typed errors become JSON.

use super::*;
use crate::llm::ToolSpec;

pub struct Registry {
    tools: Vec<Box<dyn ErasedTool>>,
}

/// Largest serialised tool result handed back to an agent; longer results are cut with a note.
pub const MAX_RESULT_BYTES: usize = 24_000;

/// A [`Tool`] with its types erased, so tools of different types sit in one list.
#[async_trait::async_trait]
trait ErasedTool: Send + Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn parameters(&self) -> serde_json::Value;
    fn output_schema(&self) -> serde_json::Value;
    fn is_gate(&self) -> bool;
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError>;
}

struct Erased<T: Tool>(T);

#[async_trait::async_trait]
impl<T: Tool> ErasedTool for Erased<T> {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn description(&self) -> &'static str {
        T::DESCRIPTION
    }
    fn parameters(&self) -> serde_json::Value {
        schema_of::<T::Args>()
    }
    fn output_schema(&self) -> serde_json::Value {
        schema_of::<T::Output>()
    }
    fn is_gate(&self) -> bool {
        T::GATE
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let args: T::Args = parse_args(args)?;
        let output = self.0.call(ctx, args).await?;
        let suspend = T::suspension(&output);
        let value = serde_json::to_value(&output)
            .map_err(|e| ToolError::Failed(format!("output did not serialise: {e}")))?;
        let (value, cut) = truncate(value);
        // The agent sees what a model would see: a cut result is read back from its JSON.
        let typed = if cut {
            serde_json::from_value::<T::Output>(value.clone())
                .ok()
                .map(TypedOutput::new)
        } else {
            Some(TypedOutput::new(output))
        };
        Ok(ToolOutput {
            value,
            typed,
            suspend,
        })
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::standard()
    }
}

impl Registry {
    pub fn standard() -> Self {
        fn t<T: Tool>(tool: T) -> Box<dyn ErasedTool> {
            Box::new(Erased(tool))
        }
        let tools = vec![
            t(get_service_metadata::GetServiceMetadata),
            t(get_dependencies::GetDependencies),
            t(get_runbook::GetRunbook),
            t(search_past_incidents::SearchPastIncidents),
            t(fetch_logs::FetchLogs),
            t(list_recent_deploys::ListRecentDeploys),
            t(list_changes::ListChanges),
            t(query_metrics::QueryMetrics),
            t(correlate_changes::CorrelateChanges),
            t(metric_onsets::MetricOnsets),
            t(draft_rollback_pr::DraftRollbackPr),
            t(draft_hotfix::DraftHotfix),
            t(draft_scaling_plan::DraftScalingPlan),
            t(draft_flag_change::DraftFlagChange),
            t(draft_restart_plan::DraftRestartPlan),
            t(draft_slack_summary::DraftSlackSummary),
            t(request_human_approval::RequestHumanApproval),
        ];
        Self { tools }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.name() == name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    /// Whether `name` is the approval gate.
    pub fn is_gate(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.name() == name && t.is_gate())
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

    /// The JSON schema of a tool's output (documentation, MCP).
    pub fn output_schema(&self, name: &str) -> Option<serde_json::Value> {
        self.tools
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.output_schema())
    }

    /// Calls a tool by name; results too large are truncated with a note.
    pub async fn call(
        &self,
        ctx: &ToolContext,
        name: &str,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let tool = self
            .tools
            .iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
        tool.call(ctx, args).await
    }
}

/// The value cut to [`MAX_RESULT_BYTES`], and whether it was cut.
fn truncate(v: serde_json::Value) -> (serde_json::Value, bool) {
    let text = v.to_string();
    if text.len() <= MAX_RESULT_BYTES {
        return (v, false);
    }
    // Arrays are cut by element so the result stays valid JSON; anything else becomes a preview.
    if let serde_json::Value::Object(mut map) = v {
        // Cut the largest list (the raw lines, not their summary).
        let largest = map
            .iter()
            .filter(|(_, f)| f.is_array())
            .max_by_key(|(_, f)| f.to_string().len())
            .map(|(k, _)| k.clone());
        if let Some(key) = largest
            && let Some(serde_json::Value::Array(items)) = map.remove(&key)
        {
            let total = items.len();
            let mut kept = Vec::new();
            let mut size = 0;
            for it in items {
                size += it.to_string().len();
                if size > MAX_RESULT_BYTES * 3 / 4 {
                    break;
                }
                kept.push(it);
            }
            let shown = kept.len();
            map.insert(key, serde_json::Value::Array(kept));
            if shown < total {
                map.insert(
                    "truncated".into(),
                    serde_json::json!(format!(
                        "output truncated: showing {shown} of {total} items; narrow the query"
                    )),
                );
            }
            return (serde_json::Value::Object(map), true);
        }
        let s = serde_json::Value::Object(map).to_string();
        return (
            serde_json::json!({ "preview": s.chars().take(MAX_RESULT_BYTES / 2).collect::<String>(), "truncated": "output truncated" }),
            true,
        );
    }
    (
        serde_json::json!({ "preview": text.chars().take(MAX_RESULT_BYTES / 2).collect::<String>(), "truncated": "output truncated" }),
        true,
    )
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
            let out = t.output_schema();
            assert_eq!(out["type"], "object", "{} output schema: {out}", t.name());
            assert!(!t.description().is_empty());
        }
        assert_eq!(r.tools.iter().filter(|t| t.is_gate()).count(), 1);
    }

    #[test]
    fn large_results_are_truncated_with_a_note() {
        let items: Vec<_> = (0..5000)
            .map(|i| serde_json::json!({"i": i, "msg": "x".repeat(20)}))
            .collect();
        let (v, cut) = truncate(serde_json::json!({ "lines": items }));
        assert!(cut);
        assert!(v.to_string().len() <= MAX_RESULT_BYTES);
        assert!(v["truncated"].as_str().unwrap().contains("of 5000"));
    }
}
