//! Ways a wrong number could slip through that a review found, each pinned: stale or foreign
//! marks, a reverse pass interrupted by a panic, replaying `abs` across a sign change,
//! anomaly mode on accumulation and on `recompute`, and panicking steps inside `scope`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::{Graph, Scalar, UnaryFn};

#[test]
#[should_panic(expected = "stale mark")]
fn a_mark_from_before_an_earlier_rewind_is_refused() {
    let g = Graph::new();
    let (x, y) = (g.var(1.0), g.var(2.0));
    let early = g.mark();
    let _ = x * y;
    let _ = x * y;
    let late = g.mark();
    g.rewind(early);
    let s = g.sum(&[x, y]);
    let _ = x * y;
    let _ = x * y;
    assert_eq!(s.value(), 3.0);
    g.rewind(late); // the nodes `late` would keep were re-created: refused
}

#[test]
#[should_panic(expected = "mark taken on another graph")]
fn a_mark_from_another_graph_is_refused() {
    let (g, h) = (Graph::new(), Graph::new());
    let (_a, _b) = (g.var(1.0), h.var(1.0));
    let mark = g.mark();
    h.rewind(mark);
}

#[test]
fn rewinding_to_an_earlier_mark_after_a_later_one_is_fine() {
    let g = Graph::new();
    let x = g.var(1.0);
    let early = g.mark();
    let _ = x * 2.0;
    let late = g.mark();
    let _ = x * 3.0;
    g.rewind(late);
    g.rewind(early);
    assert_eq!(g.len(), 1);
}

/// A custom op whose derivative panics: an interrupted reverse pass.
struct Picky;

impl UnaryFn for Picky {
    fn name(&self) -> &str {
        "picky"
    }
    fn value(&self, x: f64) -> f64 {
        x
    }
    fn derivative<S: Scalar>(&self, _x: S, _y: S) -> S {
        panic!("picky refuses to differentiate")
    }
}

#[test]
fn an_interrupted_backward_does_not_poison_the_next_one() {
    let g = Graph::new();
    let picky = g.custom(Picky);
    let (w, z) = (g.var(1.0), g.var(1.0));
    let h = w * 3.0;
    let loss = h + picky.apply(z);
    let caught = catch_unwind(AssertUnwindSafe(|| loss.backward()));
    assert!(caught.is_err());
    scalargrad::nn::zero_grad(&[w]);
    (h * 2.0).backward();
    assert_eq!(w.grad(), 6.0); // not 9: the interrupted pass's share of h is not re-propagated
}

#[test]
fn abs_replays_correctly_across_a_sign_change() {
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x.abs();
    x.set_value(-3.0);
    g.recompute();
    assert_eq!(y.value(), 3.0);
    y.backward();
    assert_eq!(x.grad(), -1.0);
    assert_eq!(Scalar::abs(-0.0_f64).to_bits(), 0.0_f64.to_bits());
}

#[test]
#[should_panic(expected = "scalargrad anomaly")]
fn anomaly_mode_catches_overflow_into_an_earlier_gradient() {
    let g = Graph::new();
    g.detect_anomaly(true);
    let x = g.var(1.0);
    let y = x * 1e308;
    y.backward();
    y.backward(); // 1e308 + 1e308 overflows in x's kept gradient
}

#[test]
#[should_panic(expected = "`ln` of finite inputs [0.0]")]
fn anomaly_mode_checks_recompute() {
    let g = Graph::new();
    g.detect_anomaly(true);
    let x = g.var(1.0);
    let _y = x.ln();
    x.set_value(0.0);
    g.recompute();
}

/// `√x` with a derivative that blows up at 0.
struct Sqrt;

impl UnaryFn for Sqrt {
    fn name(&self) -> &str {
        "mysqrt"
    }
    fn value(&self, x: f64) -> f64 {
        x.sqrt()
    }
    fn derivative<S: Scalar>(&self, _x: S, y: S) -> S {
        y.lift(0.5) / y
    }
}

#[test]
#[should_panic(expected = "through `mysqrt`")]
fn backward_anomalies_name_custom_ops() {
    let g = Graph::new();
    g.detect_anomaly(true);
    let sqrt = g.custom(Sqrt);
    let x = g.var(0.0);
    sqrt.apply(x).backward();
}

#[test]
#[should_panic(expected = "another Graph")]
fn a_one_term_sum_still_checks_its_handle() {
    let (g, h) = (Graph::new(), Graph::new());
    let x = h.var(1.0);
    let _ = g.sum(&[x]);
}

#[test]
fn a_panicking_step_inside_scope_is_freed_too() {
    let g = Graph::new();
    let w = g.var(2.0);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        g.scope(|| {
            let _ = w * w * w;
            panic!("step failed");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(g.len(), 1);
    assert_eq!(g.scope(|| (w * w).value()), 4.0);
}

#[test]
fn dot_pictures_keep_small_numbers_and_escape_labels() {
    let g = Graph::new();
    let w = g.var(2.5e-7).named("w \"small\" | {x}");
    let y = w * w;
    y.backward();
    let dot = g.to_dot(y).to_string();
    assert!(dot.contains("value 6.25e-14 | grad 1"), "{dot}");
    assert!(dot.contains("value 2.5e-7 | grad 5e-7"), "{dot}");
    assert!(dot.contains(r#"w \"small\" \| \{x\} | var"#), "{dot}");
}
