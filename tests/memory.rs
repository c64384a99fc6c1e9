//! Training does not grow memory: the moons model trained with the documented pattern
//! (parameters and inputs created once; every step a `nn::train_step`, which marks the
//! graph and rewinds to the mark) keeps the same number of nodes after every step, and
//! the process's resident memory stays flat.
//!
//! The 10,000-step run takes over a minute in a debug build, so it is ignored by default:
//! `cargo test --release --test memory -- --ignored` (about 10 s).
#![cfg(feature = "serde")]

use std::sync::Mutex;

use scalargrad::nn::moons::{dataset, model, objective, Start};
use scalargrad::nn::optim::Sgd;
use scalargrad::nn::train_step;
use scalargrad::Graph;

/// Resident memory is per process: tests in this file measure one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Resident set size in bytes (`VmRSS` of /proc/self/status), where Linux provides it.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

struct Run {
    /// `g.len()` after the first and the last step.
    lens: (usize, usize),
    /// Whether `g.len()` was the same after every step.
    constant: bool,
    /// (step, RSS) at the requested steps.
    rss: Vec<(usize, Option<u64>)>,
    /// Parameters + inputs: what must survive between steps.
    kept: usize,
    losses: (f64, f64),
}

/// Trains the moons model for `steps` steps, the documented way.
fn train(steps: usize, rss_at: &[usize]) -> Run {
    let g = Graph::new();
    let mlp = model(&g, Start::InitFile); // parameters: created once
    let data = dataset();
    let inputs = data.constants(&g); // inputs: created once
    let params = mlp.parameters();
    let kept = g.len();
    let mut opt = Sgd::new(0.05);
    // nothing here grows with the number of steps, so RSS measures the graph alone
    let mut lens = (0, 0);
    let mut constant = true;
    let mut rss = Vec::with_capacity(rss_at.len());
    let mut losses = (0.0, 0.0);
    for step in 1..=steps {
        let loss = train_step(&g, &params, &mut opt, || {
            objective(&mlp, &inputs, &data.labels, &params).0
        });
        if step == 1 {
            losses.0 = loss;
        }
        losses.1 = loss;
        let len = g.len();
        if step == 1 {
            lens.0 = len;
        }
        constant &= len == lens.0;
        lens.1 = len;
        if rss_at.contains(&step) {
            rss.push((step, rss_bytes()));
        }
    }
    Run {
        lens,
        constant,
        rss,
        kept,
        losses,
    }
}

fn growth(run: &Run) -> Option<i64> {
    let first = run.rss.first()?.1? as i64;
    let last = run.rss.last()?.1? as i64;
    Some(last - first)
}

#[test]
fn node_count_is_constant_over_200_steps() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let run = train(200, &[100, 200]);
    assert_eq!(run.kept, 337 + 200);
    assert_eq!(run.lens, (run.kept, run.kept));
    assert!(run.constant, "g.len() changed between steps");
    assert!(run.losses.1 < run.losses.0, "it trains: {:?}", run.losses);
    if let Some(grew) = growth(&run) {
        assert!(
            grew < 1 << 20,
            "RSS grew by {grew} bytes from step 100 to 200"
        );
    }
}

#[test]
#[ignore = "about a minute in debug; run: cargo test --release --test memory -- --ignored"]
fn memory_is_flat_over_10_000_steps() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let run = train(10_000, &[100, 10_000]);
    assert_eq!(run.lens.0, run.kept);
    assert_eq!(run.lens.1, run.lens.0);
    assert!(run.constant);
    let (at_100, at_10_000) = (run.rss[0].1, run.rss[1].1);
    eprintln!(
        "nodes after step 1: {}, after step 10,000: {}; RSS at step 100: {:?} bytes, at \
         step 10,000: {:?} bytes; losses {:?}",
        run.lens.0, run.lens.1, at_100, at_10_000, run.losses
    );
    let grew = growth(&run).expect("this test reads /proc/self/status (Linux)");
    assert!(
        grew < 1 << 20,
        "RSS grew by {grew} bytes from step 100 to 10,000"
    );
}

/// Peak resident memory (`VmHWM`), in bytes, where Linux provides it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// W2 (`benches/WORKLOADS.md`) at N = 10⁶, keeping no handle but the output: 5,000,001
/// nodes. The tape stores a node in 24 bytes (value, gradient, one op word: `src/tape/`);
/// the growth of peak RSS over the recording and the reverse pass must stay within 25 bytes
/// a node (the 32-byte nodes of the previous layout fail this).
#[test]
fn a_deep_chain_costs_at_most_25_bytes_a_node() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = 1_000_000;
    // a thread of its own: no spare buffers from an earlier graph
    let (before, after, out) = std::thread::spawn(move || {
        let before = peak_rss_bytes();
        let g = Graph::new();
        let mut x = g.var(0.5);
        for k in 0..n {
            let w = g.var(0.5 + 0.001 * (k % 7) as f64);
            let b = g.var(0.01 * (k % 5) as f64);
            x = (x * w + b).tanh();
        }
        x.backward();
        (before, peak_rss_bytes(), x.value())
    })
    .join()
    .unwrap();
    assert_eq!(out, 0.06328101038059804, "W2 x_N at N = 10^6");
    if let (Some(before), Some(after)) = (before, after) {
        let per_node = (after - before) as f64 / (5 * n + 1) as f64;
        eprintln!("W2 at 10^6: {per_node:.2} bytes of peak RSS per node");
        assert!(per_node <= 25.0, "{per_node:.2} bytes per node");
    }
}
