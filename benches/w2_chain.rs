//! W2 (`benches/WORKLOADS.md`): a deep chain `x ← tanh(x·w_k + b_k)`, 5N + 1 nodes (2N + 1
//! leaves, 3N ops), recorded into a fresh graph and differentiated from its end.
//!
//! - `w2_chain/record/N`: creating the graph and recording every leaf and op;
//! - `w2_chain/record_backward/N`: the same plus the one `backward`.
//!
//! Freeing the graph is not timed. Throughput is in nodes, so criterion prints nodes/s;
//! ns/node = 1e9 / that. Before timing, the checksums of WORKLOADS.md are asserted for each N.
//! Run: `cargo bench --bench w2_chain`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use scalargrad::{Graph, Var};

/// Records the chain; returns the output and the `w` and `b` leaves.
fn record(g: &Graph, n: usize) -> (Var<'_>, Vec<Var<'_>>, Vec<Var<'_>>) {
    let (mut ws, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut x = g.var(0.5);
    for k in 0..n {
        let w = g.var(0.5 + 0.001 * (k % 7) as f64);
        let b = g.var(0.01 * (k % 5) as f64);
        ws.push(w);
        bs.push(b);
        x = (x * w + b).tanh();
    }
    (x, ws, bs)
}

/// `x_N`, `Σ dx_N/dw_k`, `Σ dx_N/db_k` from WORKLOADS.md.
fn expected(n: usize) -> (f64, f64, f64) {
    match n {
        100_000 => (0.06338158504844663, 0.0799806658944213, 2.0014530013858858),
        1_000_000 => (0.06328101038059804, 0.08018329711133385, 1.9987099965103805),
        _ => unreachable!("no checksum for N = {n}"),
    }
}

fn check(n: usize) {
    let g = Graph::new();
    let (x, ws, bs) = record(&g, n);
    x.backward();
    let sum = |vs: &[Var<'_>]| vs.iter().map(|v| v.grad()).sum::<f64>();
    let (out, dw, db) = expected(n);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
    assert_eq!(x.value(), out, "W2 x_N at N = {n}");
    assert!(close(sum(&ws), dw), "W2 Σ dw at N = {n}: {}", sum(&ws));
    assert!(close(sum(&bs), db), "W2 Σ db at N = {n}: {}", sum(&bs));
}

fn w2(c: &mut Criterion) {
    let nodes = |n: usize| 5 * n as u64 + 1;
    common::record_and_backward(c, "w2_chain", &[100_000, 1_000_000], nodes, check, record);
}

criterion_group!(benches, w2);
criterion_main!(benches);
