//! The tape's storage (`src/tape/`): handles checked by position and epoch, runs of
//! positions in `dot`, spare buffers. Oracles: the values an independent plain-f64
//! computation gives, and the documented panics.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::nn::{Activation, Layer, Neuron};
use scalargrad::{graph::release_spare_buffers, Graph};

fn panics(f: impl FnOnce()) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

#[test]
fn handles_survive_rewinds_that_do_not_reach_them_and_die_with_those_that_do() {
    let g = Graph::new();
    let w = g.var(2.0);
    let outer = g.mark();
    let a = w * 3.0; // positions 1, 2
    let inner = g.mark();
    for step in 0..100 {
        let b = a * step as f64;
        assert_eq!(b.value(), 6.0 * step as f64);
        g.rewind(inner);
        assert!(panics(|| {
            b.value();
        }));
        assert_eq!(a.value(), 6.0); // cut above it: still live
    }
    g.rewind(outer);
    assert!(panics(|| {
        a.value();
    }));
    let c = w * 5.0; // re-creates position 1 and 2
    assert_eq!((c.value(), w.value()), (10.0, 2.0));
    assert!(panics(|| {
        a.value();
    }));
    // the inner mark was taken after a point the graph has since been rewound past
    assert!(panics(|| g.rewind(inner)));
}

#[test]
fn a_handle_made_before_many_cuts_of_different_lengths_is_judged_by_the_right_one() {
    let g = Graph::new();
    let base: Vec<_> = (0..10).map(|i| g.var(i as f64)).collect();
    let marks: Vec<_> = (0..5)
        .map(|i| {
            let m = g.mark();
            g.var(100.0 + i as f64);
            m
        })
        .collect(); // 15 nodes; marks at 10, 11, 12, 13, 14
    let h13 = g.var(0.0); // position 15
    g.rewind(marks[4]); // cut to 14: h13 stale
    let h14 = g.var(1.0); // position 14 re-created
    g.rewind(marks[3]); // cut to 13: h14 stale, everything below 13 live
    assert!(panics(|| {
        h13.value();
    }));
    assert!(panics(|| {
        h14.value();
    }));
    assert_eq!(g.len(), 13);
    let again = g.var(7.0); // position 13
    assert_eq!(again.value(), 7.0);
    assert!(base.iter().enumerate().all(|(i, b)| b.value() == i as f64));
    g.rewind(marks[0]); // cut to 10
    assert!(panics(|| {
        again.value();
    }));
    assert_eq!(base[9].value(), 9.0);
}

#[test]
fn dot_over_runs_and_lists_gives_the_elementwise_values_and_gradients() {
    let g = Graph::new();
    let w: Vec<_> = (0..5).map(|i| g.var(0.5 + i as f64)).collect(); // a run
    let x: Vec<_> = (0..5).map(|i| g.var(1.0 - 0.25 * i as f64)).collect(); // a run
    let shuffled = [x[3], x[0], x[4], x[1], x[2]]; // a list
    let y = g.dot(&w, &x) + g.dot(&w, &shuffled) + g.dot(&w, &w);
    y.backward();
    let (wv, xv): (Vec<f64>, Vec<f64>) = (
        (0..5).map(|i| 0.5 + i as f64).collect(),
        (0..5).map(|i| 1.0 - 0.25 * i as f64).collect(),
    );
    let order = [3, 0, 4, 1, 2];
    for i in 0..5 {
        let dw = xv[i] + xv[order[i]] + 2.0 * wv[i];
        assert_eq!(w[i].grad(), dw, "w{i}");
    }
    let dx: Vec<f64> = (0..5)
        .map(|j| wv[j] + wv[order.iter().position(|&o| o == j).unwrap()])
        .collect();
    for j in 0..5 {
        assert_eq!(x[j].grad(), dx[j], "x{j}");
    }
}

#[test]
fn a_layer_given_inputs_of_another_graph_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let layer = Layer::new(vec![Neuron::new(
        &g,
        &[1.0, 2.0],
        Some(0.0),
        Activation::Relu,
    )]);
    let x = [h.constant(1.0), h.constant(2.0)];
    assert!(panics(|| {
        layer.forward(&x);
    }));
    let y = layer.forward(&[g.constant(1.0), g.constant(2.0)]);
    assert_eq!(y[0].value(), 5.0);
}

#[test]
fn a_layer_whose_weights_were_freed_panics() {
    let g = Graph::new();
    let mark = g.mark();
    let layer = Layer::new(vec![Neuron::new(&g, &[1.0, 2.0], None, Activation::Linear)]);
    let x = [g.constant(1.0), g.constant(2.0)];
    g.rewind(mark);
    let x2 = [g.constant(1.0), g.constant(2.0)];
    let _ = x;
    assert!(panics(|| {
        layer.forward(&x2);
    }));
}

#[test]
fn graphs_on_one_thread_reuse_buffers_and_start_empty() {
    let first = {
        let g = Graph::new();
        let x = g.var(3.0);
        let y = (0..10_000).fold(x, |acc, _| acc * 1.0);
        y.backward();
        x.grad()
    };
    assert_eq!(first, 1.0);
    let g = Graph::new(); // takes the spare buffers
    assert!(g.is_empty());
    let x = g.var(2.0);
    (x * x).backward();
    assert_eq!((x.grad(), g.len()), (4.0, 2));
    drop(g);
    release_spare_buffers();
    let g = Graph::new();
    assert!(g.is_empty());
}

#[test]
fn a_rewind_drops_the_labels_of_the_nodes_it_frees() {
    let g = Graph::new();
    let kept = g.var(1.0).named("kept");
    let mark = g.mark();
    let freed = (kept * 2.0).named("freed");
    assert_eq!(freed.name().as_deref(), Some("freed"));
    g.rewind(mark);
    let fresh = kept * 3.0; // same positions as the freed nodes
    assert_eq!(fresh.name(), None);
    assert_eq!(kept.name().as_deref(), Some("kept"));
}

#[test]
fn the_graph_reports_its_size_its_switch_and_its_first_non_finite_node() {
    let g = Graph::new();
    assert!(g.is_empty() && !g.is_detecting_anomaly());
    let x = g.var(0.0);
    assert!(!g.is_empty());
    g.detect_anomaly(true);
    assert!(g.is_detecting_anomaly());
    g.detect_anomaly(false);
    assert!(g.check_finite().is_ok());
    // a finite value with an infinite gradient: d√x/dx at 0
    let y = x.sqrt();
    y.backward();
    let err = g.check_finite().unwrap_err();
    assert_eq!((err.position, err.op.as_str()), (0, "leaf"));
    assert_eq!((err.value, err.grad), (0.0, f64::INFINITY));
    assert_eq!(
        format!("{g:?}"),
        "Graph { nodes: 2, tracked: 2, custom_ops: 0, detect_anomaly: false }"
    );
    // an infinite value with a finite gradient
    let g = Graph::new();
    let a = g.var(1.0);
    let _ = a / 0.0;
    let err = g.check_finite().unwrap_err();
    assert_eq!((err.position, err.op.as_str(), err.grad), (2, "/", 0.0));
    assert_eq!(
        err.to_string(),
        "node 2 (`/` of [1.0, 0.0]) has value inf and gradient 0"
    );
}

#[test]
fn release_spare_buffers_frees_the_arrays_that_wait_for_the_next_graph() {
    {
        let g = Graph::new();
        for i in 0..100 {
            g.var(i as f64);
        }
    }
    scalargrad::fast::reset();
    drop(Graph::new()); // takes the arrays, and leaves them again
    let taken = scalargrad::fast::taken().spare_slots_taken;
    scalargrad::graph::release_spare_buffers();
    scalargrad::fast::reset();
    let g = Graph::new();
    assert!(g.is_empty());
    if cfg!(debug_assertions) {
        assert!(taken >= 100, "{taken}");
        assert_eq!(scalargrad::fast::taken().spare_slots_taken, 0);
    }
}

#[test]
fn a_scope_whose_start_was_rewound_inside_it_panics_at_its_end() {
    let g = Graph::new();
    let outer = g.mark();
    let w = g.var(1.0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        g.scope(|| {
            let _ = w * 2.0;
            g.rewind(outer); // frees w, below the scope's start
        })
    }));
    assert!(r.is_err(), "the scope's mark no longer describes the graph");
    assert!(g.is_empty());
}
