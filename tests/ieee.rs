//! IEEE propagation, op by op: the value and the gradient at each edge point, written out as
//! the numbers IEEE 754 double arithmetic gives for the op's forward and derivative formulas.
//! Where PyTorch's float64 backward formulas (its `derivatives.yaml`: `grad / self` for log,
//! `-grad * self / (other * other)` for div, the masks of `pow` at a zero exponent or base,
//! `threshold_backward` for relu) give a number, it is the one written here; these were
//! derived from those formulas by hand, not by running PyTorch. Compared bit for bit, so the
//! sign of a zero counts; any NaN matches any NaN.
//!
//! One deliberate difference from PyTorch: gradients *accumulate* into `.grad()`, which
//! starts at +0, and `+0 + (−0) = +0`; so where the derivative is −0 (PyTorch's first
//! `.grad` would read −0), `.grad()` reads +0. Rows marked `(−0 accumulated)` show it.
//!
//! Then anomaly mode (forward, leaves, backward, off again) and `Graph::check_finite`.

use scalargrad::{Graph, Var};

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

/// Same bits, or both NaN.
#[track_caller]
fn assert_ieee(actual: f64, expected: f64, what: &str) {
    let ok = if expected.is_nan() {
        actual.is_nan()
    } else {
        actual.to_bits() == expected.to_bits()
    };
    assert!(ok, "{what}: got {actual:?}, expected {expected:?}");
}

type Unary = for<'g> fn(Var<'g>) -> Var<'g>;
type Binary = for<'g> fn(Var<'g>, Var<'g>) -> Var<'g>;

/// `(x, value, d/dx)` rows for one unary op.
#[track_caller]
fn unary_rows(name: &str, f: Unary, rows: &[(f64, f64, f64)]) {
    for &(x, value, grad) in rows {
        let g = Graph::new();
        let v = g.var(x);
        let y = f(v);
        y.backward();
        assert_ieee(y.value(), value, &format!("{name}({x:?}) value"));
        assert_ieee(v.grad(), grad, &format!("{name}'({x:?})"));
    }
}

/// `(a, b, value, ∂/∂a, ∂/∂b)` rows for one binary op.
#[track_caller]
fn binary_rows(name: &str, f: Binary, rows: &[(f64, f64, f64, f64, f64)]) {
    for &(a, b, value, da, db) in rows {
        let g = Graph::new();
        let (va, vb) = (g.var(a), g.var(b));
        let y = f(va, vb);
        y.backward();
        let at = format!("{name}({a:?}, {b:?})");
        assert_ieee(y.value(), value, &format!("{at} value"));
        assert_ieee(va.grad(), da, &format!("{at} ∂/∂a"));
        assert_ieee(vb.grad(), db, &format!("{at} ∂/∂b"));
    }
}

#[test]
fn add_and_sub() {
    // ∂/∂a = 1, ∂/∂b = ±1 whatever the values: the gradient does not see the NaN.
    binary_rows(
        "add",
        |a, b| a + b,
        &[
            (INF, -INF, NAN, 1.0, 1.0),
            (INF, 1.0, INF, 1.0, 1.0),
            (NAN, 1.0, NAN, 1.0, 1.0),
        ],
    );
    binary_rows(
        "sub",
        |a, b| a - b,
        &[(INF, INF, NAN, 1.0, -1.0), (-INF, INF, -INF, 1.0, -1.0)],
    );
}

#[test]
fn mul() {
    // ∂/∂a = b, ∂/∂b = a: 0·∞ is NaN in the value, but each gradient sees one factor only.
    binary_rows(
        "mul",
        |a, b| a * b,
        &[
            (0.0, INF, NAN, INF, 0.0),
            (-0.0, INF, NAN, INF, 0.0), // −0 accumulated
            (2.0, INF, INF, INF, 2.0),
            (NAN, 0.0, NAN, 0.0, NAN),
        ],
    );
}

#[test]
fn div_by_zero_and_infinity() {
    // ∂/∂a = 1/b, ∂/∂b = −a/b² (computed as −y/b; PyTorch: −a/(b·b), same numbers here)
    binary_rows(
        "div",
        |a, b| a / b,
        &[
            (1.0, 0.0, INF, INF, -INF),
            (-1.0, 0.0, -INF, INF, INF),
            (1.0, -0.0, -INF, -INF, -INF),
            (0.0, 0.0, NAN, INF, NAN),
            (1.0, INF, 0.0, 0.0, 0.0), // −0 accumulated
            (INF, INF, NAN, 0.0, NAN),
        ],
    );
}

#[test]
fn neg() {
    unary_rows(
        "neg",
        |x| -x,
        &[(INF, -INF, -1.0), (NAN, NAN, -1.0), (0.0, -0.0, -1.0)],
    );
}

#[test]
fn pow_with_a_constant_exponent() {
    // d/dx xᵏ = k·xᵏ⁻¹
    unary_rows(
        "pow(1/3)",
        |x| x.pow(1.0 / 3.0),
        &[(-8.0, NAN, NAN)], // negative base, fractional exponent
    );
    unary_rows(
        "pow(-1)",
        |x| x.pow(-1.0),
        &[(0.0, INF, -INF), (-0.0, -INF, -INF), (INF, 0.0, 0.0)], // −0 accumulated
    );
    unary_rows("pow(-2)", |x| x.pow(-2.0), &[(0.0, INF, -INF)]);
    unary_rows(
        "pow(0.5)",
        |x| x.pow(0.5),
        &[(0.0, 0.0, INF), (-1.0, NAN, NAN), (INF, INF, 0.0)],
    );
    // k = 0: y = 1 and y' = 0 everywhere, NaN and ∞ included (IEEE pow(x, 0) = 1; PyTorch
    // masks the derivative to 0)
    unary_rows(
        "pow(0)",
        |x| x.pow(0.0),
        &[(0.0, 1.0, 0.0), (NAN, 1.0, 0.0), (INF, 1.0, 0.0)],
    );
    unary_rows(
        "pow(2)",
        |x| x.pow(2.0),
        &[
            (INF, INF, INF),
            (-INF, INF, -INF),
            (NAN, NAN, NAN),
            (0.0, 0.0, 0.0),
        ],
    );
    unary_rows("pow(3)", |x| x.pow(3.0), &[(-INF, -INF, INF)]);
}

#[test]
fn pow_with_a_handle_exponent() {
    // y = aᵇ: ∂/∂a = b·aᵇ⁻¹ (0 where a = b = 0), ∂/∂b = y·ln a (0 where a = 0 and b ≥ 0),
    // as PyTorch masks both there
    binary_rows(
        "pow_var",
        |a, b| a.pow_var(b),
        &[
            (-8.0, 1.0 / 3.0, NAN, NAN, NAN),
            (-2.0, 2.0, 4.0, -4.0, NAN), // ln(−2) is NaN
            (0.0, 2.0, 0.0, 0.0, 0.0),
            (0.0, 0.0, 1.0, 0.0, 0.0), // not 0·0⁻¹ = 0·∞ = NaN
            (0.0, -1.0, INF, -INF, -INF),
            (2.0, INF, INF, INF, INF),
            (1.0, NAN, 1.0, NAN, 0.0), // IEEE pow(1, NaN) = 1
        ],
    );
}

#[test]
fn exp_overflow_and_underflow() {
    // d/dx eˣ = y
    unary_rows(
        "exp",
        |x| x.exp(),
        &[
            (709.0, 8.218407461554972e307, 8.218407461554972e307),
            (710.0, INF, INF),
            (-745.5, 0.0, 0.0),
            (-INF, 0.0, 0.0),
            (INF, INF, INF),
            (NAN, NAN, NAN),
        ],
    );
}

#[test]
fn ln_of_zero_and_of_negatives() {
    // d/dx ln x = 1/x: finite (−1) at x = −1 although the value is NaN, as PyTorch
    unary_rows(
        "ln",
        |x| x.ln(),
        &[
            (0.0, -INF, INF),
            (-0.0, -INF, -INF),
            (-1.0, NAN, -1.0),
            (-INF, NAN, 0.0), // −0 accumulated
            (INF, INF, 0.0),
            (NAN, NAN, NAN),
        ],
    );
}

#[test]
fn sigmoid_saturates_without_nan() {
    // σ' = y(1 − y)
    unary_rows(
        "sigmoid",
        |x| x.sigmoid(),
        &[
            (1000.0, 1.0, 0.0),
            (-1000.0, 0.0, 0.0),
            (INF, 1.0, 0.0),
            (-INF, 0.0, 0.0),
            (-745.0, 5e-324, 5e-324), // the smallest subnormal, not flushed to 0
            (NAN, NAN, NAN),
        ],
    );
}

#[test]
fn tanh_saturates_without_nan() {
    // tanh' = 1 − y²
    unary_rows(
        "tanh",
        |x| x.tanh(),
        &[
            (INF, 1.0, 0.0),
            (-INF, -1.0, 0.0),
            (20.0, 1.0, 0.0),
            (19.0, 0.9999999999999999, 2.220446049250313e-16),
            (-0.0, -0.0, 1.0),
            (NAN, NAN, NAN),
        ],
    );
}

#[test]
fn relu_at_zero_infinity_and_nan() {
    // relu'(x) = 1 for x > 0, else 0: the mask `x > 0` is false for NaN, so its gradient is
    // 0 (as PyTorch's threshold_backward, JAX and micrograd give)
    unary_rows(
        "relu",
        |x| x.relu(),
        &[
            (0.0, 0.0, 0.0),
            (-0.0, 0.0, 0.0),
            (INF, INF, 1.0),
            (-INF, 0.0, 0.0),
            (NAN, NAN, 0.0),
        ],
    );
}

#[test]
fn elementary_functions_at_zero_infinity_and_nan() {
    // sin' = cos, cos' = −sin (−0 accumulated to +0 at 0), ±∞ → NaN
    unary_rows(
        "sin",
        |x| x.sin(),
        &[
            (0.0, 0.0, 1.0),
            (-0.0, -0.0, 1.0),
            (INF, NAN, NAN),
            (NAN, NAN, NAN),
        ],
    );
    unary_rows(
        "cos",
        |x| x.cos(),
        &[(0.0, 1.0, 0.0), (-INF, NAN, NAN), (NAN, NAN, NAN)],
    );
    // sqrt' = 1/(2y): +inf at +0, −inf at −0 (√−0 = −0), as PyTorch's grad / (2·result)
    unary_rows(
        "sqrt",
        |x| x.sqrt(),
        &[
            (0.0, 0.0, INF),
            (-0.0, -0.0, -INF),
            (INF, INF, 0.0),
            (-1.0, NAN, NAN),
            (NAN, NAN, NAN),
        ],
    );
    // abs' = sign, 0 at ±0 (PyTorch's sgn), NaN for NaN
    unary_rows(
        "abs",
        |x| x.abs(),
        &[
            (0.0, 0.0, 0.0),
            (-0.0, 0.0, 0.0),
            (INF, INF, 1.0),
            (-INF, INF, -1.0),
            (NAN, NAN, NAN),
        ],
    );
    // log1p' = 1/(1 + x) (PyTorch: grad / (self + 1)), even below −1 where the value is NaN
    unary_rows(
        "log1p",
        |x| x.log1p(),
        &[
            (0.0, 0.0, 1.0),
            (-0.0, -0.0, 1.0),
            (-1.0, -INF, INF),
            (-2.0, NAN, -1.0),
            (INF, INF, 0.0),
            (NAN, NAN, NAN),
        ],
    );
    // softplus' = σ, no overflow either way
    unary_rows(
        "softplus",
        |x| x.softplus(),
        &[
            (0.0, std::f64::consts::LN_2, 0.5),
            (INF, INF, 1.0),
            (-INF, 0.0, 0.0),
            (-800.0, 0.0, 0.0),
            (800.0, 800.0, 1.0),
            (NAN, NAN, NAN),
        ],
    );
    // max/min: the first input on a tie (so max(0, −0) = 0, max(−0, 0) = −0), ½ each;
    // NaN on either side gives NaN and NaN gradients (unlike f64::max)
    binary_rows(
        "max",
        |a, b| a.max(b),
        &[
            (1.0, 2.0, 2.0, 0.0, 1.0),
            (0.0, -0.0, 0.0, 0.5, 0.5),
            (-0.0, 0.0, -0.0, 0.5, 0.5),
            (INF, INF, INF, 0.5, 0.5),
            (NAN, 1.0, NAN, NAN, NAN),
            (1.0, NAN, NAN, NAN, NAN),
        ],
    );
    binary_rows(
        "min",
        |a, b| a.min(b),
        &[
            (1.0, 2.0, 1.0, 1.0, 0.0),
            (-INF, 3.0, -INF, 1.0, 0.0),
            (0.0, -0.0, 0.0, 0.5, 0.5),
            (NAN, 1.0, NAN, NAN, NAN),
        ],
    );
}

#[test]
fn fused_sum_dot_affine() {
    let g = Graph::new();
    let xs = [g.var(INF), g.var(-INF), g.var(1.0)];
    let s = g.sum(&xs);
    s.backward();
    assert_ieee(s.value(), NAN, "sum(∞, −∞, 1)");
    for x in xs {
        assert_ieee(x.grad(), 1.0, "∂sum/∂x");
    }

    let g = Graph::new();
    let (w, x) = ([g.var(0.0), g.var(1.0)], [g.var(INF), g.var(2.0)]);
    let d = g.dot(&w, &x);
    d.backward();
    assert_ieee(d.value(), NAN, "0·∞ + 1·2");
    assert_ieee(w[0].grad(), INF, "∂/∂w₀ = x₀");
    assert_ieee(x[0].grad(), 0.0, "∂/∂x₀ = w₀");
    assert_ieee(w[1].grad(), 2.0, "∂/∂w₁ = x₁");
    assert_ieee(x[1].grad(), 1.0, "∂/∂x₁ = w₁");

    let g = Graph::new();
    let (b, w, x) = (g.var(INF), g.var(1.0), g.var(-INF));
    let y = g.affine(b, &[w], &[x]);
    y.backward();
    assert_ieee(y.value(), NAN, "∞ + 1·(−∞)");
    assert_ieee(b.grad(), 1.0, "∂/∂b");
    assert_ieee(w.grad(), -INF, "∂/∂w = x");
    assert_ieee(x.grad(), 1.0, "∂/∂x = w");
}

/// The chain rule multiplies an upstream 0 by a local ∞: NaN, as in PyTorch
/// (`(torch.sqrt(x) * 0).backward()` at x = 0 gives NaN).
#[test]
fn zero_times_infinity_in_a_backward_product() {
    unary_rows(
        "sqrt(x)·0",
        |x| x.pow(0.5) * 0.0,
        &[(0.0, 0.0, NAN), (4.0, 0.0, 0.0)],
    );
    // and the NaN does not leak into a sibling path's gradient of another leaf
    let g = Graph::new();
    let (x, z) = (g.var(0.0), g.var(3.0));
    let y = x.pow(0.5) * 0.0 + z * 2.0;
    y.backward();
    assert_ieee(x.grad(), NAN, "x");
    assert_ieee(z.grad(), 2.0, "z");
}

/// NaN propagates through a long chain of ops, values and gradients alike, without a panic.
#[test]
fn nan_propagates_through_every_op() {
    let g = Graph::new();
    let x = g.var(-1.0);
    let mut y = x.ln(); // NaN
    y = (y * 2.0 + 1.0 - 3.0) / 4.0;
    y = y
        .exp()
        .tanh()
        .sigmoid()
        .relu()
        .pow(2.0)
        .pow_var(g.constant(1.5));
    y = y
        .sin()
        .cos()
        .sqrt()
        .abs()
        .log1p()
        .softplus()
        .max(g.constant(0.0))
        .min(g.constant(1.0));
    y = -g.sum(&[y, x]) + g.dot(&[y], &[x]);
    y.backward();
    assert!(y.value().is_nan());
    assert!(x.grad().is_nan());
}

// ---- anomaly mode --------------------------------------------------------------------------

/// Runs `f` with anomaly mode on and returns its panic message.
fn anomaly_message(f: impl FnOnce(&Graph)) -> String {
    let g = Graph::new();
    g.detect_anomaly(true);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&g)));
    let payload = r.expect_err("anomaly mode should have panicked");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().unwrap_or(&"").to_string(),
    }
}

#[test]
fn anomaly_forward_names_op_inputs_and_call_site() {
    let line = line!() + 2;
    let msg = anomaly_message(|g| {
        let _ = g.var(0.0).ln();
    });
    assert!(
        msg.starts_with("scalargrad anomaly: `ln` of finite inputs [0.0] gave -inf"),
        "{msg}"
    );
    assert!(msg.contains(&format!("tests/ieee.rs:{line}")), "{msg}");

    let msg = anomaly_message(|g| {
        let _ = g.var(1.0) / 0.0;
    });
    assert!(
        msg.contains("`/` of finite inputs [1.0, 0.0] gave inf"),
        "{msg}"
    );
    let msg = anomaly_message(|g| {
        let _ = g.var(710.0).exp();
    });
    assert!(
        msg.contains("`exp` of finite inputs [710.0] gave inf"),
        "{msg}"
    );
    let msg = anomaly_message(|g| {
        let _ = g.var(-8.0).pow(1.0 / 3.0);
    });
    assert!(
        msg.contains("`pow` of finite inputs [-8.0] gave NaN"),
        "{msg}"
    );
    let msg = anomaly_message(|g| {
        let _ = g.var(-2.0).pow_var(g.var(0.5));
    });
    assert!(
        msg.contains("`pow` of finite inputs [-2.0, 0.5] gave NaN"),
        "{msg}"
    );
    let msg = anomaly_message(|g| {
        let _ = g.var(-1.0).ln();
    });
    assert!(
        msg.contains("`ln` of finite inputs [-1.0] gave NaN"),
        "{msg}"
    );
    let msg = anomaly_message(|g| {
        let _ = g.sum(&[g.var(f64::MAX), g.var(f64::MAX)]);
    });
    assert!(msg.contains("`sum` of finite inputs"), "{msg}");
    assert!(msg.contains("gave inf"), "{msg}");
}

#[test]
fn anomaly_rejects_non_finite_leaves() {
    let line = line!() + 2;
    let msg = anomaly_message(|g| {
        let _ = g.var(NAN);
    });
    assert!(
        msg.starts_with("scalargrad anomaly: a leaf was created with the non-finite value NaN"),
        "{msg}"
    );
    assert!(msg.contains(&format!("tests/ieee.rs:{line}")), "{msg}");
    let msg = anomaly_message(|g| {
        let _ = g.var(1.0) * INF;
    }); // the constant ∞ is the leaf
    assert!(msg.contains("non-finite value inf"), "{msg}");
}

/// A parameter set to NaN by an optimizer step would otherwise slip through: every later op
/// has a non-finite input, so no op turns finite inputs into a NaN (this was a gap).
#[test]
fn anomaly_rejects_non_finite_set_value() {
    let line = line!() + 4;
    let msg = anomaly_message(|g| {
        let w = g.var(1.0);
        let _ = w * 2.0;
        w.set_value(NAN);
    });
    assert!(
        msg.starts_with("scalargrad anomaly: set_value gave a leaf the non-finite value NaN"),
        "{msg}"
    );
    assert!(msg.contains(&format!("tests/ieee.rs:{line}")), "{msg}");
    // off, it is allowed and propagates on recompute
    let g = Graph::new();
    let w = g.var(1.0);
    let y = w * 2.0;
    w.set_value(INF);
    g.recompute();
    assert_eq!(y.value(), INF);
}

#[test]
fn anomaly_backward_names_op_inputs_and_call_site() {
    // forward values are all finite (0 and 0); backward computes 0 · ∞ in pow's rule
    let line = line!() + 4;
    let msg = anomaly_message(|g| {
        let x = g.var(0.0);
        let y = x.pow(0.5) * 0.0;
        y.backward();
    });
    assert!(
        msg.starts_with("scalargrad anomaly: the reverse pass through `pow`"),
        "{msg}"
    );
    assert!(msg.contains("inputs [0.0], value 0"), "{msg}");
    assert!(
        msg.contains("turned the finite gradient 0 into a non-finite one"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("backward called at tests/ieee.rs:{line}")),
        "{msg}"
    );
}

/// Two finite gradient shares whose sum overflows: flagged where the sum happens (this was a
/// gap: only each share was checked).
#[test]
fn anomaly_backward_catches_overflow_in_accumulation() {
    let msg = anomaly_message(|g| {
        let x = g.var(1e-300);
        let y = x * f64::MAX + x * f64::MAX; // each share f64::MAX, their sum ∞
        y.backward();
    });
    assert!(
        msg.contains("the reverse pass through `*`") && msg.contains("into a non-finite one"),
        "{msg}"
    );
    // without anomaly mode the same graph yields ∞ quietly, which check_finite reports
    let g = Graph::new();
    let x = g.var(1e-300);
    (x * f64::MAX + x * f64::MAX).backward();
    assert_eq!(x.grad(), INF);
    assert_eq!(g.check_finite().unwrap_err().position, 0);
}

#[test]
fn anomaly_off_propagates_and_on_changes_no_number() {
    let build = |g: &Graph| {
        let x = g.var(0.3);
        let w = g.var(-1.7);
        let y = (x * w).tanh().pow(2.0) + (x / w).exp().ln() + x.sigmoid();
        y.backward();
        (y.value(), x.grad(), w.grad())
    };
    let off = Graph::new();
    let on = Graph::new();
    on.detect_anomaly(true);
    assert!(on.is_detecting_anomaly() && !off.is_detecting_anomaly());
    let (a, b) = (build(&off), build(&on));
    assert_eq!(
        (a.0.to_bits(), a.1.to_bits(), a.2.to_bits()),
        (b.0.to_bits(), b.1.to_bits(), b.2.to_bits())
    );

    // switched off again: NaN flows quietly
    on.detect_anomaly(false);
    let bad = on.var(-1.0).ln();
    bad.backward();
    assert!(bad.value().is_nan());
}

// ---- check_finite --------------------------------------------------------------------------

#[test]
fn check_finite_names_the_oldest_bad_node() {
    let g = Graph::new();
    let x = g.var(-2.5);
    let y = x * 2.0;
    (y * y).backward();
    assert_eq!(g.check_finite(), Ok(()));
    let _ln = x.ln(); // NaN, position 4
    let _div = x / 0.0; // -inf, later
    let err = g.check_finite().unwrap_err();
    assert_eq!(
        (err.position, err.op.as_str(), err.inputs.clone()),
        (4, "ln", vec![-2.5])
    );
    assert!(err.value.is_nan());
    assert_eq!(err.grad, 0.0);
    assert_eq!(
        err.to_string(),
        "node 4 (`ln` of [-2.5]) has value NaN and gradient 0"
    );
}

#[test]
fn check_finite_sees_gradients_too() {
    let g = Graph::new();
    let x = g.var(0.0);
    let y = x.pow(0.5); // value 0, finite
    assert_eq!(g.check_finite(), Ok(()));
    y.backward(); // dy/dx = +inf
    let err = g.check_finite().unwrap_err();
    assert_eq!((err.position, err.op.as_str()), (0, "leaf"));
    assert_eq!((err.value, err.grad), (0.0, INF));
    g.zero_grad();
    assert_eq!(g.check_finite(), Ok(()));
}

// ---- properties over all doubles -----------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any double (normal, subnormal, ±0, ±∞, NaN), with the edge points weighted up.
    fn any_double() -> impl Strategy<Value = f64> {
        prop_oneof![
            3 => any::<f64>(),
            1 => prop::sample::select(vec![
                0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 710.0, -746.0, 5e-324, f64::MAX,
            ]),
        ]
    }

    /// Same as `expected` seen through accumulation into a zeroed `.grad()` (−0 → +0).
    fn grad_of(expected: f64) -> f64 {
        0.0 + expected
    }

    #[track_caller]
    fn same(actual: f64, expected: f64) -> bool {
        (actual.is_nan() && expected.is_nan()) || actual.to_bits() == expected.to_bits()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Every unary op: the value is the IEEE result of its formula on f64, and the
        /// gradient that of its derivative formula, for every double (never a panic).
        #[test]
        fn unary_ops_follow_their_f64_formulas(x in any_double(), k in any_double()) {
            let s = |x: f64| if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
            let relu = |x: f64| if x <= 0.0 { 0.0 } else { x };
            let sign = |x: f64| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else if x == 0.0 { 0.0 } else { NAN };
            let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
            let cases: [(&str, Unary, f64, f64); 13] = [
                ("sin", |v| v.sin(), x.sin(), x.cos()),
                ("cos", |v| v.cos(), x.cos(), -x.sin()),
                ("sqrt", |v| v.sqrt(), x.sqrt(), 1.0 / (x.sqrt() * 2.0)),
                ("abs", |v| v.abs(), x.abs(), sign(x)),
                ("log1p", |v| v.log1p(), x.ln_1p(), 1.0 / (x + 1.0)),
                ("softplus", |v| v.softplus(), softplus(x), s(x)),
                ("neg", |v| -v, -x, -1.0),
                ("exp", |v| v.exp(), x.exp(), x.exp()),
                ("ln", |v| v.ln(), x.ln(), 1.0 / x),
                ("tanh", |v| v.tanh(), x.tanh(), 1.0 - x.tanh() * x.tanh()),
                ("sigmoid", |v| v.sigmoid(), s(x), s(x) * (1.0 - s(x))),
                ("relu", |v| v.relu(), relu(x), if x > 0.0 { 1.0 } else { 0.0 }),
                ("x·x", |v| v * v, x * x, x + x),
            ];
            for (name, f, value, d) in cases {
                let g = Graph::new();
                let v = g.var(x);
                let y = f(v);
                y.backward();
                prop_assert!(same(y.value(), value), "{name}({x:?}) = {:?}, not {value:?}", y.value());
                prop_assert!(same(v.grad(), grad_of(d)), "{name}'({x:?}) = {:?}, not {d:?}", v.grad());
            }
            // pow with a constant exponent: k·x^(k−1), and 0 for k = 0
            let g = Graph::new();
            let v = g.var(x);
            let y = v.pow(k);
            y.backward();
            let d = if k == 0.0 { 0.0 } else { x.powf(k - 1.0) * k };
            prop_assert!(same(y.value(), x.powf(k)), "pow({x:?}, {k:?})");
            prop_assert!(same(v.grad(), grad_of(d)), "pow'({x:?}, {k:?}) = {:?}, not {d:?}", v.grad());
        }

        /// Every binary op, the same way; NaN in, NaN out (except where IEEE itself says
        /// otherwise: `pow(x, 0) = 1`, `pow(1, y) = 1`).
        #[test]
        fn binary_ops_follow_their_f64_formulas(a in any_double(), b in any_double()) {
            let pow_da = if a == 0.0 && b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
            let pow_db = if a == 0.0 && b >= 0.0 { 0.0 } else { a.powf(b) * a.ln() };
            let nan = a.is_nan() || b.is_nan();
            let (hi, lo) = if nan { (NAN, NAN) } else if a >= b { (a, b) } else { (b, a) };
            let lo = if nan { NAN } else if a <= b { a } else { lo };
            // ∂max/∂a: 1 if a wins, ½ on a tie, NaN if either is NaN; the same for min
            let share = |wins: bool, tie: bool| if nan { NAN } else if tie { 0.5 } else if wins { 1.0 } else { 0.0 };
            let cases: [(&str, Binary, f64, f64, f64); 7] = [
                ("max", |x, y| x.max(y), hi, share(a > b, a == b), share(b > a, a == b)),
                ("min", |x, y| x.min(y), lo, share(a < b, a == b), share(b < a, a == b)),
                ("+", |x, y| x + y, a + b, 1.0, 1.0),
                ("-", |x, y| x - y, a - b, 1.0, -1.0),
                ("*", |x, y| x * y, a * b, b, a),
                ("/", |x, y| x / y, a / b, 1.0 / b, -(a / b) / b),
                ("pow", |x, y| x.pow_var(y), a.powf(b), pow_da, pow_db),
            ];
            for (name, f, value, da, db) in cases {
                let g = Graph::new();
                let (va, vb) = (g.var(a), g.var(b));
                let y = f(va, vb);
                y.backward();
                prop_assert!(same(y.value(), value), "{a:?} {name} {b:?} = {:?}", y.value());
                prop_assert!(same(va.grad(), grad_of(da)), "{a:?} {name} {b:?}: ∂a = {:?}, not {da:?}", va.grad());
                prop_assert!(same(vb.grad(), grad_of(db)), "{a:?} {name} {b:?}: ∂b = {:?}, not {db:?}", vb.grad());
                if (a.is_nan() || b.is_nan()) && !(name == "pow" && (b == 0.0 || a == 1.0)) {
                    prop_assert!(y.value().is_nan(), "{a:?} {name} {b:?} lost a NaN");
                }
            }
        }
    }
}

#[test]
fn square_at_zero_infinity_and_nan() {
    // y = x·x, y' = 2x: the same bits as `x * x` and its two shares `x + x`
    unary_rows(
        "square",
        |x| x.square(),
        &[
            (0.0, 0.0, 0.0),
            (-0.0, 0.0, 0.0), // −0 accumulated
            (3.0, 9.0, 6.0),
            (-3.0, 9.0, -6.0),
            (1e200, INF, 2e200),
            (INF, INF, INF),
            (-INF, INF, -INF),
            (NAN, NAN, NAN),
        ],
    );
}

#[test]
fn clamp_at_its_bounds_infinity_and_nan() {
    // y = clamp(x, −1, 1), y' = 1 for −1 ≤ x ≤ 1 (bounds included, as PyTorch), else 0;
    // NaN stays NaN with derivative 0 (the mask is false)
    unary_rows(
        "clamp",
        |x| x.clamp(-1.0, 1.0),
        &[
            (0.5, 0.5, 1.0),
            (-1.0, -1.0, 1.0),
            (1.0, 1.0, 1.0),
            (1.5, 1.0, 0.0),
            (-2.0, -1.0, 0.0),
            (INF, 1.0, 0.0),
            (-INF, -1.0, 0.0),
            (-0.0, -0.0, 1.0),
            (NAN, NAN, 0.0),
        ],
    );
}

#[test]
fn detach_passes_values_and_stops_gradients() {
    unary_rows(
        "x·detach(x)",
        |x| x * x.detach(),
        &[
            (3.0, 9.0, 3.0),
            (INF, INF, INF),
            (NAN, NAN, NAN),
            (-0.0, 0.0, 0.0),
        ],
    );
}
