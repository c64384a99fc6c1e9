//! The timing harness shared by the graph-size workloads (W2, W3): one fresh graph per
//! iteration, `record/N` and `record_backward/N`, throughput in nodes.

use criterion::{BatchSize, Criterion, Throughput};
use scalargrad::{Graph, Var};

/// Records a workload of size `n` into `g`; returns its output and its two lists of leaves.
pub type Record = for<'g> fn(&'g Graph, usize) -> (Var<'g>, Vec<Var<'g>>, Vec<Var<'g>>);

/// Benchmarks `record` at each size, after `check` has asserted the size's checksums.
/// Freeing the graph is not timed (it is returned from the timed closure).
pub fn record_and_backward(
    c: &mut Criterion,
    group: &str,
    sizes: &[usize],
    nodes: fn(usize) -> u64,
    check: fn(usize),
    record: Record,
) {
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    for &n in sizes {
        check(n);
        group.throughput(Throughput::Elements(nodes(n)));
        group.bench_function(format!("record/{n}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let g = Graph::new();
                    let out = record(&g, n).0.value();
                    (g, out)
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("record_backward/{n}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let g = Graph::new();
                    let root = record(&g, n).0;
                    root.backward();
                    let out = root.value();
                    (g, out)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}
