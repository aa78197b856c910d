//! What the metrics say about *when* the trouble began, to test a suspect change against it.
//! Logs give the first error; metrics show onsets the logs do not: a leak that has been
//! climbing for days, or a service that ran healthy for an hour after a deploy and fell over
//! only when traffic tripled. A change cannot have started a problem that was already under
//! way, and a change followed by a long healthy stretch explains less than a traffic surge
//! that starts exactly when the symptoms do.

use super::signals::Family;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One metric series of one service, oldest point first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub service: String,
    pub metric: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Offered load: request rate, throughput.
    Driver,
    /// Memory held: heap, RSS, goroutines.
    Memory,
    /// Health where more is worse: errors, latency, CPU, restarts.
    Symptom,
    /// Health where less is worse: success ratio, availability.
    InverseSymptom,
}

fn role(metric: &str) -> Option<Role> {
    let m = metric.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    // "requests_per_authorization", "retries_per_call": an amplification ratio, which is a
    // symptom when it grows, not offered load ("requests_per_second" is load).
    let per_thing = m.split("_per_").nth(1).is_some_and(|unit| {
        !["s", "sec", "second", "min", "minute", "hour", "h"]
            .iter()
            .any(|t| unit == *t || unit.starts_with(&format!("{t}_")))
    });
    if has(&["success", "availability", "apdex", "hit_ratio", "hit_rate"]) {
        Some(Role::InverseSymptom)
    } else if per_thing {
        Some(Role::Symptom)
    } else if has(&["request", "rps", "qps", "traffic", "throughput", "inbound"]) {
        Some(Role::Driver)
    } else if has(&["heap", "memory", "mem_", "rss", "goroutine"]) {
        Some(Role::Memory)
    } else if has(&[
        "error", "5xx", "fail", "latency", "p99", "p95", "duration", "cpu", "restart", "oom",
        "gc_pause", "lag", "timeout", "symptom", "decline", "reject", "denied", "refus", "abandon",
        "bounce",
    ]) {
        Some(Role::Symptom)
    } else {
        None
    }
}

impl Series {
    /// Median of the first third of the points: the series before anything happened.
    fn baseline(&self) -> Option<f64> {
        let n = (self.points.len() / 3).max(1);
        let mut head: Vec<f64> = self.points.iter().take(n).map(|p| p.1).collect();
        if head.is_empty() {
            return None;
        }
        head.sort_by(f64::total_cmp);
        Some(head[head.len() / 2])
    }

    fn is_bad(&self, role: Role, base: f64, v: f64) -> bool {
        let ratio_like = self.points.iter().all(|p| (0.0..=1.0).contains(&p.1));
        match role {
            Role::InverseSymptom => v < base * 0.9 && base - v > 0.02,
            Role::Symptom if ratio_like && self.metric.to_lowercase().contains("cpu") => {
                v >= 0.9 && v > base * 1.3
            }
            Role::Symptom if ratio_like => v >= base * 3.0 && v - base >= 0.01,
            Role::Symptom => v >= base * 2.0 && v > base,
            Role::Driver => v >= base * 1.5 && v > base,
            Role::Memory => false,
        }
    }

    /// The first point after the baseline window from which the series stays clearly off its
    /// baseline in the bad direction (beyond its own noise; one relapse allowed): when the
    /// trouble began, often minutes before the first error line.
    fn change_point(&self, role: Role) -> Option<DateTime<Utc>> {
        let n = (self.points.len() / 3).max(1);
        if self.points.len() < 6 {
            return None;
        }
        let mut head: Vec<f64> = self.points.iter().take(n).map(|p| p.1).collect();
        head.sort_by(f64::total_cmp);
        let base = head[head.len() / 2];
        let mut dev: Vec<f64> = head.iter().map(|v| (v - base).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let noise = 1.4826 * dev[dev.len() / 2];
        let p = &super::params::P;
        let ratio_like = self.points.iter().all(|p| (0.0..=1.0).contains(&p.1));
        // A rising symptom must at least grow by half (or a point of a ratio) to count: its
        // baseline noise, estimated from a few points, is often zero. A falling success
        // rate matters at a few per cent.
        let floor = match role {
            Role::Symptom if ratio_like => (0.5 * base.abs()).max(0.01),
            Role::Symptom => 0.5 * base.abs(),
            _ => p.change_point_min_relative * base.abs(),
        };
        let threshold = (p.change_point_noise_multiple * noise).max(floor).max(1e-9);
        let off = |v: f64| match role {
            Role::InverseSymptom => base - v > threshold,
            Role::Symptom => v - base > threshold,
            _ => false,
        };
        let bad: Vec<bool> = self.points.iter().map(|p| off(p.1)).collect();
        (n..bad.len())
            .find(|&i| bad[i] && bad[i..].iter().filter(|b| !**b).count() <= 1)
            .map(|i| self.points[i].0)
    }

    /// The first point from which the series stays bad (allowing one relapse), if any.
    fn onset(&self, role: Role) -> Option<DateTime<Utc>> {
        let base = self.baseline()?;
        let bad: Vec<bool> = self
            .points
            .iter()
            .map(|p| self.is_bad(role, base, p.1))
            .collect();
        (0..bad.len())
            .find(|&i| bad[i] && bad[i..].iter().filter(|b| !**b).count() <= 1)
            .map(|i| self.points[i].0)
    }
}

/// A rise in offered load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Surge {
    pub metric: String,
    /// Peak over baseline.
    pub growth: f64,
    pub onset: DateTime<Utc>,
    /// Whether the health symptoms began within ten minutes of it.
    pub coincides_with_symptoms: bool,
}

/// The metric picture of the origin service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Picture {
    series: Vec<Series>,
    /// Earliest onset among the health symptoms.
    pub symptom_onset: Option<DateTime<Utc>>,
    pub surge: Option<Surge>,
    /// Every health symptom that went bad is back at its baseline at the last point.
    pub recovered: bool,
    /// The earliest change point among the health symptoms (more sensitive than the onset).
    pub change_point: Option<DateTime<Utc>>,
}

/// The verdict on one suspect change.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Multiplies the suspect's score.
    pub factor: f64,
    pub reason: String,
}

impl Picture {
    pub fn new(series: Vec<Series>) -> Self {
        let mut symptom_onset: Option<DateTime<Utc>> = None;
        let mut went_bad = 0;
        let mut still_bad = 0;
        let mut change_point: Option<DateTime<Utc>> = None;
        for s in &series {
            let Some(r) =
                role(&s.metric).filter(|r| matches!(r, Role::Symptom | Role::InverseSymptom))
            else {
                continue;
            };
            let Some(base) = s.baseline() else { continue };
            if s.points.iter().any(|p| s.is_bad(r, base, p.1)) {
                went_bad += 1;
                if s.points.last().is_some_and(|p| s.is_bad(r, base, p.1)) {
                    still_bad += 1;
                }
            }
            if let Some(t) = s.onset(r) {
                symptom_onset = Some(symptom_onset.map_or(t, |o| o.min(t)));
                // A change point only for a series that went clearly bad.
                if let Some(c) = s.change_point(r) {
                    change_point = Some(change_point.map_or(c, |o: DateTime<Utc>| o.min(c)));
                }
            }
        }
        let surge = series
            .iter()
            .filter(|s| role(&s.metric) == Some(Role::Driver))
            .filter_map(|s| {
                let base = s.baseline().filter(|b| *b > 0.0)?;
                let onset = s.onset(Role::Driver)?;
                let peak = s.points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
                Some(Surge {
                    metric: s.metric.clone(),
                    growth: (peak / base * 10.0).round() / 10.0,
                    onset,
                    coincides_with_symptoms: symptom_onset
                        .is_some_and(|o| (o - onset).num_minutes().abs() <= 10),
                })
            })
            .max_by(|a, b| a.growth.total_cmp(&b.growth));
        Picture {
            series,
            symptom_onset,
            surge,
            recovered: went_bad > 0 && still_bad == 0,
            change_point,
        }
    }

    /// Whether any series is a health symptom (errors, latency, success ratio).
    pub fn has_symptom_series(&self) -> bool {
        self.series
            .iter()
            .any(|s| matches!(role(&s.metric), Some(Role::Symptom | Role::InverseSymptom)))
    }

    /// The change point of the series named `metric` (the alert's own metric), if it has one.
    pub fn change_point_of(&self, metric: &str) -> Option<DateTime<Utc>> {
        self.series
            .iter()
            .filter(|s| s.metric.eq_ignore_ascii_case(metric))
            .filter_map(|s| {
                let r = role(&s.metric)
                    .filter(|r| matches!(r, Role::Symptom | Role::InverseSymptom))?;
                s.change_point(r)
            })
            .min()
    }

    /// A traffic surge of at least `min_growth` that began when the symptoms did.
    pub fn coincident_surge(&self, min_growth: f64) -> Option<&Surge> {
        self.surge
            .as_ref()
            .filter(|s| s.coincides_with_symptoms && s.growth >= min_growth)
    }

    /// Whether the metrics argue against a change at `at` having started the failure.
    pub fn judge(&self, at: DateTime<Utc>, family: Option<Family>) -> Option<Verdict> {
        if family == Some(Family::Memory)
            && let Some(v) = self.memory_already_climbing(at)
        {
            return Some(v);
        }
        let onset = self.symptom_onset?;
        let surge = self.coincident_surge(super::params::P.surge_factor)?;
        if onset - at < Duration::minutes(15) {
            return None;
        }
        // Healthy samples between the change and the onset: the change alone did not do it.
        let healthy = self
            .series
            .iter()
            .filter_map(|s| {
                let r = role(&s.metric)
                    .filter(|r| *r == Role::Symptom || *r == Role::InverseSymptom)?;
                let base = s.baseline()?;
                let ok: Vec<_> = s
                    .points
                    .iter()
                    .filter(|p| p.0 > at && p.0 < onset && !s.is_bad(r, base, p.1))
                    .collect();
                (!ok.is_empty()).then(|| (s.metric.clone(), ok.last().map(|p| p.0)))
            })
            .next()?;
        let (metric, last_ok) = healthy;
        let healthy_for = (last_ok.unwrap_or(at) - at).num_minutes();
        Some(Verdict {
            factor: super::params::P.verdict_already_under_way,
            reason: format!(
                "{metric} was still at its baseline {healthy_for} min after the change; the symptoms began at {} together with a {:.1}x rise in {}",
                onset.format("%H:%M"),
                surge.growth,
                surge.metric
            ),
        })
    }

    /// A failure that shows at once (a defect, a bad setting) whose symptoms turned long after
    /// the change, the metrics healthy in between: the change alone did not start it.
    /// Failures that build up (leaks, pools, disks) are left alone.
    pub fn healthy_after(&self, at: DateTime<Utc>, family: Option<Family>) -> Option<Verdict> {
        use super::params::P;
        if matches!(family, Some(Family::Memory | Family::Pool | Family::Disk)) {
            return None;
        }
        let turned = self.change_point?;
        let quiet = (turned - at).num_minutes();
        if quiet < P.healthy_after_change_minutes {
            return None;
        }
        let healthy = self.series.iter().any(|s| {
            let Some(r) =
                role(&s.metric).filter(|r| matches!(r, Role::Symptom | Role::InverseSymptom))
            else {
                return false;
            };
            s.baseline().is_some_and(|base| {
                s.points
                    .iter()
                    .filter(|p| p.0 > at && p.0 < turned)
                    .any(|p| !s.is_bad(r, base, p.1))
            })
        });
        healthy.then(|| Verdict {
            factor: P.verdict_healthy_after,
            reason: format!(
                "the symptoms stayed at their baseline for {quiet} min after it (they turned at {})",
                turned.format("%H:%M")
            ),
        })
    }

    /// A memory series that rose steadily over hours before `at`.
    /// Memory that began a steady climb to its peak (at least doubling over an hour or more)
    /// within `window` after `at`, flat before it: a leak the change shipped. The reason, if so.
    pub fn leak_began_after(&self, at: DateTime<Utc>, window: Duration) -> Option<String> {
        self.series
            .iter()
            .filter(|s| role(&s.metric) == Some(Role::Memory))
            .find_map(|s| {
                let peak_i = s
                    .points
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.1.total_cmp(&b.1.1))?
                    .0;
                let mut start = peak_i;
                while start > 0 && s.points[start - 1].1 <= s.points[start].1 * 1.03 {
                    start -= 1;
                }
                let (t0, v0) = s.points[start];
                let (t1, v1) = s.points[peak_i];
                let flat_before = s.points[..start].iter().all(|p| p.1 <= v0 * 1.3);
                (v0 > 0.0
                    && v1 >= 2.0 * v0
                    && t1 - t0 >= Duration::hours(1)
                    && t0 >= at - Duration::minutes(10)
                    && t0 <= at + window
                    && flat_before)
                    .then(|| {
                        format!(
                            "{} began a steady climb {} min after it ({v0:.0} → {v1:.0} by {})",
                            s.metric,
                            (t0 - at).num_minutes().max(0),
                            t1.format("%H:%M")
                        )
                    })
            })
    }

    fn memory_already_climbing(&self, at: DateTime<Utc>) -> Option<Verdict> {
        self.series
            .iter()
            .filter(|s| role(&s.metric) == Some(Role::Memory))
            .find_map(|s| {
                let before: Vec<_> = s.points.iter().filter(|p| p.0 < at).collect();
                let (first, last) = (before.first()?, before.last()?);
                let steady = before.windows(2).all(|w| w[1].1 >= w[0].1 * 0.97);
                let span = last.0 - first.0;
                (before.len() >= 3
                    && steady
                    && span >= Duration::hours(6)
                    && first.1 > 0.0
                    && last.1 >= first.1 * 1.3)
                    .then(|| Verdict {
                        factor: super::params::P.verdict_leak_under_way,
                        reason: format!(
                            "{} was already climbing for {} h before the change ({:.0} → {:.0})",
                            s.metric,
                            (at - first.0).num_hours(),
                            first.1,
                            last.1
                        ),
                    })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-02T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(min)
    }

    fn series(metric: &str, pts: &[(i64, f64)]) -> Series {
        Series {
            service: "gw".into(),
            metric: metric.into(),
            points: pts.iter().map(|(m, v)| (t(*m), *v)).collect(),
        }
    }

    fn surge_picture() -> Picture {
        Picture::new(vec![
            series(
                "request_rate",
                &[
                    (-20, 1000.0),
                    (-15, 1010.0),
                    (-10, 1005.0),
                    (-5, 1020.0),
                    (0, 2200.0),
                    (2, 2900.0),
                    (4, 3100.0),
                ],
            ),
            series(
                "p99_latency_ms",
                &[
                    (-20, 180.0),
                    (-15, 181.0),
                    (-10, 176.0),
                    (-5, 183.0),
                    (0, 640.0),
                    (2, 1980.0),
                    (4, 2400.0),
                ],
            ),
        ])
    }

    #[test]
    fn a_change_followed_by_a_healthy_hour_and_a_surge_is_doubted() {
        let p = surge_picture();
        assert_eq!(p.symptom_onset, Some(t(0)));
        let s = p.coincident_surge(1.8).expect("a coincident surge");
        assert!(s.growth >= 3.0, "{s:?}");
        let v = p.judge(t(-48), Some(Family::Load)).expect("doubted");
        assert!(v.factor < 0.5, "{v:?}");
        assert!(v.reason.contains("request_rate"), "{}", v.reason);
        // A change right before the onset is not doubted.
        assert_eq!(p.judge(t(-3), Some(Family::Load)), None);
    }

    #[test]
    fn without_a_surge_a_late_failure_still_counts_against_the_change() {
        let p = Picture::new(vec![
            series(
                "request_rate",
                &[(-20, 1000.0), (-10, 1010.0), (0, 1005.0), (5, 990.0)],
            ),
            series(
                "p99_latency_ms",
                &[(-20, 180.0), (-10, 181.0), (0, 900.0), (5, 2400.0)],
            ),
        ]);
        assert!(p.surge.is_none());
        assert_eq!(p.judge(t(-48), Some(Family::CodeError)), None);
    }

    #[test]
    fn a_leak_that_predates_the_change_clears_it() {
        let day = 24 * 60;
        let p = Picture::new(vec![series(
            "heap_inuse_mb",
            &[
                (-3 * day, 1290.0),
                (-2 * day, 1488.0),
                (-day, 1679.0),
                (-60, 1760.0),
                (0, 1842.0),
                (30, 1960.0),
            ],
        )]);
        let v = p.judge(t(15), Some(Family::Memory)).expect("cleared");
        assert!(
            v.factor < 0.3 && v.reason.contains("already climbing"),
            "{v:?}"
        );
        // A leak that starts after the deploy (flat before it) does not clear the deploy.
        let p = Picture::new(vec![series(
            "heap_used_mb",
            &[
                (-20, 182.0),
                (-15, 190.0),
                (-10, 186.0),
                (-5, 330.0),
                (0, 612.0),
                (5, 850.0),
            ],
        )]);
        assert_eq!(p.judge(t(-10), Some(Family::Memory)), None);
    }

    #[test]
    fn a_blip_that_is_over_counts_as_recovered() {
        let p = Picture::new(vec![series(
            "p99_latency_ms",
            &[
                (-20, 90.0),
                (-15, 92.0),
                (-10, 88.0),
                (-5, 91.0),
                (0, 1400.0),
                (2, 1500.0),
                (6, 95.0),
                (10, 90.0),
            ],
        )]);
        assert!(p.recovered);
        assert!(!surge_picture().recovered);
    }

    #[test]
    fn a_falling_success_rate_changes_before_it_crosses_the_bad_line() {
        let pts: Vec<(i64, f64)> = [
            0.955, 0.958, 0.953, 0.951, 0.93, 0.907, 0.879, 0.845, 0.805, 0.75,
        ]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 3, *v))
        .collect();
        let p = Picture::new(vec![series("payment_success_rate", &pts)]);
        // The onset (10 % below baseline) is at minute 21; the change point at minute 12.
        assert_eq!(p.symptom_onset, Some(t(21)));
        assert_eq!(p.change_point, Some(t(12)));
    }

    #[test]
    fn a_flat_tiny_baseline_is_not_a_change_point() {
        let pts = [
            (0, 0.002),
            (2, 0.002),
            (4, 0.003),
            (6, 0.002),
            (8, 0.003),
            (10, 0.004),
            (12, 0.002),
            (14, 0.004),
            (16, 0.36),
            (18, 0.41),
        ];
        let p = Picture::new(vec![series("error_rate", &pts)]);
        assert_eq!(p.change_point, Some(t(16)));
    }

    #[test]
    fn the_alert_metric_has_its_own_change_point() {
        let declines: Vec<(i64, f64)> = [0.04, 0.042, 0.038, 0.043, 0.041, 0.04, 0.196, 0.2, 0.21]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 3, *v))
            .collect();
        let errors = [
            (0, 0.002),
            (3, 0.002),
            (6, 0.003),
            (9, 0.002),
            (12, 0.002),
            (15, 0.002),
        ];
        let p = Picture::new(vec![
            series("payment_decline_rate", &declines),
            series("error_rate", &errors),
        ]);
        assert_eq!(p.change_point_of("payment_decline_rate"), Some(t(18)));
        assert_eq!(p.change_point_of("error_rate"), None);
        assert_eq!(p.change_point_of("no_such_metric"), None);
    }

    #[test]
    fn ratios_per_thing_are_symptoms_rates_per_second_are_load() {
        assert_eq!(
            role("cardproc_requests_per_authorization"),
            Some(Role::Symptom)
        );
        assert_eq!(role("retries_per_call"), Some(Role::Symptom));
        assert_eq!(role("requests_per_second"), Some(Role::Driver));
        assert_eq!(role("request_rate"), Some(Role::Driver));
    }

    #[test]
    fn a_setting_the_symptoms_stayed_healthy_long_after_is_doubted() {
        let pts: Vec<(i64, f64)> = (-60..=10)
            .map(|m| {
                (
                    m,
                    if m < 0 {
                        0.01 + (m % 3) as f64 * 0.001
                    } else {
                        0.45
                    },
                )
            })
            .collect();
        let p = Picture::new(vec![series("error_rate", &pts)]);
        let v = p.healthy_after(t(-45), Some(Family::CodeError)).unwrap();
        assert!(v.factor < 1.0);
        assert!(
            v.reason.contains("stayed at their baseline"),
            "{}",
            v.reason
        );
        // Right before the symptoms turned: no doubt.
        assert!(p.healthy_after(t(-5), Some(Family::CodeError)).is_none());
        // The threshold: 18 minutes of healthy symptoms after a hot-reloaded setting already
        // doubt it; 12 do not.
        assert!(p.healthy_after(t(-18), Some(Family::CodeError)).is_some());
        assert!(p.healthy_after(t(-12), Some(Family::CodeError)).is_none());
        // A leak builds up over hours: not judged this way.
        assert!(p.healthy_after(t(-45), Some(Family::Memory)).is_none());
    }

    #[test]
    fn a_leak_that_began_after_a_change_is_seen_and_one_already_under_way_is_not() {
        let heap = series(
            "heap_used_mb",
            &[
                (5, 310.0),
                (60, 360.0),
                (120, 470.0),
                (240, 650.0),
                (360, 870.0),
                (420, 1009.0),
                (425, 330.0),
            ],
        );
        let p = Picture::new(vec![heap]);
        let why = p
            .leak_began_after(t(0), Duration::minutes(60))
            .expect("a leak from the change");
        assert!(why.contains("heap_used_mb"), "{why}");
        // A change made well into the climb did not start it.
        assert!(p.leak_began_after(t(200), Duration::minutes(60)).is_none());
        // Memory that was already climbing before the change: not its leak.
        let older = series(
            "heap_used_mb",
            &[
                (-300, 100.0),
                (-200, 200.0),
                (5, 310.0),
                (120, 470.0),
                (420, 1009.0),
            ],
        );
        assert!(
            Picture::new(vec![older])
                .leak_began_after(t(0), Duration::minutes(60))
                .is_none()
        );
    }
}
