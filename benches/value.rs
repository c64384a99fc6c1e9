//! W2 and W3 (`benches/WORKLOADS.md`) on [`Value`], the owned handle, beside the same
//! workloads on [`Graph`] in the same run, so the two ns/node figures are comparable.
//!
//! - `value/{w2,w3}/value/record/N` and `…/record_backward/N`: `Value` leaves and ops (and the
//!   one `backward`); freeing the nodes is not timed (returned from the timed closure).
//! - `value/{w2,w3}/graph/…`: the same on a fresh `Graph`, as `benches/w2_chain.rs` and
//!   `benches/w3_wide.rs` time it.
//!
//! Throughput is in nodes (W2: 5N + 1, W3: 4N − 1), so ns/node = 1e9 / (nodes/s).
//! Before timing, the checksums of WORKLOADS.md are asserted for `Value`.
//! Run: `cargo bench --bench value`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use scalargrad::{Graph, Value, Var};

const N: usize = 100_000;

/// W2 on `Value`: the output and the `w`, `b` leaves.
fn w2_value(n: usize) -> (Value, Vec<Value>, Vec<Value>) {
    let (mut ws, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut x = Value::new(0.5);
    for k in 0..n {
        let w = Value::new(0.5 + 0.001 * (k % 7) as f64);
        let b = Value::new(0.01 * (k % 5) as f64);
        x = (&x * &w + &b).tanh();
        ws.push(w);
        bs.push(b);
    }
    (x, ws, bs)
}

/// W3 on `Value`: the sum and the `a`, `b` leaves.
fn w3_value(n: usize) -> (Value, Vec<Value>, Vec<Value>) {
    let (mut as_, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let leaf = |i: usize| {
        let a = Value::new((i % 10) as f64 * 0.1);
        let b = Value::new(1.0 - (i % 3) as f64 * 0.2);
        (a, b)
    };
    let (a, b) = leaf(0);
    let mut acc = &a * &b;
    as_.push(a);
    bs.push(b);
    for i in 1..n {
        let (a, b) = leaf(i);
        acc += &a * &b;
        as_.push(a);
        bs.push(b);
    }
    (acc, as_, bs)
}

/// W2 on a `Graph`, keeping the leaves' handles as `w2_chain.rs` does.
fn w2_graph(g: &Graph, n: usize) -> Var<'_> {
    let (mut ws, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut x = g.var(0.5);
    for k in 0..n {
        let w = g.var(0.5 + 0.001 * (k % 7) as f64);
        let b = g.var(0.01 * (k % 5) as f64);
        ws.push(w);
        bs.push(b);
        x = (x * w + b).tanh();
    }
    x
}

/// W3 on a `Graph`, keeping the leaves' handles as `w3_wide.rs` does.
fn w3_graph(g: &Graph, n: usize) -> Var<'_> {
    let (mut as_, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut leaf = |i: usize| {
        let a = g.var((i % 10) as f64 * 0.1);
        let b = g.var(1.0 - (i % 3) as f64 * 0.2);
        as_.push(a);
        bs.push(b);
        a * b
    };
    let mut acc = leaf(0);
    for i in 1..n {
        acc += leaf(i);
    }
    acc
}

fn check() {
    let sum = |vs: &[Value]| vs.iter().map(Value::grad).sum::<f64>();
    let (x, ws, bs) = w2_value(N);
    x.backward();
    assert_eq!(x.data(), 0.06338158504844663);
    assert!((sum(&ws) - 0.0799806658944213).abs() < 1e-15);
    assert!((sum(&bs) - 2.0014530013858858).abs() < 1e-14);
    let (acc, as_, bs) = w3_value(N);
    acc.backward();
    assert_eq!(acc.data(), 36000.060000010635);
    assert_eq!((sum(&as_), sum(&bs)), (80000.20000005729, 45000.0));
}

fn bench(c: &mut Criterion) {
    check();
    type ValueRecord = fn(usize) -> (Value, Vec<Value>, Vec<Value>);
    type GraphRecord = for<'g> fn(&'g Graph, usize) -> Var<'g>;
    let cases: [(&str, u64, ValueRecord, GraphRecord); 2] = [
        ("w2", 5 * N as u64 + 1, w2_value, w2_graph),
        ("w3", 4 * N as u64 - 1, w3_value, w3_graph),
    ];
    for (name, nodes, value, graph) in cases {
        let mut group = c.benchmark_group(format!("value/{name}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(nodes));
        group.bench_function(format!("value/record/{N}"), |b| {
            b.iter_batched(|| (), |()| value(N), BatchSize::PerIteration)
        });
        group.bench_function(format!("value/record_backward/{N}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let out = value(N);
                    out.0.backward();
                    out
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("graph/record/{N}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let g = Graph::new();
                    let v = graph(&g, N).value();
                    (g, v)
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("graph/record_backward/{N}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let g = Graph::new();
                    let root = graph(&g, N);
                    root.backward();
                    let v = root.value();
                    (g, v)
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
