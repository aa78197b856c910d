//! History of evaluation runs (for the eval page's trend chart).

use super::*;
use sentinel_model::EvalReport;
use sqlx::Row;

impl Store {
    pub async fn insert_eval_run(&self, id: &str, report: &EvalReport) -> Result<()> {
        sqlx::query("INSERT INTO eval_runs (id, generated_at, judge_model, avg_total_score, pass_rate, report_json) VALUES (?,?,?,?,?,?)")
            .bind(id)
            .bind(ts(report.generated_at))
            .bind(&report.summary.judge_model)
            .bind(report.summary.avg_total_score)
            .bind(report.summary.pass_rate)
            .bind(to_json(report))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn eval_runs(&self, limit: i64) -> Result<Vec<EvalReport>> {
        sqlx::query("SELECT report_json FROM eval_runs ORDER BY generated_at DESC LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| from_json("eval_runs.report_json", r.get::<&str, _>(0)))
            .collect()
    }
}
