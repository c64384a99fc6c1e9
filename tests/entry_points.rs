//! The public entry points report problems at the user's call, in sentences: anomaly mode
//! inside `Graph::grad` names the caller's line, and `Graph::with_capacity` refuses a size
//! no machine has with a panic, never an abort.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::Graph;

fn message(e: Box<dyn std::any::Any + Send>) -> String {
    match e.downcast::<String>() {
        Ok(s) => *s,
        Err(e) => e
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn anomaly_inside_grad_names_the_callers_line() {
    let g = Graph::new();
    let x = g.var(0.0);
    let y = x.sqrt(); // fine forward: 0
    g.detect_anomaly(true);
    let line = line!() + 1;
    let r = catch_unwind(AssertUnwindSafe(|| g.grad(y, &[x])));
    let m = message(r.expect_err("the derivative 1/(2·0) is infinite"));
    assert!(m.starts_with("scalargrad anomaly"), "{m}");
    assert!(m.contains(&format!("tests/entry_points.rs:{line}")), "{m}");
    // and the graph is usable again, naming each recording call as before
    g.detect_anomaly(false);
    let z = x + 1.0;
    assert_eq!(z.value(), 1.0);
    g.detect_anomaly(true);
    let line = line!() + 1;
    let r = catch_unwind(AssertUnwindSafe(|| x.ln()));
    let m = message(r.expect_err("ln 0"));
    assert!(m.contains(&format!("tests/entry_points.rs:{line}")), "{m}");
}

#[test]
fn with_capacity_past_what_a_graph_holds_panics_with_a_sentence() {
    for n in [usize::MAX, 1 << 40, u32::MAX as usize + 1] {
        let m = message(catch_unwind(|| Graph::with_capacity(n)).expect_err("refused"));
        assert!(
            m.contains("a graph holds at most 4,294,967,295 nodes"),
            "{n}: {m}"
        );
    }
}

#[test]
fn with_capacity_of_the_most_a_graph_holds_reserves_or_refuses_in_a_sentence() {
    // 32 GiB per array: address space where the system grants it, else a sentence; the
    // process never aborts
    match catch_unwind(|| Graph::with_capacity(u32::MAX as usize)) {
        Ok(g) => {
            assert!(g.is_empty());
            let x = g.var(2.0);
            (x * x).backward();
            assert_eq!(x.grad(), 4.0);
        }
        Err(e) => {
            let m = message(e);
            assert!(m.contains("the system refused"), "{m}");
        }
    }
}

/// Anomaly mode names a custom op by the name it was registered with.
#[test]
fn a_backward_anomaly_in_a_custom_op_names_it() {
    use scalargrad::{Scalar, UnaryFn};
    struct Cliff;
    impl UnaryFn for Cliff {
        fn name(&self) -> &str {
            "cliff"
        }
        fn value(&self, x: f64) -> f64 {
            x
        }
        fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
            x.lift(f64::INFINITY)
        }
    }
    let g = Graph::new();
    let cliff = g.custom(Cliff);
    let x = g.var(1.0);
    let y = cliff.apply(x) * 2.0;
    g.detect_anomaly(true);
    let m = message(catch_unwind(AssertUnwindSafe(|| y.backward())).expect_err("∞ derivative"));
    assert!(
        m.starts_with("scalargrad anomaly") && m.contains("`cliff`"),
        "{m}"
    );
}
