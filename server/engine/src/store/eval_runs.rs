//! History of evaluation runs (for the eval page's trend chart).

use super::*;
use sentinel_model::EvalReport;

impl Store {
    pub async fn insert_eval_run(&self, id: &str, report: &EvalReport) -> Result<()> {
        db!(self, write |p| sqlx::query("INSERT INTO eval_runs (id, generated_at, judge_model, avg_total_score, pass_rate, report_json) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(id)
            .bind(ts(report.generated_at))
            .bind(&report.summary.judge_model)
            .bind(report.summary.avg_total_score)
            .bind(report.summary.pass_rate)
            .bind(to_json(report))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Newest first.
    pub async fn eval_runs(&self, limit: i64) -> Result<Vec<EvalReport>> {
        let rows: Vec<String> = db!(
            self,
            read | p
                | sqlx::query_scalar(
                    "SELECT report_json FROM eval_runs ORDER BY generated_at DESC LIMIT $1"
                )
                .bind(limit)
                .fetch_all(p)
                .await
        )?;
        rows.iter()
            .map(|r| from_json("eval_runs.report_json", r))
            .collect()
    }
}
