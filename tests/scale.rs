//! Depth and size: the W2 chain (`x = tanh(x·w + b)`, `benches/WORKLOADS.md`) a
//! million deep in a debug build, checked against the workload's checksums; and, behind
//! `#[ignore]`, graphs of 10,000,000 nodes:
//!
//! ```text
//! cargo test --release --test scale -- --ignored --nocapture
//! ```
//!
//! Peak memory and bytes per node are measured in a process of their own by
//! `cargo run --release --example scale` (a test binary runs tests side by side, so its
//! peak RSS would mix them).

use std::time::Instant;

use scalargrad::{Graph, Var};

/// W2 at depth `n`: returns `(x_N, dx_N/dx_0, Σ_k dx_N/dw_k, Σ_k dx_N/db_k, nodes)`.
fn chain(n: usize) -> (f64, f64, f64, f64, usize) {
    let g = Graph::new();
    let x0 = g.var(0.5);
    let mut params: Vec<(Var<'_>, Var<'_>)> = Vec::with_capacity(n);
    let mut x = x0;
    for k in 0..n {
        let w = g.var(0.5 + 0.001 * (k % 7) as f64);
        let b = g.var(0.01 * (k % 5) as f64);
        x = (x * w + b).tanh();
        params.push((w, b));
    }
    x.backward();
    let sum_dw = params.iter().fold(0.0, |s, (w, _)| s + w.grad());
    let sum_db = params.iter().fold(0.0, |s, (_, b)| s + b.grad());
    (x.value(), x0.grad(), sum_dw, sum_db, g.len())
}

#[track_caller]
fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= rel * expected.abs(),
        "{what}: {actual:e} vs {expected:e}"
    );
}

/// W2 at N = 10⁵ against the workload's checksums.
#[test]
fn chain_100k_matches_the_workload_checksums() {
    let (x, dx0, dw, db, nodes) = chain(100_000);
    assert_eq!(nodes, 5 * 100_000 + 1);
    assert_eq!(x, 0.06338158504844663);
    assert_eq!(dx0, 0.0); // the product of 10⁵ factors below 1 underflows
    assert_rel(dw, 0.0799806658944213, 1e-14, "Σ dw");
    assert_rel(db, 2.0014530013858858, 1e-14, "Σ db");
}

/// W2 at N = 10⁶: a million-deep chain, forward and backward, in a debug build, in a few
/// seconds; no recursion anywhere.
#[test]
fn chain_one_million_deep_in_debug() {
    let t = Instant::now();
    let (x, dx0, dw, db, nodes) = chain(1_000_000);
    assert_eq!(nodes, 5_000_001);
    assert_eq!(x, 0.06328101038059804);
    assert_eq!(dx0, 0.0);
    // the workload lists …33385 and …33386 (and …03 / …07): tanh-derivative formulas differ
    assert_rel(dw, 0.08018329711133385, 1e-14, "Σ dw");
    assert_rel(db, 1.9987099965103803, 1e-14, "Σ db");
    eprintln!("W2 N = 10⁶, 5,000,001 nodes: {:.2?}", t.elapsed());
}

/// A million-deep chain of `grad` too: the recorded gradient of a deep chain is another
/// deep chain, built and walked without recursion.
#[test]
fn grad_of_a_chain_100k_deep() {
    let g = Graph::new();
    let x0 = g.var(0.3);
    let mut x = x0;
    for _ in 0..100_000 {
        x = x * 1.0 + 0.0;
    }
    let d = g.grad(x, &[x0])[0];
    assert_eq!((x.value(), d.value()), (0.3, 1.0));
    d.backward(); // d is constant in x0: no gradient flows, and nothing recurses
    assert_eq!(x0.grad(), 0.0);
}

/// W2 by hand on plain `f64`s: the forward recurrence and its hand-written reverse
/// (`∂tanh = 1 − t²`), the workload's "floor". Same outputs as [`chain`].
fn chain_by_hand(n: usize) -> (f64, f64, f64, f64) {
    let w = |k: usize| 0.5 + 0.001 * (k % 7) as f64;
    let b = |k: usize| 0.01 * (k % 5) as f64;
    let mut xs = Vec::with_capacity(n + 1);
    xs.push(0.5);
    for k in 0..n {
        xs.push((xs[k] * w(k) + b(k)).tanh());
    }
    let (mut gx, mut dws, mut dbs) = (1.0, vec![0.0; n], vec![0.0; n]);
    for k in (0..n).rev() {
        let t = xs[k + 1];
        let gpre = gx * (1.0 - t * t);
        dws[k] = gpre * xs[k];
        dbs[k] = gpre;
        gx = gpre * w(k);
    }
    let sum = |v: &[f64]| v.iter().fold(0.0, |s, d| s + d);
    (xs[n], gx, sum(&dws), sum(&dbs))
}

/// The hand-written floor agrees with the workload's checksums, so it can stand in for them
/// where the workload gives none.
#[test]
fn chain_by_hand_matches_the_workload_checksums() {
    let (x, dx0, dw, db) = chain_by_hand(100_000);
    assert_eq!((x, dx0), (0.06338158504844663, 0.0));
    assert_rel(dw, 0.0799806658944213, 1e-14, "Σ dw");
    assert_rel(db, 2.0014530013858858, 1e-14, "Σ db");
}

/// W2 with N = 2·10⁶: 10,000,001 nodes, forward and backward, against the hand-written
/// floor. (The sums barely move from N = 10⁶: x_N forgets all but its last few dozen steps.)
#[test]
#[ignore = "10M nodes: run with --release -- --ignored"]
fn chain_ten_million_nodes() {
    let t = Instant::now();
    let (x, dx0, dw, db, nodes) = chain(2_000_000);
    eprintln!("W2 N = 2·10⁶, {nodes} nodes: {:.2?}", t.elapsed());
    assert_eq!(nodes, 10_000_001);
    let (hx, hdx0, hdw, hdb) = chain_by_hand(2_000_000);
    assert_eq!((x, dx0), (hx, hdx0));
    assert_rel(dw, hdw, 1e-14, "Σ dw");
    assert_rel(db, hdb, 1e-14, "Σ db");
}

/// W3 "wide" with N = 2.5·10⁶: a left-deep chain of 2.5M adds over 2.5M products,
/// 9,999,999 nodes.
#[test]
#[ignore = "10M nodes: run with --release -- --ignored"]
fn wide_ten_million_nodes() {
    let n = 2_500_000;
    let t = Instant::now();
    let g = Graph::new();
    let mut leaves = Vec::with_capacity(2 * n);
    let mut acc: Option<Var<'_>> = None;
    for i in 0..n {
        let a = g.var((i % 10) as f64 * 0.1);
        let b = g.var(1.0 - (i % 3) as f64 * 0.2);
        let p = a * b;
        acc = Some(match acc {
            None => p,
            Some(s) => s + p,
        });
        leaves.push((a, b));
    }
    let acc = acc.unwrap();
    acc.backward();
    assert_eq!(g.len(), 4 * n - 1);
    // closed forms: Σ aᵢbᵢ over 30-periodic residues; ∂/∂aᵢ = bᵢ, ∂/∂bᵢ = aᵢ
    let period: f64 = (0..30)
        .map(|i| (i % 10) as f64 * 0.1 * (1.0 - (i % 3) as f64 * 0.2))
        .sum();
    assert_rel(acc.value(), period * (n / 30) as f64 + tail(n), 1e-9, "acc");
    assert!(leaves
        .iter()
        .enumerate()
        .all(|(i, (a, b))| a.grad() == b.value() && b.grad() == a.value() && i < n));
    eprintln!("W3 N = 2.5·10⁶, {} nodes: {:.2?}", 4 * n - 1, t.elapsed());

    fn tail(n: usize) -> f64 {
        (n - n % 30..n)
            .map(|i| (i % 10) as f64 * 0.1 * (1.0 - (i % 3) as f64 * 0.2))
            .sum()
    }
}

/// Past position 2²⁸ a word cannot say how far back an input is when it is more than 2²⁸
/// back: such ops are kept whole in the side table, by `push_binary`'s and `push_unary`'s
/// careful way. 2²⁸ + 4 nodes, about 6.5 GB.
#[test]
#[ignore = "2^28 nodes (6.5 GB): run with --release -- --ignored"]
fn ops_past_position_2_pow_28_read_inputs_further_back_than_a_word_can_say() {
    let t = Instant::now();
    let g = Graph::new();
    let x = g.var(3.0);
    for _ in 0..1 << 28 {
        g.constant(1.0);
    }
    let y = x * x + x.sin();
    assert_eq!(g.len(), (1 << 28) + 4);
    y.backward();
    eprintln!("2²⁸ + 4 nodes: {:.2?}", t.elapsed());
    assert_eq!(y.value(), 9.0 + 3f64.sin());
    assert_eq!(x.grad(), 6.0 + 3f64.cos());
}
