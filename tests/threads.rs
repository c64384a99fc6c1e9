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

/// No thread, 1, 2, 3 and 8 threads: identical parameters and losses, bit for bit, for
/// per-sample blocks and for blocks of 8 (13 blocks, so 8 threads get uneven runs).
#[test]
fn any_number_of_threads_gives_the_same_bits() {
    let steps = 12;
    for block in [1, 8] {
        let (p0, l0) = example::train(0, block, steps);
        for threads in [1, 2, 3, 8] {
            let (p, l) = example::train(threads, block, steps);
            assert_eq!(
                bits(&p),
                bits(&p0),
                "parameters, {threads} threads, block {block}"
            );
            assert_eq!(
                bits(&l),
                bits(&l0),
                "losses, {threads} threads, block {block}"
            );
        }
        // and the model learns: the loss fell
        assert!(l0[steps - 1] < 0.5 * l0[0], "{l0:?}");
    }
}

/// The block size regroups the gradient sums, so it may change the last bits, but the
/// training is still micrograd's moons demo: its losses at step 0 (to the bit: sample
/// losses are always added in sample order) and step 99 (workload W1).
#[test]
fn blocked_training_reproduces_micrograd_losses() {
    for block in [1, 20, 100] {
        let (_, losses) = example::train(2, block, 100);
        assert_eq!(losses[0], 0.8958441028683222, "block {block}");
        let rel = (losses[99] - 0.010978370135492719).abs() / 0.010978370135492719;
        assert!(rel < 1e-9, "block {block}: {}", losses[99]);
    }
}

/// The parameters are read in micrograd's order.
#[test]
fn the_parameters_are_read_in_micrograd_order() {
    let p = example::initial_parameters();
    assert_eq!(p.len(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    // first neuron: its two weights, then its bias (from the JSON's first rows)
    assert_eq!(p[0], 0.23550571390294128);
    assert_eq!(p[1], 0.06653114721000164);
}

/// More threads than blocks: the extra workers hold no sample and still answer.
#[test]
fn more_threads_than_blocks() {
    let (p0, l0) = example::train(0, 50, 3);
    let (p, l) = example::train(3, 50, 3);
    assert_eq!((bits(&p), bits(&l)), (bits(&p0), bits(&l0)));
}

/// The library's single-process training (`nn::moons::Demo`: one graph of the whole batch,
/// L2 in the graph) and the data-parallel one agree on every step's loss to 1e-13 relative,
/// and on step 0 to the bit.
#[test]
fn data_parallel_training_follows_the_single_process_demo() {
    use scalargrad::nn::moons::{Demo, Start};
    let g = Graph::new();
    let mut demo = Demo::new(&g, Start::InitFile);
    let single: Vec<f64> = (0..100).map(|_| demo.step().loss).collect();
    for block in [1, 100] {
        let (_, parallel) = example::train(2, block, 100);
        assert_eq!(parallel[0], single[0]);
        for (k, (a, b)) in parallel.iter().zip(&single).enumerate() {
            assert!(
                (a - b).abs() <= 1e-13 * b.abs(),
                "step {k}, block {block}: {a} vs {b}"
            );
        }
    }
}

/// A worker thread that panics stops the training with a panic naming it and its message;
/// the main thread does not wait for ever for its answer.
#[test]
fn a_failing_worker_stops_the_training_with_its_message() {
    let data = scalargrad::nn::moons::dataset();
    let outcome = std::panic::catch_unwind(|| example::train_with(&data, 3, 1, 10, Some(1)));
    let e = outcome.expect_err("the training stopped");
    let message = e.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("worker thread 1 failed") && message.contains("failing at step 3"),
        "{message}"
    );
}
