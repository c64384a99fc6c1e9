//! Slots past the live nodes (`src/tape/`, "One length"): a rewind, a dropped graph and an
//! anomaly panic leave the arrays allocated, and a new node recorded into such a slot must
//! start with gradient 0, whatever the freed node there had. Oracles: closed-form
//! derivatives of small polynomials, exact in `f64`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::{graph::release_spare_buffers, Graph, Var};

/// `y = ((x·x)·x)·c`: every intermediate receives a gradient.
fn cube_times<'g>(x: Var<'g>, c: f64) -> (Var<'g>, Var<'g>, Var<'g>) {
    let sq = x * x;
    let cube = sq * x;
    (sq, cube, cube * c)
}

#[test]
fn a_node_recorded_where_a_rewind_freed_a_reached_one_starts_at_zero() {
    let g = Graph::new();
    let x = g.var(2.0);
    let mark = g.mark();
    let (sq, cube, y) = cube_times(x, 5.0);
    y.backward();
    // dy/dsq = 5x = 10, dy/dcube = 5, dy/dx = 15x² = 60
    assert_eq!((sq.grad(), cube.grad(), x.grad()), (10.0, 5.0, 60.0));
    g.rewind(mark);
    // the same positions again: sq, cube, the constant and y
    let (sq, cube, y) = cube_times(x, 3.0);
    assert_eq!((sq.grad(), cube.grad(), y.grad()), (0.0, 0.0, 0.0));
    y.backward();
    // this pass's own shares: 3x = 6 and 3; x adds 12x² = 36 to the kept 60
    assert_eq!((sq.grad(), cube.grad(), y.grad()), (6.0, 3.0, 1.0));
    assert_eq!(x.grad(), 96.0);
    // a second backward after the rewind accumulates once more, intermediates included
    y.backward();
    assert_eq!((sq.grad(), cube.grad(), y.grad()), (12.0, 6.0, 2.0));
    assert_eq!(x.grad(), 132.0);
}

#[test]
fn a_partial_rewind_zeroes_only_the_freed_gradients() {
    let g = Graph::new();
    let x = g.var(3.0);
    let sq = x * x;
    let mark = g.mark();
    let y = sq * 2.0;
    y.backward();
    assert_eq!((sq.grad(), x.grad()), (2.0, 12.0));
    g.rewind(mark);
    // kept nodes keep their gradients
    assert_eq!((sq.grad(), x.grad()), (2.0, 12.0));
    let z = sq + 1.0; // the constant and z take the freed slots
    assert_eq!(z.grad(), 0.0);
    z.backward();
    assert_eq!((z.grad(), sq.grad(), x.grad()), (1.0, 3.0, 18.0));
}

#[test]
fn the_next_graph_on_a_thread_starts_with_zero_gradients_in_reused_slots() {
    release_spare_buffers();
    {
        let g = Graph::new();
        let x = g.var(1.5);
        let (_, _, y) = cube_times(x, 7.0);
        y.backward();
        assert_eq!(x.grad(), 7.0 * 3.0 * 1.5 * 1.5);
    } // its arrays go to the spare slot, gradients and all
    let g = Graph::new();
    let x = g.var(2.0);
    let (sq, cube, y) = cube_times(x, 1.0);
    assert_eq!((x.grad(), sq.grad(), cube.grad()), (0.0, 0.0, 0.0));
    y.backward();
    assert_eq!((x.grad(), sq.grad(), cube.grad()), (12.0, 2.0, 1.0));
    assert_eq!(g.len(), 5);
}

#[test]
fn an_anomaly_panic_frees_its_node_and_the_slot_is_reused_cleanly() {
    let g = Graph::new();
    g.detect_anomaly(true);
    let x = g.var(0.0);
    let one = g.var(1.0);
    let before = g.len();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = one / x; // finite inputs, infinite value: panics, node dropped
    }));
    assert!(r.is_err());
    assert_eq!(g.len(), before);
    let y = one * x + one; // x·1 + 1 at the freed position
    y.backward();
    assert_eq!((x.grad(), one.grad(), y.grad()), (1.0, 1.0, 1.0));
    assert_eq!(g.check_finite(), Ok(()));
}

#[test]
fn check_finite_and_zero_grad_see_live_nodes_only() {
    let g = Graph::new();
    let x = g.var(0.0);
    let mark = g.mark();
    let _bad = x.ln(); // −inf, freed below
    assert_eq!(g.check_finite().unwrap_err().value, f64::NEG_INFINITY);
    g.rewind(mark);
    assert_eq!(g.check_finite(), Ok(()));
    let y = x * 2.0;
    y.backward();
    assert_eq!(x.grad(), 2.0);
    g.zero_grad();
    assert_eq!((x.grad(), y.grad()), (0.0, 0.0));
    y.backward();
    assert_eq!(x.grad(), 2.0);
}

#[test]
fn recompute_after_a_rewind_computes_the_live_nodes_only() {
    let g = Graph::new();
    let x = g.var(2.0);
    let mark = g.mark();
    let _freed = x * 10.0;
    g.rewind(mark);
    let y = x + 1.0;
    x.set_value(4.0);
    g.recompute();
    assert_eq!((y.value(), g.len()), (5.0, 3));
}
