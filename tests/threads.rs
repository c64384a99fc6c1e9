//! One graph per thread: `Graph` is `Send`, and data-parallel training with a fixed
//! reduction order gives the same bits on any number of threads (`examples/threads.rs`,
//! included here so the test checks the very code the example runs).

#[allow(dead_code)] // the example's `main`
#[path = "../examples/threads.rs"]
mod example;

use scalargrad::Graph;

/// Static assertion: a graph can be sent to another thread (its handles cannot; see the
/// `compile_fail` examples in `src/guarantees.rs`).
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Graph>();
    assert_send::<scalargrad::NonFinite>();
};

#[test]
fn a_graph_built_here_is_used_on_another_thread() {
    let g = Graph::new();
    let x = g.var(3.0);
    let _ = x * x;
    let (len, grad) = std::thread::spawn(move || {
        // the handle `x` could not come along; rebuild from the graph's own data
        let y = g.var(2.0);
        (y * y * y).backward();
        (g.len(), y.grad())
    })
    .join()
    .unwrap();
    assert_eq!((len, grad), (5, 12.0));
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// No thread, 1, 2, 3 and 8 threads: identical parameters and losses, bit for bit.
#[test]
fn any_number_of_threads_gives_the_same_bits() {
    let (shards, steps) = (8, 12);
    let (p0, l0) = example::train(0, shards, steps);
    for threads in [1, 2, 3, 8] {
        let (p, l) = example::train(threads, shards, steps);
        assert_eq!(bits(&p), bits(&p0), "parameters, {threads} threads");
        assert_eq!(bits(&l), bits(&l0), "losses, {threads} threads");
    }
    // and the model learns: the loss fell
    assert!(l0[steps - 1] < 0.5 * l0[0], "{l0:?}");
}

/// Sharding regroups the sums, so it may change the last bits, but the training is still
/// micrograd's moons demo: its losses at step 0 and step 99 (workload W1).
#[test]
fn sharded_training_reproduces_micrograd_losses() {
    let (_, losses) = example::train(2, 5, 100);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(rel(losses[0], 0.8958441028683222) < 1e-14, "{}", losses[0]);
    assert!(
        rel(losses[99], 0.010978370135492719) < 1e-9,
        "{}",
        losses[99]
    );
}

/// One shard is the unsharded computation: the loss of step 0 is micrograd's to the last
/// bit or two.
#[test]
fn the_parameters_are_read_in_micrograd_order() {
    let p = example::initial_parameters();
    assert_eq!(p.len(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    // first neuron: its two weights, then its bias (from the JSON's first rows)
    assert_eq!(p[0], 0.23550571390294128);
    assert_eq!(p[1], 0.06653114721000164);
    let (_, losses) = example::train(0, 1, 1);
    assert!(
        (losses[0] - 0.8958441028683222).abs() < 4e-16,
        "{}",
        losses[0]
    );
}
