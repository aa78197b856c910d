//! Building the report (CONTRACTS.md §4) and rendering it as Markdown.

use chrono::Utc;
use sentinel_model::*;

pub fn build(results: Vec<EvalResult>, judge_model: &str) -> EvalReport {
    let n = results.len();
    let avg = if n == 0 {
        0.0
    } else {
        results.iter().map(|r| r.total_score).sum::<f64>() / n as f64
    };
    let passed = results.iter().filter(|r| r.passed).count();
    let dimension_stats = DIMENSIONS
        .iter()
        .map(|d| {
            let scores: Vec<f64> = results
                .iter()
                .flat_map(|r| {
                    r.dimension_scores
                        .iter()
                        .filter(|s| s.dimension == *d)
                        .map(|s| s.score)
                })
                .collect();
            let c = scores.len();
            DimensionStat {
                dimension: d.to_string(),
                avg_score: round2(if c == 0 {
                    0.0
                } else {
                    scores.iter().sum::<f64>() / c as f64
                }),
                min_score: if c == 0 {
                    0.0
                } else {
                    scores.iter().copied().fold(f64::INFINITY, f64::min)
                },
                max_score: scores.iter().copied().fold(0.0, f64::max),
                scenario_count: c,
            }
        })
        .collect();
    EvalReport {
        generated_at: Utc::now(),
        summary: EvalSummary {
            scenarios_run: n,
            avg_total_score: round2(avg),
            pass_rate: round2(if n == 0 {
                0.0
            } else {
                passed as f64 / n as f64
            }),
            pass_threshold: PASS_THRESHOLD,
            judge_model: judge_model.to_string(),
        },
        dimension_stats,
        results,
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn markdown(r: &EvalReport) -> String {
    let mut s = String::new();
    s.push_str("# Sentinel evaluation report\n\n");
    s.push_str(&format!(
        "Generated {} · judge `{}`\n\n",
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.summary.judge_model
    ));
    s.push_str("| scenarios | average score | pass rate | pass threshold |\n|---|---|---|---|\n");
    s.push_str(&format!(
        "| {} | {:.2} / 5 | {:.0}% | {:.1} |\n\n",
        r.summary.scenarios_run,
        r.summary.avg_total_score,
        r.summary.pass_rate * 100.0,
        r.summary.pass_threshold
    ));
    s.push_str("## Dimensions\n\n| dimension | avg | min | max |\n|---|---|---|---|\n");
    for d in &r.dimension_stats {
        s.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.2} |\n",
            d.dimension, d.avg_score, d.min_score, d.max_score
        ));
    }
    s.push_str("\n## Scenarios\n\n| scenario | total | pass |");
    for d in DIMENSIONS {
        s.push_str(&format!(" {d} |"));
    }
    s.push_str("\n|---|---|---|");
    for _ in DIMENSIONS {
        s.push_str("---|");
    }
    s.push('\n');
    for res in &r.results {
        s.push_str(&format!(
            "| {} | {:.2} | {} |",
            res.scenario_id,
            res.total_score,
            if res.passed { "✅" } else { "❌" }
        ));
        for d in DIMENSIONS {
            let v = res
                .dimension_scores
                .iter()
                .find(|x| x.dimension == d)
                .map(|x| x.score)
                .unwrap_or(0.0);
            s.push_str(&format!(" {v:.2} |"));
        }
        s.push('\n');
    }
    s.push_str("\n## Reasons\n");
    for res in &r.results {
        s.push_str(&format!(
            "\n### {} ({})\n\n",
            res.scenario_id, res.incident_id
        ));
        for d in &res.dimension_scores {
            s.push_str(&format!(
                "- **{}** {:.2} — {}\n",
                d.dimension, d.score, d.reasoning
            ));
        }
    }
    s
}
