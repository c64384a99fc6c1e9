//! W3 (`benches/WORKLOADS.md`): a wide sum of products `acc ← acc + a_i·b_i` as a left-deep
//! chain of binary adds (micrograd's `sum`), 4N − 1 nodes (2N leaves, N muls, N − 1 adds).
//!
//! - `w3_wide/record/N`: creating the graph and recording every leaf and op;
//! - `w3_wide/record_backward/N`: the same plus the one `backward`.
//!
//! Freeing the graph is not timed. Throughput is in nodes (ns/node = 1e9 / nodes per
//! second). Before timing, the checksums of WORKLOADS.md are asserted for each N.
//! Run: `cargo bench --bench w3_wide`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use scalargrad::{Graph, Var};

/// Records the sum; returns it and the `a` and `b` leaves.
fn record(g: &Graph, n: usize) -> (Var<'_>, Vec<Var<'_>>, Vec<Var<'_>>) {
    let (mut as_, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let leaf = |i: usize| {
        let a = g.var((i % 10) as f64 * 0.1);
        let b = g.var(1.0 - (i % 3) as f64 * 0.2);
        (a, b)
    };
    let (a, b) = leaf(0);
    as_.push(a);
    bs.push(b);
    let mut acc = a * b;
    for i in 1..n {
        let (a, b) = leaf(i);
        as_.push(a);
        bs.push(b);
        acc += a * b;
    }
    (acc, as_, bs)
}

/// `acc`, `Σ d/da_i`, `Σ d/db_i` from WORKLOADS.md.
fn expected(n: usize) -> (f64, f64, f64) {
    match n {
        100_000 => (36000.060000010635, 80000.20000005729, 45000.0),
        1_000_000 => (360000.05999866634, 800000.1999987853, 450000.0),
        _ => unreachable!("no checksum for N = {n}"),
    }
}

fn check(n: usize) {
    let g = Graph::new();
    let (acc, as_, bs) = record(&g, n);
    acc.backward();
    let sum = |vs: &[Var<'_>]| vs.iter().map(|v| v.grad()).sum::<f64>();
    let (out, da, db) = expected(n);
    assert_eq!(acc.value(), out, "W3 acc at N = {n}");
    assert_eq!(sum(&as_), da, "W3 Σ da at N = {n}");
    assert_eq!(sum(&bs), db, "W3 Σ db at N = {n}");
}

fn w3(c: &mut Criterion) {
    let nodes = |n: usize| 4 * n as u64 - 1;
    common::record_and_backward(c, "w3_wide", &[100_000, 1_000_000], nodes, check, record);
}

criterion_group!(benches, w3);
criterion_main!(benches);
