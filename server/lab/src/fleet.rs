//! The simulated fleet: every catalogue service with its instances, ticked once a second.
//! Traffic follows a daily shape with noise; each service's failures are its own (a fault)
//! combined with its dependencies' (a hard dependency's failures become its own, a soft
//! one's only partly), its saturation (more offered load than capacity) and, for a dependency
//! slower than the caller's timeout, timeouts. Counters and gauges accumulate per instance
//! for `/metrics`; log lines go to one file per service.

use crate::catalog::Catalog;
use crate::faults::{Change, Kind, Plan};
use crate::logs::{self, Level, Line};
use chrono::{DateTime, Duration, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Histogram buckets of `http_request_duration_seconds` (seconds).
pub const BUCKETS: [f64; 9] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// A caller gives up on a dependency after this long.
const CALL_TIMEOUT_SECS: f64 = 2.0;
const MEM_LIMIT: f64 = 1024.0 * 1024.0 * 1024.0;
const DISK_SIZE: f64 = 50.0 * 1024.0 * 1024.0 * 1024.0;

#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub id: String,
    pub version: String,
    pub requests: BTreeMap<u16, f64>,
    pub buckets: [f64; 9],
    pub duration_sum: f64,
    pub duration_count: f64,
    pub cpu_seconds: f64,
    pub memory: f64,
    pub restarts: u32,
    /// Down (restarting) until then.
    pub down_until: Option<DateTime<Utc>>,
    pub pool_used: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub language: String,
    pub base_rps: f64,
    pub base_latency: f64,
    pub instances: Vec<Instance>,
    pub version: String,
    pub previous_version: String,
    pub pool_max: f64,
    pub queue_depth: f64,
    pub disk_used: f64,
    /// Extra instances an approved scale added.
    pub scaled: u32,
    /// This tick's share of failing requests, as its callers see it.
    pub failing: f64,
    /// This tick's typical latency (seconds).
    pub latency: f64,
    /// The share of its instances slower than a caller's timeout.
    pub slow_share: f64,
    pub rps: f64,
}

/// A fault being acted out, with what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct Active {
    pub plan: Plan,
    /// The plan's changes that have landed (by id).
    pub landed: Vec<String>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub cleared_by: Option<String>,
}

/// An action the executor carried out.
#[derive(Debug, Clone, Serialize)]
pub struct Executed {
    pub at: DateTime<Utc>,
    pub incident: String,
    pub action: String,
    pub target: Option<String>,
    pub fixed: bool,
}

pub struct Fleet {
    pub catalog: Catalog,
    pub services: BTreeMap<String, Service>,
    pub active: Option<Active>,
    pub history: Vec<Active>,
    pub executed: Vec<Executed>,
    /// Flags that are on, by change id.
    pub flags_off: Vec<String>,
    log_dir: PathBuf,
    rng: StdRng,
    pub now: DateTime<Utc>,
}

fn pod(rng: &mut StdRng, service: &str, i: usize) -> String {
    const ALNUM: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let s: String = (0..5)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    format!("{service}-7d9c5b6f8-{s}{i}")
}

impl Fleet {
    pub fn new(
        catalog: Catalog,
        log_dir: &Path,
        seed: u64,
        now: DateTime<Utc>,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(log_dir)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut services = BTreeMap::new();
        for s in &catalog.services {
            let (rps, lat) = match s.name.as_str() {
                "cdn-proxy" => (150.0, 0.012),
                "api-gateway" => (120.0, 0.02),
                "auth-service" => (80.0, 0.015),
                "user-service" => (90.0, 0.03),
                "order-service" => (40.0, 0.06),
                "payment-service" => (30.0, 0.09),
                "notification-service" => (20.0, 0.05),
                _ => (10.0, 0.2),
            };
            let version = format!(
                "v{}.{}.{}",
                rng.random_range(1..5),
                rng.random_range(0..20),
                rng.random_range(0..9)
            );
            let n = if s.name == "api-gateway" { 4 } else { 3 };
            let instances = (0..n)
                .map(|i| Instance {
                    id: pod(&mut rng, &s.name, i),
                    version: version.clone(),
                    requests: BTreeMap::new(),
                    buckets: [0.0; 9],
                    duration_sum: 0.0,
                    duration_count: 0.0,
                    cpu_seconds: 0.0,
                    memory: 350e6 + rng.random_range(0.0..150e6),
                    restarts: 0,
                    down_until: None,
                    pool_used: 2.0,
                })
                .collect();
            services.insert(
                s.name.clone(),
                Service {
                    name: s.name.clone(),
                    language: s.language.clone(),
                    base_rps: rps,
                    base_latency: lat,
                    instances,
                    previous_version: version.clone(),
                    version,
                    pool_max: 20.0,
                    queue_depth: 5.0,
                    disk_used: DISK_SIZE * 0.42,
                    scaled: 0,
                    failing: 0.0,
                    latency: lat,
                    slow_share: 0.0,
                    rps,
                },
            );
        }
        Ok(Self {
            catalog,
            services,
            active: None,
            history: Vec::new(),
            executed: Vec::new(),
            flags_off: Vec::new(),
            log_dir: log_dir.to_path_buf(),
            rng,
            now,
        })
    }

    /// The daily traffic shape: low at night, a morning ramp, an evening peak.
    fn shape(t: DateTime<Utc>) -> f64 {
        let h = t.hour() as f64 + t.minute() as f64 / 60.0;
        0.75 + 0.25 * ((h - 9.0) / 24.0 * std::f64::consts::TAU).sin()
    }

    /// The fault that is acting now (started, not cleared, not over).
    fn acting(&self, at: DateTime<Utc>) -> Option<&Plan> {
        let a = self.active.as_ref()?;
        if a.cleared_at.is_some() || at < a.plan.onset {
            return None;
        }
        if let Some(l) = a.plan.lasts_secs
            && at > a.plan.onset + Duration::seconds(l)
        {
            return None;
        }
        Some(&a.plan)
    }

    /// Starts acting `plan` out: each of its changes lands when its time comes (a deploy rolls
    /// out then), the symptoms begin at its onset.
    pub fn inject(&mut self, plan: Plan) {
        if let Some(old) = self.active.take() {
            self.history.push(old);
        }
        self.active = Some(Active {
            plan,
            landed: Vec::new(),
            cleared_at: None,
            cleared_by: None,
        });
    }

    /// Lands the plan's changes that are due: deploys change the versions their instances run.
    /// Returns them, to announce.
    fn land(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        let Some(a) = self.active.as_mut() else {
            return vec![];
        };
        let due: Vec<Change> = a
            .plan
            .changes()
            .into_iter()
            .filter(|c| c.ts <= now && !a.landed.contains(&c.id))
            .collect();
        let culprit = a.plan.culprit.as_ref().map(|c| c.id.clone());
        for c in &due {
            a.landed.push(c.id.clone());
            if c.kind == "deploy"
                && let (Some(v), Some(s)) = (&c.version, self.services.get_mut(&c.service))
            {
                s.previous_version = s.version.clone();
                s.version = v.clone();
                // The culprit is caught mid-rollout (two instances of three run it), so its
                // errors come only from its instances; other deploys finish at once.
                let reach = if culprit.as_ref() == Some(&c.id) {
                    2
                } else {
                    s.instances.len()
                };
                for i in s.instances.iter_mut().take(reach) {
                    i.version = v.clone();
                }
            }
        }
        due
    }

    /// Ends the current fault without an action (between lab runs): deploys stay as they are.
    pub fn reset(&mut self) {
        if let Some(mut a) = self.active.take() {
            if a.cleared_at.is_none() {
                a.cleared_at = Some(self.now);
                a.cleared_by = Some("reset".into());
            }
            self.history.push(a);
        }
        for s in self.services.values_mut() {
            s.scaled = 0;
            s.disk_used = DISK_SIZE * 0.42;
            for i in &mut s.instances {
                i.memory = 350e6 + 100e6;
                i.down_until = None;
            }
        }
    }

    /// Carries out an approved action; returns whether it fixed the fault and the change to
    /// announce (a rollback is a deploy of the previous version).
    pub fn execute(
        &mut self,
        incident: &str,
        action: &str,
        target: Option<&str>,
    ) -> (bool, Option<Change>) {
        let now = self.now;
        let fixes = self
            .active
            .as_ref()
            .is_some_and(|a| a.cleared_at.is_none() && a.plan.fixed_by(action, target));
        let mut announce = None;
        match action {
            "rollback" => {
                // Which service the change belongs to: the plan knows its changes.
                let change = self.active.as_ref().and_then(|a| {
                    a.plan
                        .changes()
                        .into_iter()
                        .find(|c| Some(c.id.as_str()) == target)
                });
                if let Some(c) = change {
                    if c.kind == "deploy"
                        && let Some(s) = self.services.get_mut(&c.service)
                    {
                        let back = s.previous_version.clone();
                        s.previous_version = s.version.clone();
                        s.version = back.clone();
                        // A rollback replaces the pods: fresh memory.
                        for i in &mut s.instances {
                            i.version = back.clone();
                            i.memory = 400e6;
                            i.down_until = None;
                        }
                        announce = Some(Change {
                            id: format!("rollback-{}", c.id),
                            service: c.service.clone(),
                            kind: "deploy".into(),
                            description: format!(
                                "rollback of {} ({}) to {back}",
                                c.id, c.description
                            ),
                            version: Some(back),
                            ts: now,
                            files: vec![],
                        });
                    } else {
                        self.flags_off.push(c.id.clone());
                    }
                }
            }
            "disable_flag" => {
                if let Some(t) = target {
                    self.flags_off.push(t.to_string());
                }
            }
            "restart" => {
                if let Some(s) = target.and_then(|t| self.services.get_mut(t)) {
                    for i in &mut s.instances {
                        i.memory = 400e6;
                        i.restarts += 1;
                    }
                }
            }
            "scale" => {
                if let Some(s) = target.and_then(|t| self.services.get_mut(t)) {
                    s.scaled += 3;
                }
            }
            _ => {}
        }
        // A forward fix of a full disk frees it.
        if fixes
            && action == "hotfix"
            && let Some(a) = &self.active
            && a.plan.kind == Kind::DiskFull
            && let Some(s) = self.services.get_mut(&a.plan.service)
        {
            s.disk_used = DISK_SIZE * 0.42;
        }
        if fixes && let Some(a) = self.active.as_mut() {
            a.cleared_at = Some(now);
            a.cleared_by = Some(
                format!("{action} {}", target.unwrap_or(""))
                    .trim()
                    .to_string(),
            );
        }
        self.executed.push(Executed {
            at: now,
            incident: incident.to_string(),
            action: action.to_string(),
            target: target.map(String::from),
            fixed: fixes,
        });
        (fixes, announce)
    }

    /// Advances the fleet by `dt` seconds to `now` and writes this tick's log lines. Returns
    /// the changes that landed in this tick (to announce).
    pub fn tick(&mut self, now: DateTime<Utc>, dt: f64) -> Vec<Change> {
        self.now = now;
        let landed = self.land(now);
        for c in &landed {
            self.note(
                &c.service,
                &format!("{} {} rolled out: {}", c.kind, c.id, c.description),
            );
        }
        let plan = self.acting(now).cloned();
        let order = self.catalog.bottom_up();
        let mut failing: BTreeMap<String, f64> = BTreeMap::new();
        let mut latency: BTreeMap<String, f64> = BTreeMap::new();
        let mut slow: BTreeMap<String, f64> = BTreeMap::new();
        // Backends (datastores, vendors): healthy unless the fault is theirs.
        for b in self.catalog.backends() {
            let f = match &plan {
                Some(p)
                    if p.kind == Kind::VendorOutage
                        && p.dependency.as_deref() == Some(b.as_str()) =>
                {
                    0.85 * p.magnitude
                }
                _ => 0.0,
            };
            failing.insert(b.clone(), f);
            latency.insert(b, 0.005);
        }
        let mut lines: Vec<PendingLine> = Vec::new();
        for name in order {
            let deps: Vec<(String, bool)> = self
                .catalog
                .deps_of(&name)
                .map(|e| (e.to.clone(), e.hard()))
                .collect();
            let shape = Self::shape(now);
            let noise = 1.0 + self.rng.random_range(-0.05..0.05);
            let svc = self
                .services
                .get(&name)
                .cloned()
                .expect("every catalogue service is simulated");
            let mut rate = svc.base_rps * shape * noise;
            if let Some(p) = &plan {
                if p.kind == Kind::TrafficSurge && p.service == name {
                    rate *= 3.0 + p.magnitude;
                }
                if p.kind == Kind::RetryStorm && p.service == name {
                    rate *= 3.0 + p.magnitude;
                }
            }
            let n_up = svc
                .instances
                .iter()
                .filter(|i| i.down_until.is_none_or(|d| d <= now))
                .count()
                .max(1) as f64
                + svc.scaled as f64;
            let capacity = svc.base_rps * 1.6 / svc.instances.len() as f64 * n_up;
            let sat = ((rate - capacity) / rate).max(0.0);
            // The dependencies' share of failures and their slowness, as this service sees them.
            let mut ok_up = 1.0;
            let mut dep_latency: f64 = 0.0;
            let mut worst_dep: Option<(String, f64)> = None;
            for (d, hard) in &deps {
                let mut f = failing.get(d).copied().unwrap_or(0.0);
                let l = latency.get(d).copied().unwrap_or(0.0);
                // Calls to its slow instances time out.
                f = f.max(0.9 * slow.get(d).copied().unwrap_or(0.0));
                if let Some(p) = &plan
                    && p.kind == Kind::CertExpiry
                    && p.service == *d
                {
                    f = 1.0;
                }
                let weight = if *hard { 1.0 } else { 0.05 };
                ok_up *= 1.0 - weight * f;
                if *hard {
                    dep_latency = dep_latency.max(l.min(CALL_TIMEOUT_SECS));
                }
                if f * weight > 0.02 && worst_dep.as_ref().is_none_or(|(_, w)| f * weight > *w) {
                    worst_dep = Some((d.clone(), f * weight));
                }
            }
            let up_fail = 1.0 - ok_up;
            let mut svc = svc;
            let mut total_fail = 0.0;
            let mut lat_sum = 0.0;
            let mut n_slow = 0.0;
            let per_inst = rate / svc.instances.len() as f64;
            let pool_max = svc.pool_max;
            let mut restarted: Vec<String> = Vec::new();
            for inst in &mut svc.instances {
                let down = inst.down_until.is_some_and(|d| d > now);
                let (own, own_code, extra_lat, leak) =
                    own_effect(plan.as_ref(), &name, inst, &self.flags_off);
                let mut lat = svc.base_latency + extra_lat + dep_latency + sat * 1.5;
                if down {
                    lat = 0.001;
                }
                let fail = if down {
                    1.0
                } else {
                    1.0 - (1.0 - own) * (1.0 - up_fail) * (1.0 - sat)
                };
                let n = per_inst * dt;
                let failed = n * fail;
                // Which code the failures carry: the largest cause's.
                let own_part = if down { 0.0 } else { own };
                let code = if down || sat >= own_part.max(up_fail) {
                    503
                } else if own_part >= up_fail {
                    own_code
                } else if dep_latency >= CALL_TIMEOUT_SECS * 0.99 {
                    504
                } else {
                    502
                };
                *inst.requests.entry(200).or_default() += n - failed;
                if failed > 0.0 {
                    *inst.requests.entry(code).or_default() += failed;
                }
                for (share, mult) in [(0.5, 0.7), (0.4, 1.0), (0.09, 2.0), (0.01, 4.0)] {
                    let v = lat * mult;
                    for (b, le) in BUCKETS.iter().enumerate() {
                        if v <= *le {
                            inst.buckets[b] += n * share;
                        }
                    }
                    inst.duration_sum += n * share * v;
                }
                inst.duration_count += n;
                let cpu = 0.15 + per_inst / 200.0 + if extra_lat > 0.5 { 0.7 } else { 0.0 } + sat;
                inst.cpu_seconds += cpu.min(2.0) * dt;
                inst.memory += leak * dt + self.rng.random_range(-2e5..2e5);
                inst.pool_used = if matches!(&plan, Some(p) if p.kind == Kind::PoolExhaustion && p.service == name && inst.version == svc.version)
                {
                    pool_max
                } else {
                    (2.0 + per_inst / 20.0).min(pool_max)
                };
                if inst.memory >= MEM_LIMIT {
                    inst.memory = 380e6;
                    inst.restarts += 1;
                    inst.down_until = Some(now + Duration::seconds(8));
                    restarted.push(inst.id.clone());
                }
                total_fail += fail;
                lat_sum += lat;
                if lat > CALL_TIMEOUT_SECS {
                    n_slow += 1.0;
                }
            }
            let n = svc.instances.len() as f64;
            svc.failing = total_fail / n;
            svc.latency = lat_sum / n;
            svc.slow_share = n_slow / n;
            svc.rps = rate;
            if matches!(&plan, Some(p) if p.kind == Kind::DiskFull && p.service == name) {
                svc.disk_used = (svc.disk_used + DISK_SIZE * 0.02 * dt).min(DISK_SIZE * 0.999);
            }
            if name == "notification-service" || name == "analytics-pipeline" {
                svc.queue_depth =
                    (svc.queue_depth + (svc.failing - 0.02) * 40.0 * dt).clamp(0.0, 1e6);
            }
            failing.insert(name.clone(), svc.failing);
            latency.insert(name.clone(), svc.latency);
            slow.insert(name.clone(), svc.slow_share);
            // Log lines: a few per second of what fails, background noise otherwise.
            let errors_per_sec = rate * svc.failing;
            let n_err = if errors_per_sec > 0.5 {
                (errors_per_sec / 15.0).ceil().min(2.0) as usize
            } else {
                0
            };
            for k in 0..n_err {
                let inst = &svc.instances[(k + self.rng.random_range(0..3)) % svc.instances.len()];
                let own_share = {
                    let (own, _, _, _) = own_effect(plan.as_ref(), &name, inst, &self.flags_off);
                    own
                };
                let (lvl, logger, msg, exc) = if sat > 0.05 && sat >= own_share {
                    saturation_line(&name, plan.as_ref())
                } else if own_share > 0.01 {
                    fault_line(
                        plan.as_ref().expect("an own failure comes from a fault"),
                        &name,
                        &svc.language,
                        self.rng.random_range(0..3),
                    )
                } else if let Some((dep, _)) = &worst_dep {
                    dependency_line(
                        dep,
                        plan.as_ref(),
                        slow.get(dep).copied().unwrap_or(0.0) > 0.0,
                    )
                } else {
                    continue;
                };
                lines.push((
                    name.clone(),
                    lvl,
                    inst.id.clone(),
                    format!("{logger}\u{1}{msg}"),
                    exc,
                ));
            }
            // Precursors that are not failures yet: memory pressure, a filling disk.
            if let Some(p) = &plan
                && p.service == name
            {
                let heavy = svc.instances.iter().find(|i| i.memory > MEM_LIMIT * 0.8);
                if let Some(i) = heavy
                    && self.rng.random_bool(0.3)
                {
                    let pct = i.memory / MEM_LIMIT * 100.0;
                    lines.push((name.clone(), Level::Warn, i.id.clone(), format!("runtime\u{1}heap usage {pct:.0}% of the container limit, GC running back to back"), None));
                }
                if p.kind == Kind::DiskFull
                    && svc.disk_used > DISK_SIZE * 0.9
                    && self.rng.random_bool(0.2)
                {
                    let pct = svc.disk_used / DISK_SIZE * 100.0;
                    lines.push((
                        name.clone(),
                        Level::Warn,
                        svc.instances[0].id.clone(),
                        format!("storage\u{1}disk usage {pct:.0}% on /data (spool)"),
                        None,
                    ));
                }
            }
            for id in restarted {
                lines.push((
                    name.clone(),
                    Level::Error,
                    id.clone(),
                    "kubelet\u{1}container killed: OOMKilled (exit code 137), restarting".into(),
                    None,
                ));
            }
            if self.rng.random_bool(0.25) {
                let (lg, m) = logs::NOISE[self.rng.random_range(0..logs::NOISE.len())];
                let id = svc.instances[self.rng.random_range(0..svc.instances.len())]
                    .id
                    .clone();
                lines.push((name.clone(), Level::Info, id, format!("{lg}\u{1}{m}"), None));
            }
            if self.rng.random_bool(0.01) {
                let (lg, m) = logs::NOISE_WARN[self.rng.random_range(0..logs::NOISE_WARN.len())];
                let id = svc.instances[0].id.clone();
                lines.push((name.clone(), Level::Warn, id, format!("{lg}\u{1}{m}"), None));
            }
            self.services.insert(name, svc);
        }
        for (service, level, pod, lm, exc) in lines {
            let (logger, msg) = lm.split_once('\u{1}').unwrap_or(("app", lm.as_str()));
            let s = &self.services[&service];
            let version = s
                .instances
                .iter()
                .find(|i| i.id == pod)
                .map(|i| i.version.as_str())
                .unwrap_or(&s.version);
            let frames: Vec<&str> = exc
                .as_ref()
                .map(|(_, f)| f.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let line = Line {
                ts: now,
                level,
                logger,
                msg,
                pod: &pod,
                version,
                exception: exc.as_ref().map(|(h, _)| (h.as_str(), frames.as_slice())),
            };
            let text = logs::format(&s.language, &line);
            self.write_log(&service, &text);
        }
        landed
    }

    fn write_log(&self, service: &str, text: &str) {
        let path = self.log_dir.join(format!("{service}.log"));
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(f, "{text}");
        }
    }

    /// Writes one line to a service's log (the executor's and the deploy pipeline's notes).
    pub fn note(&self, service: &str, msg: &str) {
        let Some(s) = self.services.get(service) else {
            return;
        };
        let line = Line {
            ts: self.now,
            level: Level::Info,
            logger: "deploy",
            msg,
            pod: &s.instances[0].id,
            version: &s.version,
            exception: None,
        };
        self.write_log(service, &logs::format(&s.language, &line));
    }
}

/// The fault's own effect on one instance: (failing share, status code, extra latency in
/// seconds, memory growth in bytes per second).
fn own_effect(
    plan: Option<&Plan>,
    service: &str,
    inst: &Instance,
    flags_off: &[String],
) -> (f64, u16, f64, f64) {
    let Some(p) = plan else {
        return (0.0, 500, 0.0, 0.0);
    };
    if p.service != service {
        return (0.0, 500, 0.0, 0.0);
    }
    let on_new =
        p.culprit.as_ref().and_then(|c| c.version.as_deref()) == Some(inst.version.as_str());
    let m = p.magnitude;
    match p.kind {
        Kind::BadDeploy | Kind::Irreversible if on_new => (0.55 * m + 0.2, 500, 0.0, 0.0),
        Kind::BadConfig => (0.5 * m + 0.15, 500, 0.0, 0.0),
        Kind::BadFlag
            if !p
                .culprit
                .as_ref()
                .is_some_and(|c| flags_off.contains(&c.id)) =>
        {
            (0.3 * m + 0.1, 500, 0.0, 0.0)
        }
        Kind::PoolExhaustion if on_new => (0.35 * m + 0.1, 503, 2.5, 0.0),
        Kind::LeakDeploy if on_new => (0.0, 500, 0.0, 5.5e6 * (0.6 + m)),
        Kind::SlowLeak => (0.0, 500, 0.0, 3.0e6 * (0.6 + m)),
        Kind::UpstreamRegression if on_new => (0.03, 500, 2.2 + m, 0.0),
        Kind::DiskFull => (0.4 * m + 0.1, 500, 0.0, 0.0),
        Kind::DnsFailure => (0.6 * m + 0.1, 503, 0.0, 0.0),
        _ => (0.0, 500, 0.0, 0.0),
    }
}

/// An exception: its first line and frames.
type Exception = Option<(String, Vec<String>)>;
type LogText = (Level, &'static str, String, Exception);
/// A line to write at the end of a tick: (service, level, pod, "logger\u{1}message", exception).
type PendingLine = (String, Level, String, String, Exception);

fn exc(head: &str, frames: &[&str]) -> Exception {
    Some((
        head.to_string(),
        frames.iter().map(|f| f.to_string()).collect(),
    ))
}

/// The failing service's own error line for `plan`, in one of its wordings.
fn fault_line(plan: &Plan, service: &str, language: &str, variant: usize) -> LogText {
    let w = (plan.wording + variant) % 3;
    let short = service.split('-').next().unwrap_or(service);
    match plan.kind {
        // The exception is the service's stack's; the request line varies with the wording.
        Kind::BadDeploy => {
            let msg = match w {
                0 => format!("request failed: POST /v1/{short}"),
                1 => format!("unhandled error in /v1/{short}"),
                _ => format!("500 on GET /v1/{short}"),
            };
            let e = match language {
                "java" => exc("java.lang.NullPointerException: Cannot invoke \"Rule.rate()\" because \"rule\" is null", &["com.acme.rules.Pricing.apply(Pricing.java:88)", "com.acme.api.Handler.handle(Handler.java:41)"]),
                "python" => exc("KeyError: 'tenant_settings'", &["File \"/app/handlers/read.py\", line 57, in load", "settings = ctx['tenant_settings']"]),
                "go" => exc("panic: runtime error: invalid memory address or nil pointer dereference", &[]),
                _ => exc("TypeError: Cannot read properties of undefined (reading 'locale')", &["format (/app/dist/codec.js:112:19)"]),
            };
            (Level::Error, "app.handlers", msg, e)
        }
        Kind::Irreversible => (Level::Error, "db", format!("query failed in /v1/{short}"), exc("psycopg.errors.UndefinedColumn: column \"legacy_status\" does not exist", &["File \"/app/store/orders.py\", line 131, in list_open"])),
        Kind::BadConfig => {
            let key = plan.culprit.as_ref().and_then(|c| c.description.split_whitespace().nth(1)).unwrap_or("setting");
            (Level::Error, "config", format!("call failed with the current {key}: upstream rejected the request (invalid value)"), None)
        }
        Kind::BadFlag => (Level::Error, "checkout", "new-checkout-flow: CheckoutV2Handler failed: missing field shipping_quote".to_string(), exc("ValueError: shipping_quote is required", &["File \"/app/checkout/v2.py\", line 44, in submit"])),
        Kind::PoolExhaustion => match w {
            0 => (Level::Error, "db.pool", "HikariPool-1 - Connection is not available, request timed out after 30000ms".into(), None),
            _ => (Level::Error, "db.pool", "QueuePool limit of size 20 overflow 0 reached, connection timed out, timeout 30.00".into(), None),
        },
        Kind::DiskFull => (Level::Error, "storage", "write to /data/spool/batch-0042.part failed: No space left on device".into(), None),
        Kind::DnsFailure => {
            let dep = match service {
                "payment-service" => "payments-db",
                _ => "orders-db",
            };
            (Level::Error, "net", format!("dial tcp: lookup {dep}.prod.svc.cluster.local on 10.96.0.10:53: server misbehaving"), None)
        }
        _ => (Level::Error, "app", format!("request failed on {service}"), None),
    }
}

/// A caller's line about a failing or slow dependency.
fn dependency_line(dep: &str, plan: Option<&Plan>, slow: bool) -> LogText {
    if let Some(p) = plan
        && p.kind == Kind::CertExpiry
        && p.service == dep
    {
        let expired = (p.onset - Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ");
        return (
            Level::Error,
            "tls",
            format!(
                "calling {dep}: x509: certificate has expired or is not yet valid: current time is after {expired}"
            ),
            None,
        );
    }
    if let Some(p) = plan
        && p.kind == Kind::VendorOutage
        && p.dependency.as_deref() == Some(dep)
    {
        return (
            Level::Error,
            "vendor",
            format!("{dep} responded 503 Service Unavailable to POST /v1/requests"),
            None,
        );
    }
    if slow {
        (
            Level::Error,
            "http.client",
            format!(
                "upstream {dep} timed out after {:.0}ms",
                CALL_TIMEOUT_SECS * 1000.0
            ),
            None,
        )
    } else {
        (
            Level::Error,
            "http.client",
            format!("upstream {dep} returned 503"),
            None,
        )
    }
}

/// A saturated service's line.
fn saturation_line(service: &str, plan: Option<&Plan>) -> LogText {
    if let Some(p) = plan
        && p.kind == Kind::RetryStorm
        && p.service == service
    {
        return (
            Level::Error,
            "server",
            "request queue full (512/512), shedding load: 503".into(),
            None,
        );
    }
    (
        Level::Error,
        "server",
        "rejected request: worker pool saturated (200/200 busy), 503".into(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn fleet(dir: &Path) -> Fleet {
        let cat = Catalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/services"))
            .unwrap();
        Fleet::new(cat, dir, 1, t0()).unwrap()
    }

    fn run(f: &mut Fleet, from: DateTime<Utc>, secs: i64) {
        for s in 0..secs {
            f.tick(from + Duration::seconds(s), 1.0);
        }
    }

    fn error_share(f: &Fleet, service: &str) -> f64 {
        f.services[service].failing
    }

    #[test]
    fn a_healthy_fleet_barely_fails_and_a_bad_deploy_fails_only_its_version_and_its_callers() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = fleet(dir.path());
        run(&mut f, t0(), 30);
        for s in f.services.values() {
            assert!(
                s.failing < 0.01,
                "{} fails {:.3} while healthy",
                s.name,
                s.failing
            );
        }
        let p = faults::plan(
            Kind::BadDeploy,
            Some("user-service"),
            5,
            t0() + Duration::seconds(40),
        )
        .unwrap();
        let culprit = p.truth.culprit.clone().unwrap();
        f.inject(p);
        run(&mut f, t0() + Duration::seconds(30), 30);
        assert!(error_share(&f, "user-service") > 0.3);
        assert!(
            error_share(&f, "api-gateway") > 0.2,
            "the hard caller fails too"
        );
        let log = std::fs::read_to_string(dir.path().join("user-service.log")).unwrap();
        assert!(
            log.contains("Traceback") || log.contains("Exception") || log.contains("TypeError"),
            "{log}"
        );
        let gw = std::fs::read_to_string(dir.path().join("api-gateway.log")).unwrap();
        assert!(gw.contains("upstream user-service returned 503"), "{gw}");
        // The ground truth is in no log line.
        assert!(!log.contains("bad_deploy") && !gw.contains("bad_deploy"));
        // A rollback of the culprit fixes it; the fleet recovers.
        let (fixed, announce) = f.execute("inc-1", "rollback", Some(&culprit));
        assert!(fixed);
        assert!(announce.unwrap().description.starts_with("rollback of"));
        run(&mut f, t0() + Duration::seconds(60), 5);
        assert!(error_share(&f, "user-service") < 0.05);
        assert!(error_share(&f, "api-gateway") < 0.05);
    }

    #[test]
    fn a_leak_kills_instances_and_a_surge_saturates_until_scaled() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = fleet(dir.path());
        f.inject(faults::plan(Kind::SlowLeak, None, 2, t0()).unwrap());
        run(&mut f, t0(), 400);
        let svc = &f.services["notification-service"];
        assert!(
            svc.instances.iter().any(|i| i.restarts > 0),
            "OOM-killed at the limit"
        );
        let log = std::fs::read_to_string(dir.path().join("notification-service.log")).unwrap();
        assert!(log.contains("OOMKilled") && log.contains("heap usage"));
        assert!(
            f.execute("inc-2", "restart", Some("notification-service"))
                .0
        );

        let mut f = fleet(dir.path());
        f.inject(faults::plan(Kind::TrafficSurge, None, 2, t0()).unwrap());
        run(&mut f, t0(), 20);
        assert!(
            error_share(&f, "api-gateway") > 0.3,
            "{}",
            error_share(&f, "api-gateway")
        );
        assert!(!f.execute("inc-3", "rollback", Some("nothing")).0);
        assert!(f.execute("inc-3", "scale", Some("api-gateway")).0);
        run(&mut f, t0() + Duration::seconds(20), 5);
        assert!(error_share(&f, "api-gateway") < 0.05);
    }

    #[test]
    fn a_vendor_outage_fails_its_caller_on_every_version_and_ends_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = fleet(dir.path());
        let p = faults::plan(Kind::VendorOutage, None, 9, t0()).unwrap();
        let lasts = p.lasts_secs.unwrap();
        f.inject(p);
        run(&mut f, t0(), 30);
        assert!(error_share(&f, "payment-service") > 0.3);
        let log = std::fs::read_to_string(dir.path().join("payment-service.log")).unwrap();
        assert!(log.contains("cardproc-api responded 503"), "{log}");
        run(&mut f, t0() + Duration::seconds(lasts + 1), 3);
        assert!(error_share(&f, "payment-service") < 0.05);
    }
}

#[cfg(test)]
mod every_kind {
    use super::*;
    use crate::faults;

    #[test]
    fn every_fault_kind_runs_for_minutes_without_a_panic_and_fails_its_service() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for kind in faults::Kind::ALL {
            let dir = tempfile::tempdir().unwrap();
            let cat =
                Catalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/services"))
                    .unwrap();
            let mut f = Fleet::new(cat, dir.path(), 4, t0).unwrap();
            let p = faults::plan(kind, None, 4, t0 + Duration::seconds(30)).unwrap();
            // An upstream's regression and an expired certificate show at the callers.
            let service = match kind {
                Kind::UpstreamRegression | Kind::CertExpiry => "api-gateway".to_string(),
                _ => p.service.clone(),
            };
            f.inject(p);
            let mut worst: f64 = 0.0;
            for s in 0..300 {
                f.tick(t0 + Duration::seconds(s), 1.0);
                worst = worst.max(f.services[&service].failing);
            }
            assert!(worst > 0.05, "{kind:?} never failed {service} ({worst:.3})");
        }
    }
}
