//! Similar-incident search speed as episodic memory grows, and the cost of embedding with the
//! real model. It exists to hold the targets of issue 4 (top-5 over 100,000 memories < 5 ms,
//! over 1,000,000 < 50 ms on the 2-core machine) and to produce the figures in the README.
//!
//! Seeds synthetic memories (random unit vectors in 384 dimensions, plus near-duplicates planted
//! at random rows to check recall), then times `VectorIndex::top_k` (sign-bit scan + f32 re-rank)
//! and, for comparison, the exact f32 scan.
//!
//!   cargo bench -p sentinel-server --bench memory_search            (100k and 1M)
//!   MEMORY_BENCH_SIZES=100000 cargo bench -p sentinel-server --bench memory_search

use rand::{Rng, SeedableRng};
use sentinel::memory::embed::{DIM, Embedder, normalize};
use sentinel::memory::index::VectorIndex;
use sentinel::memory::minilm::{MiniLmEmbedder, ModelPaths};
use std::time::{Duration, Instant};

const K: usize = 5;
const PLANTED: usize = 20;
const QUERIES: usize = 200;

fn random_unit(rng: &mut impl Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    normalize(&mut v);
    v
}

fn near(rng: &mut impl Rng, base: &[f32], eps: f32) -> Vec<f32> {
    let mut v: Vec<f32> = base
        .iter()
        .map(|x| x + rng.random_range(-eps..eps))
        .collect();
    normalize(&mut v);
    v
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn bench_search(n: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
    let t = Instant::now();
    // Planted pairs: a query and, at a random row, a memory within cosine ~0.9 of it.
    let queries: Vec<Vec<f32>> = (0..PLANTED).map(|_| random_unit(&mut rng)).collect();
    let mut planted_at: Vec<usize> = (0..PLANTED).map(|_| rng.random_range(0..n)).collect();
    planted_at.sort_unstable();
    planted_at.dedup();
    let mut idx = VectorIndex::new(DIM);
    idx.reserve(n);
    let mut truth = Vec::new();
    let mut next = 0;
    for row in 0..n {
        if next < planted_at.len() && planted_at[next] == row {
            idx.push(&near(&mut rng, &queries[next], 0.03));
            truth.push((next, row));
            next += 1;
        } else {
            idx.push(&random_unit(&mut rng));
        }
    }
    println!(
        "\n== {n} memories ({DIM} dims; seeded in {:.1} s) ==",
        t.elapsed().as_secs_f64()
    );

    // Recall: every planted near-duplicate must be the top hit, with its exact score.
    let mut found = 0;
    for &(q, row) in &truth {
        let top = idx.top_k(&queries[q], K);
        let exact = idx.top_k_exact(&queries[q], K);
        if top.first().map(|h| h.0) == Some(row) && top[0] == exact[0] {
            found += 1;
        }
    }
    println!(
        "recall: {found}/{} planted near-duplicates ranked first",
        truth.len()
    );

    let mut lat = Vec::with_capacity(QUERIES);
    for i in 0..QUERIES {
        let q = if i % 4 == 0 {
            queries[i / 4 % queries.len()].clone()
        } else {
            random_unit(&mut rng)
        };
        let t = Instant::now();
        let top = idx.top_k(&q, K);
        lat.push(t.elapsed());
        assert_eq!(top.len(), K);
    }
    lat.sort();
    println!(
        "top-{K} search (sign-bit scan + f32 re-rank): p50 {}  p99 {}  max {}",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );

    let mut exact = Vec::new();
    for _ in 0..20 {
        let q = random_unit(&mut rng);
        let t = Instant::now();
        let _ = idx.top_k_exact(&q, K);
        exact.push(t.elapsed());
    }
    exact.sort();
    println!(
        "top-{K} exact f32 scan (for comparison): p50 {}  p99 {}",
        ms(pct(&exact, 0.5)),
        ms(pct(&exact, 0.99))
    );
}

fn bench_embedding() {
    let paths = ModelPaths::from_config(
        &sentinel::config::Config::load(&sentinel::config::Env::from_process(), None)
            .unwrap()
            .embedding,
    );
    let t = Instant::now();
    let model = match MiniLmEmbedder::load(&paths) {
        Ok(m) => m,
        Err(e) => {
            println!("\n== embedding: skipped ({e}) ==");
            return;
        }
    };
    println!(
        "\n== embedding with {} (loaded in {}) ==",
        model.name(),
        ms(t.elapsed())
    );
    let text = "critical error_rate alert on payment-service: payment-service authorization errors above 2%";
    let _ = model.embed(&[text]);
    let mut one = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let _ = model.embed(&[text]).unwrap();
        one.push(t.elapsed());
    }
    one.sort();
    println!(
        "one short text: p50 {}  p99 {}",
        ms(pct(&one, 0.5)),
        ms(pct(&one, 0.99))
    );
    let texts: Vec<String> = (0..64)
        .map(|i| format!("high error_rate alert on service-{i}: error rate above {i}% for 5m, connection pool exhausted"))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut batch = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let v = model.embed(&refs).unwrap();
        batch.push(t.elapsed());
        assert_eq!(v.len(), 64);
    }
    batch.sort();
    let p50 = pct(&batch, 0.5);
    println!(
        "batch of 64: p50 {} ({:.2} ms per text)",
        ms(p50),
        p50.as_secs_f64() * 1e3 / 64.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this quickly with a small size.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("MEMORY_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) if quick => vec![10_000],
        Err(_) => vec![100_000, 1_000_000],
    };
    println!(
        "memory_search benchmark ({} threads available)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for n in sizes {
        bench_search(n);
    }
    if !quick {
        bench_embedding();
    }
}
