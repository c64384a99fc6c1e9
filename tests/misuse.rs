//! Misuse of handles and of the graph's life cycle: every case either panics with a sentence
//! that names the problem, or has a documented outcome that is asserted here.
//!
//! The cases the compiler rejects (a handle outliving its graph, a handle or a shared graph
//! crossing threads) are `compile_fail` doc tests in `src/guarantees.rs`.

use scalargrad::{Graph, Scalar, UnaryFn};

const FOREIGN: &str = "a handle from another Graph was used here";
const FREED: &str = "this handle points to a node that was freed";

/// The text of a panic payload (`panic!` with a literal gives a `&str`, with arguments a
/// `String`).
fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

// ---- handles from another graph ------------------------------------------------------------

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_handle_in_a_binary_op_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.var(1.0) + h.var(2.0);
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_handle_as_pow_exponent_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.var(2.0).pow_var(h.var(2.0));
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_handle_in_sum_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.sum(&[g.var(1.0), h.var(2.0)]);
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_handle_in_affine_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.affine(g.var(0.0), &[g.var(1.0)], &[h.constant(2.0)]);
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_handle_in_grad_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let x = g.var(1.0);
    let _ = g.grad(x * x, &[h.var(1.0)]);
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn foreign_root_in_grad_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let y = h.var(1.0);
    let _ = g.grad(y, &[]);
}

struct Square;
impl UnaryFn for Square {
    fn name(&self) -> &str {
        "square"
    }
    fn value(&self, x: f64) -> f64 {
        x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x * 2.0
    }
}

#[test]
#[should_panic(expected = "a handle from another Graph was used here")]
fn custom_op_applied_to_a_foreign_handle_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let square = g.custom(Square);
    let _ = square.apply(h.var(3.0));
}

/// Two graphs with identical contents: a handle of one, read through its own graph, reads
/// its own graph's node, never the other's (handles carry their graph).
#[test]
fn same_shaped_graphs_keep_their_own_values() {
    let (g, h) = (Graph::new(), Graph::new());
    let x = g.var(1.0);
    let y = h.var(2.0);
    assert_eq!((x.value(), y.value()), (1.0, 2.0));
    (x * 3.0).backward();
    assert_eq!((x.grad(), y.grad()), (3.0, 0.0));
}

// ---- handles to freed nodes ----------------------------------------------------------------

#[test]
#[should_panic(expected = "this handle points to a node that was freed")]
fn freed_handle_value_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    let m = g.mark();
    let y = x * 2.0;
    g.rewind(m);
    let _ = y.value();
}

/// The core guarantee: the freed slot is reused by new nodes at the very same tape position,
/// and the stale handle still panics instead of reading the new node.
#[test]
fn stale_handle_never_reads_the_node_that_reused_its_slot() {
    let g = Graph::new();
    let x = g.var(1.0);
    let m = g.mark();
    let stale = x * 2.0; // position 2 (the constant 2.0 is position 1)
    assert_eq!(stale.value(), 2.0);
    g.rewind(m);
    let c = g.constant(7.0); // reuses position 1
    let fresh = x * c; // reuses position 2 and the slot of `stale`
    assert_eq!(g.len(), 3);
    assert_eq!(fresh.value(), 7.0);
    for (what, read) in [
        (
            "value",
            Box::new(move || stale.value()) as Box<dyn Fn() -> f64>,
        ),
        ("grad", Box::new(move || stale.grad())),
        (
            "is_tracked",
            Box::new(move || stale.is_tracked() as u8 as f64),
        ),
        ("op", Box::new(move || (stale * x).value())),
        ("exp", Box::new(move || stale.exp().value())),
        (
            "backward",
            Box::new(move || {
                stale.backward();
                0.0
            }),
        ),
        (
            "set_value",
            Box::new(move || {
                stale.set_value(3.0);
                0.0
            }),
        ),
    ] {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
        let msg = message(r.expect_err(what));
        assert!(msg.contains(FREED), "{what}: {msg}");
    }
    // the graph is intact after all those panics
    assert_eq!((fresh.value(), g.len()), (7.0, 3));
    assert_eq!(format!("{stale:?}"), "Var(freed)");
}

/// Reuse many times over: a slot's generation keeps every older handle stale.
#[test]
fn a_slot_reused_a_thousand_times_keeps_every_old_handle_stale() {
    let g = Graph::new();
    let x = g.var(1.0);
    let m = g.mark();
    let mut old = Vec::new();
    for i in 0..1000 {
        let y = x + i as f64;
        assert_eq!(y.value(), 1.0 + i as f64);
        old.push(y);
        g.rewind(m);
    }
    let live = x * 5.0;
    for y in old {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.value()));
        assert!(r.is_err());
    }
    assert_eq!(live.value(), 5.0);
}

#[test]
#[should_panic(expected = "this handle points to a node that was freed")]
fn handle_used_after_clear_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    g.clear();
    let _y = g.var(5.0); // takes x's position
    let _ = x.grad();
}

#[test]
#[should_panic(expected = "this handle points to a node that was freed")]
fn freed_handle_in_grad_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    let m = g.mark();
    let y = x.exp();
    g.rewind(m);
    let _ = g.grad(y, &[x]);
}

#[test]
#[should_panic(expected = "Graph::rewind with a mark taken on another graph")]
fn rewinding_to_a_mark_from_a_longer_graph_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    h.var(1.0);
    h.var(2.0);
    let m = h.mark();
    g.var(1.0);
    g.rewind(m);
}

#[test]
#[should_panic(expected = "Graph::rewind to a stale mark (at 3 nodes; the graph has 1)")]
fn rewinding_to_a_mark_past_the_end_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    let early = g.mark();
    let _ = x * 2.0;
    let late = g.mark();
    g.rewind(early);
    g.rewind(late);
}

#[test]
#[should_panic(expected = "set_value on a `*` node")]
fn set_value_on_an_op_node_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    (x * x).set_value(2.0);
}

#[test]
#[should_panic(expected = "Graph::sum of no terms")]
fn sum_of_nothing_panics() {
    let g = Graph::new();
    let _ = g.sum(&[]);
}

#[test]
#[should_panic(expected = "dot of 2 weights with 1 inputs")]
fn dot_of_mismatched_lengths_panics() {
    let g = Graph::new();
    let _ = g.dot(&[g.var(1.0), g.var(2.0)], &[g.var(1.0)]);
}

// ---- the life cycle: documented outcomes ---------------------------------------------------

/// Backward from a constant (or an op on constants only) does nothing: no leaf depends on it.
#[test]
fn backward_from_a_constant_does_nothing() {
    let g = Graph::new();
    let x = g.var(2.0);
    let c = g.constant(3.0);
    let y = c * 4.0;
    y.backward();
    c.backward();
    assert_eq!((x.grad(), c.grad(), y.grad()), (0.0, 0.0, 0.0));
    assert!(!y.is_tracked());
}

/// Backward from a tracked leaf seeds it with 1.
#[test]
fn backward_from_a_leaf_seeds_it_with_one() {
    let g = Graph::new();
    let x = g.var(2.0);
    x.backward();
    assert_eq!(x.grad(), 1.0);
}

/// Backward twice accumulates twice, intermediate nodes included (as PyTorch with a kept
/// graph); zero_grad between the two gives the single-backward result again.
#[test]
fn backward_twice_accumulates_and_zero_grad_in_between_resets() {
    let g = Graph::new();
    let x = g.var(3.0);
    let h = x * x; // 9, dh/dx = 6
    let y = h * h;
    y.backward();
    let once = (x.grad(), h.grad(), y.grad());
    assert_eq!(once, (6.0 * 2.0 * 9.0, 2.0 * 9.0, 1.0)); // y = h², dy/dh = 2h
    y.backward();
    assert_eq!((x.grad(), h.grad(), y.grad()), (216.0, 36.0, 2.0));
    g.zero_grad();
    assert_eq!((x.grad(), h.grad(), y.grad()), (0.0, 0.0, 0.0));
    y.backward();
    assert_eq!((x.grad(), h.grad(), y.grad()), once);
}

/// zero_grad between the forward pass and backward changes nothing: values are untouched and
/// backward then fills fresh gradients.
#[test]
fn zero_grad_between_forward_and_backward_is_harmless() {
    let g = Graph::new();
    let x = g.var(0.5);
    let y = (x * 4.0).tanh();
    g.zero_grad();
    assert_eq!(y.value(), 2f64.tanh());
    y.backward();
    assert_eq!(x.grad(), 4.0 * (1.0 - 2f64.tanh().powi(2)));
}

/// Backward from two different roots adds both gradients (a sum of losses, taken in pieces).
#[test]
fn backward_from_two_roots_adds_both() {
    let g = Graph::new();
    let x = g.var(2.0);
    let a = x * x;
    let b = x * 10.0;
    a.backward();
    b.backward();
    assert_eq!(x.grad(), 4.0 + 10.0);
}

/// After clear the graph is empty and usable; custom ops registered before stay registered.
#[test]
fn a_cleared_graph_is_empty_and_usable() {
    let g = Graph::new();
    let square = g.custom(Square);
    let x = g.var(1.0);
    (x * 2.0).backward();
    g.clear();
    assert!(g.is_empty());
    assert!(g.check_finite().is_ok());
    let y = g.var(3.0);
    let z = square.apply(y);
    z.backward();
    assert_eq!((z.value(), y.grad(), g.len()), (9.0, 6.0, 2));
}

/// Rewinding keeps nodes before the mark, their values and their gradients.
#[test]
fn rewind_keeps_what_came_before_the_mark() {
    let g = Graph::new();
    let w = g.var(2.0);
    (w * 3.0).backward();
    let m = g.mark();
    let _ = w.exp().ln();
    g.rewind(m);
    assert_eq!((w.value(), w.grad(), g.len()), (2.0, 3.0, 3));
}

/// A scope's result is computed before its nodes are freed; the graph length is restored.
#[test]
fn scope_frees_its_nodes_and_returns_numbers() {
    let g = Graph::new();
    let w = g.var(3.0);
    let before = g.len();
    let (v, d) = g.scope(|| {
        let y = w.pow(3.0);
        y.backward();
        (y.value(), w.grad())
    });
    assert_eq!((v, d, g.len()), (27.0, 27.0, before));
}

/// A panic inside a misuse check leaves the graph consistent: it can be used again.
#[test]
fn the_graph_survives_a_misuse_panic() {
    let (g, h) = (Graph::new(), Graph::new());
    let x = g.var(1.0);
    let foreign = h.var(1.0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x + foreign));
    let msg = message(r.expect_err("foreign handle"));
    assert!(msg.contains(FOREIGN), "{msg}");
    let y = x * 4.0;
    y.backward();
    assert_eq!((y.value(), x.grad(), g.len()), (4.0, 4.0, 3));
}

/// A panic in the middle of a reverse pass (here anomaly mode's) leaves the graph usable:
/// the interrupted pass's partial gradients stay until `zero_grad`, and no bookkeeping of the
/// interrupted pass leaks into the next one.
#[test]
fn a_graph_is_usable_after_a_panic_inside_backward() {
    let g = Graph::new();
    let z = g.var(2.0);
    let x = g.var(0.0);
    let y = x.pow(0.5) * 0.0 + z * 3.0; // backward: 0·∞ in pow's rule
    let w = z * z;
    g.detect_anomaly(true);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward()));
    assert!(message(r.expect_err("anomaly")).starts_with("scalargrad anomaly"));
    g.detect_anomaly(false);
    g.zero_grad();
    w.backward();
    assert_eq!((z.grad(), x.grad(), y.grad()), (4.0, 0.0, 0.0));
    y.backward();
    assert_eq!(z.grad(), 4.0 + 3.0);
    assert!(x.grad().is_nan());
}
