//! One service's `/metrics` in the Prometheus text format (0.0.4): requests by code and a
//! latency histogram per instance (labelled `service`, `instance`, `version`), CPU, memory
//! against its limit, restarts, pool use, queue depth and disk space, as the cAdvisor,
//! kube-state-metrics and client libraries name them.

use crate::fleet::{BUCKETS, Service};
use std::fmt::Write;

fn labels(s: &Service, inst: &crate::fleet::Instance) -> String {
    format!(
        r#"service="{}",instance="{}",version="{}""#,
        s.name, inst.id, inst.version
    )
}

pub fn render(s: &Service) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP http_requests_total Requests served, by status code.\n# TYPE http_requests_total counter"
    );
    for i in &s.instances {
        for (code, n) in &i.requests {
            let _ = writeln!(
                o,
                "http_requests_total{{{},code=\"{code}\"}} {:.0}",
                labels(s, i),
                n.floor()
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram"
    );
    for i in &s.instances {
        let l = labels(s, i);
        for (b, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                o,
                "http_request_duration_seconds_bucket{{{l},le=\"{le}\"}} {:.0}",
                i.buckets[b].floor()
            );
        }
        let _ = writeln!(
            o,
            "http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {:.0}",
            i.duration_count.floor()
        );
        let _ = writeln!(
            o,
            "http_request_duration_seconds_sum{{{l}}} {:.3}",
            i.duration_sum
        );
        let _ = writeln!(
            o,
            "http_request_duration_seconds_count{{{l}}} {:.0}",
            i.duration_count.floor()
        );
    }
    let gauge = |o: &mut String,
                 name: &str,
                 help: &str,
                 kind: &str,
                 v: &dyn Fn(&crate::fleet::Instance) -> f64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for i in &s.instances {
            let _ = writeln!(o, "{name}{{{}}} {}", labels(s, i), v(i));
        }
    };
    gauge(
        &mut o,
        "process_cpu_seconds_total",
        "CPU time.",
        "counter",
        &|i| (i.cpu_seconds * 1000.0).round() / 1000.0,
    );
    gauge(
        &mut o,
        "container_memory_working_set_bytes",
        "Working set.",
        "gauge",
        &|i| i.memory.round(),
    );
    gauge(
        &mut o,
        "container_spec_memory_limit_bytes",
        "Memory limit.",
        "gauge",
        &|_| 1024.0 * 1024.0 * 1024.0,
    );
    gauge(
        &mut o,
        "kube_pod_container_status_restarts_total",
        "Container restarts.",
        "counter",
        &|i| i.restarts as f64,
    );
    gauge(
        &mut o,
        "db_pool_connections_active",
        "Connections in use.",
        "gauge",
        &|i| i.pool_used.round(),
    );
    gauge(
        &mut o,
        "db_pool_connections_max",
        "Pool size.",
        "gauge",
        &|_| s.pool_max,
    );
    let _ = writeln!(
        o,
        "# HELP queue_depth Messages waiting.\n# TYPE queue_depth gauge\nqueue_depth{{service=\"{}\"}} {:.0}",
        s.name, s.queue_depth
    );
    let _ = writeln!(
        o,
        "# HELP node_filesystem_avail_bytes Free space.\n# TYPE node_filesystem_avail_bytes gauge\nnode_filesystem_avail_bytes{{service=\"{n}\",mountpoint=\"/data\"}} {:.0}\n# HELP node_filesystem_size_bytes Size.\n# TYPE node_filesystem_size_bytes gauge\nnode_filesystem_size_bytes{{service=\"{n}\",mountpoint=\"/data\"}} {:.0}",
        50.0 * 1024.0 * 1024.0 * 1024.0 - s.disk_used,
        50.0 * 1024.0 * 1024.0 * 1024.0,
        n = s.name
    );
    o
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::fleet::Fleet;
    use std::path::Path;

    #[test]
    fn every_sample_line_is_well_formed_and_counts_only_grow() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/services"))
            .unwrap();
        let t0 = chrono::Utc::now();
        let mut f = Fleet::new(cat, dir.path(), 3, t0).unwrap();
        f.tick(t0, 1.0);
        let a = super::render(&f.services["payment-service"]);
        f.tick(t0 + chrono::Duration::seconds(1), 1.0);
        let b = super::render(&f.services["payment-service"]);
        let value = |text: &str, key: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(key))
                .unwrap()
                .rsplit(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        for line in b.lines().filter(|l| !l.starts_with('#')) {
            let (series, v) = line.rsplit_once(' ').unwrap();
            assert!(v.parse::<f64>().is_ok(), "{line}");
            assert!(series.contains("service=\"payment-service\""), "{line}");
        }
        let key = b
            .lines()
            .find(|l| l.starts_with("http_requests_total{") && l.contains("code=\"200\""))
            .unwrap()
            .rsplit_once(' ')
            .unwrap()
            .0
            .to_string();
        assert!(value(&b, &key) > value(&a, &key));
        assert!(b.contains("# TYPE http_request_duration_seconds histogram"));
    }
}
