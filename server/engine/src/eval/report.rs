//! Building the report (CONTRACTS.md §4) and rendering it as Markdown.

use chrono::Utc;
use sentinel_model::*;

pub fn build(results: Vec<EvalResult>, judge_model: &str) -> EvalReport {
    build_suites(results, judge_model, &[])
}

/// The per-suite headline: solved and harmful first.
fn suite_summary(suite: &str, rs: &[&EvalResult]) -> SuiteSummary {
    let n = rs.len();
    let frac = |k: usize| {
        if n == 0 {
            0.0
        } else {
            round2(k as f64 / n as f64)
        }
    };
    SuiteSummary {
        suite: suite.to_string(),
        scenarios: n,
        solved: rs.iter().filter(|r| r.solved).count(),
        harmful: rs.iter().filter(|r| r.harmful).count(),
        avg_total_score: if n == 0 {
            0.0
        } else {
            round2(rs.iter().map(|r| r.total_score).sum::<f64>() / n as f64)
        },
        pass_rate: frac(rs.iter().filter(|r| r.passed).count()),
    }
}

/// Confidence bins of width 0.2: how often a run that stated that confidence was right. The
/// escalation threshold in the engine's parameters is read against this table.
pub fn calibration(results: &[EvalResult]) -> Vec<CalibrationBin> {
    let mut bins: Vec<CalibrationBin> = (0..5)
        .map(|i| CalibrationBin {
            lo: i as f64 * 0.2,
            hi: (i + 1) as f64 * 0.2,
            runs: 0,
            solved: 0,
            acted: 0,
        })
        .collect();
    for r in results {
        let Some(t) = &r.trajectory else { continue };
        let Some(c) = t.confidence else { continue };
        let i = ((c.clamp(0.0, 1.0) * 5.0).floor() as usize).min(4);
        bins[i].runs += 1;
        bins[i].solved += usize::from(r.solved);
        bins[i].acted += usize::from(t.action.as_deref().is_some_and(|a| a != "escalate"));
    }
    bins
}

/// The report over `results`; `suites` gives the order of the per-suite rows (suites that
/// appear only in the results follow).
pub fn build_suites(results: Vec<EvalResult>, judge_model: &str, suites: &[String]) -> EvalReport {
    let mut order: Vec<String> = suites.to_vec();
    for r in &results {
        if !r.suite.is_empty() && !order.contains(&r.suite) {
            order.push(r.suite.clone());
        }
    }
    let suites: Vec<SuiteSummary> = order
        .iter()
        .map(|name| {
            let rs: Vec<&EvalResult> = results.iter().filter(|r| &r.suite == name).collect();
            suite_summary(name, &rs)
        })
        .filter(|s| s.scenarios > 0)
        .collect();
    let calibration = calibration(&results);
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
            solved: results.iter().filter(|r| r.solved).count(),
            harmful: results.iter().filter(|r| r.harmful).count(),
            suites,
        },
        dimension_stats,
        results,
        calibration,
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
    s.push_str("| suite | scenarios | solved | harmful | average score | pass rate |\n|---|---|---|---|---|---|\n");
    for x in &r.summary.suites {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} / 5 | {:.0}% |\n",
            x.suite,
            x.scenarios,
            x.solved,
            x.harmful,
            x.avg_total_score,
            x.pass_rate * 100.0
        ));
    }
    s.push_str(&format!(
        "| **all** | {} | **{}** | **{}** | {:.2} / 5 | {:.0}% |\n\n",
        r.summary.scenarios_run,
        r.summary.solved,
        r.summary.harmful,
        r.summary.avg_total_score,
        r.summary.pass_rate * 100.0
    ));
    s.push_str(&format!(
        "Solved: origin service right, an acceptable action, and a rollback or flag change aimed at the culprit. \
         Harmful: a rollback or flag change of a change that is not the culprit, or an action the scenario lists as harmful \
         (a harmful scenario never passes). Pass threshold {:.1} on the average of the six dimensions.\n\n",
        r.summary.pass_threshold
    ));
    s.push_str(
        "## Verdicts\n\n| scenario | suite | solved | harmful | why |\n|---|---|---|---|---|\n",
    );
    for res in &r.results {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            res.scenario_id,
            res.suite,
            if res.solved { "✅" } else { "❌" },
            if res.harmful { "⚠️ yes" } else { "no" },
            res.verdict.replace('|', "/")
        ));
    }
    s.push_str("\n## Calibration\n\n| stated confidence | runs | solved | acted (not escalated) |\n|---|---|---|---|\n");
    for b in &r.calibration {
        s.push_str(&format!(
            "| {:.1}–{:.1} | {} | {} | {} |\n",
            b.lo, b.hi, b.runs, b.solved, b.acted
        ));
    }
    s.push('\n');
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
