//! Which nodes a reverse pass visits (`backward::reverse_pass`: every share marks its
//! target, in a ring of flags for targets just below the node being pulled back, else in
//! the target's word): a node reached with shares that sum to exactly 0 is still visited,
//! and a pass interrupted by a panic leaves no mark that changes the next one. Oracles:
//! IEEE rules (`0·∞ = NaN`) and closed-form derivatives.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::{Graph, Scalar, UnaryFn};

#[test]
fn a_node_reached_with_shares_summing_to_zero_still_propagates_nan() {
    let g = Graph::new();
    let c = g.var(2.0);
    let b = g.var(f64::INFINITY);
    let m = c * b; // ∂m/∂c = b = ∞
    let y = m - m; // m receives +1 and −1: reached, gradient exactly 0
    y.backward();
    assert_eq!(m.grad(), 0.0);
    assert!(c.grad().is_nan(), "0·∞ must reach c, got {}", c.grad());
    assert_eq!(b.grad(), 0.0); // 0·c
}

#[test]
fn a_zero_gradient_from_an_inactive_relu_still_reaches_the_nodes_below() {
    let g = Graph::new();
    let x = g.var(-1.0);
    let w = g.var(f64::INFINITY);
    let m = x * w; // −∞
    let r = m.relu(); // inactive: m is reached with exactly 0
    r.backward();
    assert_eq!(m.grad(), 0.0);
    assert!(x.grad().is_nan(), "0·∞ must reach x, got {}", x.grad());
    assert_eq!(w.grad(), 0.0); // 0·(−1) = −0
}

/// `f(x) = x²` whose derivative panics while `ARMED` is set.
struct Fragile;
static ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

impl UnaryFn for Fragile {
    fn name(&self) -> &str {
        "fragile"
    }
    fn value(&self, x: f64) -> f64 {
        x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        if ARMED.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("derivative failed");
        }
        x * 2.0
    }
}

#[test]
fn a_pass_interrupted_above_reached_nodes_does_not_make_the_next_pass_visit_them() {
    let g = Graph::new();
    let x = g.var(3.0);
    let b = g.var(f64::INFINITY);
    let a = x * b; // reached by the interrupted pass, never walked: ∂a/∂x = ∞
                   // far enough below `loss` for its mark to go to its word, not the walk's ring
    let one = g.constant(1.0);
    let _filler = (0..5_000).fold(one, |acc, _| acc * 1.0);
    let p = g.custom(Fragile).apply(x);
    let loss = a + p; // the walk gives a its share, then panics at p
    assert!(catch_unwind(AssertUnwindSafe(|| loss.backward())).is_err());
    assert_eq!(x.grad(), 0.0); // the walk stopped above x
    ARMED.store(false, std::sync::atomic::Ordering::SeqCst);
    // A pass from p alone does not reach a. Were a visited on a stale mark, x would get
    // 0·∞ = NaN from it.
    p.backward();
    assert_eq!(x.grad(), 6.0); // d(x²)/dx at 3
}

/// The walk steps over unreached positions eight at a time (`backward::skip_unmarked`):
/// after every gap length from 0 to 40, at every alignment around the ring's wrap (4,096
/// positions), the node under the gap is still visited, whether its mark is in the ring
/// (the use just above the gap) or in its word (a use more than 4,096 positions up).
#[test]
fn nodes_under_gaps_of_unreached_positions_are_visited_at_every_alignment() {
    for lead in 4_080..4_100 {
        for gap in 0..=40 {
            let g = Graph::new();
            let far = g.var(0.5);
            // unreached leaves: they move `x` to position `lead + 1` and put `far` more
            // than 4,096 positions below the output
            let filler: Vec<_> = (0..lead).map(|k| g.var(k as f64)).collect();
            let x = g.var(1.5);
            let under = g.var(-2.0);
            let unused: Vec<_> = (0..gap).map(|k| x * (k as f64) + under).collect();
            // near marks (x, under: `gap` + 1 and + 2 positions below) and a far one
            let out = x * under + far * 4.0;
            out.backward();
            let at = format!("lead {lead}, gap {gap}");
            assert_eq!(out.value(), -3.0 + 2.0, "{at}");
            assert_eq!(x.grad(), -2.0, "{at}");
            assert_eq!(under.grad(), 1.5, "{at}");
            assert_eq!(far.grad(), 4.0, "{at}");
            assert!(filler.iter().all(|v| v.grad() == 0.0), "{at}");
            assert!(unused.iter().all(|v| v.grad() == 0.0), "{at}");
        }
    }
}
