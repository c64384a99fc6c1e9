//! Checking derivatives: central-difference gradients, and a gradient check that compares the
//! engine against them and names the worst input.
//!
//! A *graph function* here is any `Fn(&Graph, &[Var]) -> Var`: it receives fresh leaves for
//! its inputs and builds a scalar output from them. The same function is evaluated by the
//! engine (one forward and one backward pass) and by finite differences (two forward passes
//! per input), so the two can be compared on exactly the same computation.
//!
//! # Tolerance
//! The central difference `(f(x+h) − f(x−h)) / 2h` has truncation error about
//! `h²·|f'''|/6` and rounding error about `ε·|f|/h` (ε = 2.2e-16). With the default step
//! `h = 1e-5·max(1, |xᵢ|)` both are near 1e-10 for values and third derivatives of order 1,
//! so [`Tolerance::default`] accepts `|analytic − numeric| ≤ 1e-6 + 1e-6·max(|analytic|,
//! |numeric|)`: four orders of magnitude above the expected error, and far below any real
//! derivative bug (a wrong factor or sign shows up at order 1).

use std::fmt;

pub use crate::graph_fn::{gradient, graph_fn, value};
use crate::{Graph, Var};

/// Step and acceptance thresholds for [`gradcheck`].
///
/// ```
/// let tol = scalargrad::check::Tolerance::default();
/// assert_eq!((tol.step, tol.abs, tol.rel), (1e-5, 1e-6, 1e-6));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative finite-difference step: input `i` moves by `step · max(1, |xᵢ|)`.
    pub step: f64,
    /// Absolute error always accepted.
    pub abs: f64,
    /// Error accepted relative to the larger of the two gradients.
    pub rel: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            step: 1e-5,
            abs: 1e-6,
            rel: 1e-6,
        }
    }
}

/// The central-difference gradient of a graph function at `x`: input `i` moves by
/// `h = step · max(1, |xᵢ|)` each way, `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`. Costs `2·len(x)`
/// evaluations of `f`.
///
/// ```
/// let d = scalargrad::check::numerical_gradient(|_, x| x[0].pow(3.0), &[2.0], 1e-5);
/// assert!((d[0] - 12.0).abs() < 1e-8);
/// ```
pub fn numerical_gradient<F>(f: F, x: &[f64], step: f64) -> Vec<f64>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let g = Graph::new();
    let mut at = x.to_vec();
    let eval = |at: &[f64]| {
        g.clear();
        let leaves: Vec<Var<'_>> = at.iter().map(|&v| g.var(v)).collect();
        f(&g, &leaves).value()
    };
    (0..x.len())
        .map(|i| {
            let h = step * x[i].abs().max(1.0);
            at[i] = x[i] + h;
            let up = eval(&at);
            at[i] = x[i] - h;
            let down = eval(&at);
            at[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// One input's comparison in a [`GradCheck`].
///
/// ```
/// use scalargrad::check::{gradcheck, Tolerance};
/// let report = gradcheck(|_, x| x[0] * x[0], &[3.0], Tolerance::default());
/// let input = report.inputs[0];
/// assert_eq!(input.analytic, 6.0);
/// assert!((input.numeric - 6.0).abs() < 1e-8 && input.passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputCheck {
    /// The engine's gradient.
    pub analytic: f64,
    /// The central-difference gradient.
    pub numeric: f64,
    /// `|analytic − numeric|`.
    pub error: f64,
    /// What the tolerance allows for this input.
    pub allowed: f64,
}

impl InputCheck {
    /// One engine value against its finite-difference value, with the allowance
    /// `tol.abs + tol.rel · max(|analytic|, |numeric|)` (shared by first and second order).
    fn compare(analytic: f64, numeric: f64, tol: Tolerance) -> Self {
        InputCheck {
            analytic,
            numeric,
            error: (analytic - numeric).abs(),
            allowed: tol.abs + tol.rel * analytic.abs().max(numeric.abs()),
        }
    }

    /// Whether the error is within the allowance. NaN on either side fails unless both are
    /// NaN, and an infinity passes only against the same infinity (its allowance, relative
    /// to an infinite value, would be infinite and let any number through).
    ///
    /// ```
    /// use scalargrad::check::InputCheck;
    /// let c = InputCheck { analytic: 1.0, numeric: 1.0 + 1e-9, error: 1e-9, allowed: 1e-6 };
    /// assert!(c.passed());
    /// let inf = InputCheck { analytic: f64::INFINITY, numeric: 5.0, error: f64::INFINITY, allowed: f64::INFINITY };
    /// assert!(!inf.passed());
    /// ```
    pub fn passed(&self) -> bool {
        not_finite_verdict(self.analytic, self.numeric).unwrap_or(self.error <= self.allowed)
    }
}

/// The outcome of [`gradcheck`]: every input's comparison, and the worst one.
///
/// ```
/// use scalargrad::check::{gradcheck, Tolerance};
/// let report = gradcheck(|_, x| x[0].relu() + x[1] * x[1], &[0.0, 1.0], Tolerance::default());
/// assert!(!report.passed());
/// assert_eq!(report.worst, 0); // the kink of relu at 0
/// assert!(report.to_string().contains("FAILED"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// The function's value at the checked point.
    pub value: f64,
    /// One entry per input, in order.
    pub inputs: Vec<InputCheck>,
    /// The input whose error is largest relative to its allowance.
    pub worst: usize,
    /// Graph evaluations spent on finite differences (`2·len(x)`).
    pub evaluations: usize,
    /// Why no comparison could be made, if none could: [`gradgradcheck`] reports the
    /// engine's refusal to record a derivative (a custom op's derivative lifted from a
    /// plain number, named in the message) here, with no entries; the check has failed.
    pub failure: Option<String>,
}

impl GradCheck {
    /// Whether every input passed.
    ///
    /// ```
    /// use scalargrad::check::{gradcheck, Tolerance};
    /// assert!(gradcheck(|_, x| x[0].sigmoid(), &[0.3], Tolerance::default()).passed());
    /// assert!(!gradcheck(|_, x| x[0].relu(), &[0.0], Tolerance::default()).passed()); // the kink
    /// ```
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.inputs.iter().all(InputCheck::passed)
    }
}

impl fmt::Display for GradCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        writeln!(
            f,
            "gradcheck {verdict}: {} inputs, {} evaluations",
            self.inputs.len(),
            self.evaluations
        )?;
        if let Some(failure) = &self.failure {
            writeln!(f, "{failure}")?;
        }
        if let Some(w) = self.inputs.get(self.worst) {
            writeln!(
                f,
                "worst input {}: analytic {:e}, numeric {:e}, error {:e} (allowed {:e})",
                self.worst, w.analytic, w.numeric, w.error, w.allowed
            )?;
        }
        Ok(())
    }
}

/// The verdict for two numbers of which one is not finite, shared by [`InputCheck::passed`]
/// and [`Agreement::allows`]: NaN agrees only with NaN, an infinity only with the same
/// infinity (an allowance relative to an infinite value would be infinite and let any number
/// through). `None` when both are finite: the allowance decides.
fn not_finite_verdict(a: f64, b: f64) -> Option<bool> {
    if a.is_nan() || b.is_nan() {
        Some(a.is_nan() && b.is_nan())
    } else if a.is_infinite() || b.is_infinite() {
        Some(a == b)
    } else {
        None
    }
}

/// The entry whose error is largest relative to its allowance (NaN counts as the worst).
fn worst_of(inputs: &[InputCheck]) -> usize {
    let badness = |c: &InputCheck| {
        let r = c.error / c.allowed;
        if r.is_nan() {
            f64::INFINITY
        } else {
            r
        }
    };
    (0..inputs.len())
        .max_by(|&i, &j| badness(&inputs[i]).total_cmp(&badness(&inputs[j])))
        .unwrap_or(0)
}

/// Compares the engine's gradient of a graph function with central differences at `x`.
///
/// ```
/// use scalargrad::check::{gradcheck, Tolerance};
/// let report = gradcheck(|_, x| (x[0] * x[1]).tanh() / x[1], &[0.7, -1.3], Tolerance::default());
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.evaluations, 4);
/// ```
pub fn gradcheck<F>(f: F, x: &[f64], tol: Tolerance) -> GradCheck
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let (value, analytic) = gradient(&f, x);
    let numeric = numerical_gradient(&f, x, tol.step);
    let inputs: Vec<InputCheck> = analytic
        .iter()
        .zip(&numeric)
        .map(|(&a, &n)| InputCheck::compare(a, n, tol))
        .collect();
    let worst = worst_of(&inputs);
    GradCheck {
        value,
        inputs,
        worst,
        evaluations: 2 * x.len(),
        failure: None,
    }
}

/// Second order: compares the engine's recorded second derivatives (the Hessian from
/// [`Graph::grad`] of [`Graph::grad`]) with central differences of the *recorded* first
/// gradient, as PyTorch's `gradgradcheck` does. [`gradcheck`] cannot see a derivative rule
/// that is right in value but cut off from the graph (a custom op whose derivative was lifted
/// from a plain number: its second derivative is 0); this check can.
///
/// The report has one entry per Hessian element, row-major: entry `i·n + j` compares
/// `∂²f/∂xᵢ∂xⱼ`; [`GradCheck::evaluations`] counts the `2n` recorded gradients.
///
/// ```
/// use scalargrad::check::{gradgradcheck, Tolerance};
/// // f = sin(x)·y²: H = [[−sin x·y², 2y cos x], [2y cos x, 2 sin x]]
/// let report = gradgradcheck(|_, x| x[0].sin() * x[1] * x[1], &[0.7, -1.3], Tolerance::default());
/// assert!(report.passed(), "{report}");
/// assert_eq!((report.inputs.len(), report.evaluations), (4, 4));
/// assert!((report.inputs[0].analytic + 0.7_f64.sin() * 1.69).abs() < 1e-15);
/// ```
///
/// A custom op whose derivative was lifted openly (a constant node that changes with the
/// input) makes [`Graph::grad`] panic; this check catches that panic and returns a failed
/// report whose [`failure`](GradCheck::failure) is the engine's message, naming the op
/// (the panic hook still prints the message as the panic happens). A panic of `f` itself
/// while computing the value is not caught.
pub fn gradgradcheck<F>(f: F, x: &[f64], tol: Tolerance) -> GradCheck
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let n = x.len();
    let hessian = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::hessian::gradient_and_hessian(&f, x)
    }));
    let (value, _, analytic) = match hessian {
        Ok(found) => found,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the recorded second-order gradient panicked");
            return GradCheck {
                value: value(&f, x),
                inputs: Vec::new(),
                worst: 0,
                evaluations: 0,
                failure: Some(message.to_owned()),
            };
        }
    };
    let g = Graph::new();
    let recorded_gradient = |at: &[f64]| -> Vec<f64> {
        g.clear();
        let leaves: Vec<Var<'_>> = at.iter().map(|&v| g.var(v)).collect();
        let y = f(&g, &leaves);
        g.grad(y, &leaves).iter().map(|d| d.value()).collect()
    };
    let mut numeric = vec![vec![0.0; n]; n];
    let mut at = x.to_vec();
    for j in 0..n {
        let h = tol.step * x[j].abs().max(1.0);
        at[j] = x[j] + h;
        let up = recorded_gradient(&at);
        at[j] = x[j] - h;
        let down = recorded_gradient(&at);
        at[j] = x[j];
        for i in 0..n {
            numeric[i][j] = (up[i] - down[i]) / (2.0 * h);
        }
    }
    let inputs: Vec<InputCheck> = (0..n * n)
        .map(|k| InputCheck::compare(analytic[k / n][k % n], numeric[k / n][k % n], tol))
        .collect();
    let worst = worst_of(&inputs);
    GradCheck {
        value,
        inputs,
        worst,
        evaluations: 2 * n,
        failure: None,
    }
}

// ---- Hand-derived gradients against the engine (seed 002's workflow) --------------------------
//
// A hand-derived gradient (one formula per parameter, as in a backpropagation tutorial) is
// compared with the engine's gradient of the same function at many points; the report is a
// per-parameter verdict table. Both sides are exact formulas, so no finite-difference error
// enters: the tolerance only has to absorb rounding (see [`Agreement`]).

/// How closely a hand-derived gradient must agree with the engine's: component `i` passes
/// when `|hand − engine| ≤ abs + rel·max(|hand|, |engine|)`.
///
/// Both sides are exact expressions evaluated in `f64`, so they differ only by rounding: a
/// few ulps per operation, i.e. a relative error of about `n·ε` for an `n`-operation formula
/// (`ε = 2.2e-16`), plus whatever cancellation amplifies. The default `rel = 1e-9` leaves six
/// orders of magnitude for that; `abs = 1e-12` covers components that should be 0 but come
/// out as rounding noise. A wrong formula (a `+` for a `·`, a wrong index) is off by O(1)
/// relative, or at least by far more than 1e-9.
///
/// ```
/// let tol = scalargrad::check::Agreement::default();
/// assert_eq!((tol.abs, tol.rel), (1e-12, 1e-9));
/// assert!(tol.allows(1.0, 1.0 + 1e-12));
/// assert!(!tol.allows(1.0, 1.01));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agreement {
    /// Absolute difference always accepted.
    pub abs: f64,
    /// Difference accepted relative to the larger magnitude of the two.
    pub rel: f64,
}

impl Default for Agreement {
    fn default() -> Self {
        Agreement {
            abs: 1e-12,
            rel: 1e-9,
        }
    }
}

impl Agreement {
    /// The difference allowed between `a` and `b`.
    ///
    /// ```
    /// let tol = scalargrad::check::Agreement { abs: 0.0, rel: 0.5 };
    /// assert_eq!(tol.allowed(2.0, -4.0), 2.0);
    /// ```
    pub fn allowed(&self, a: f64, b: f64) -> f64 {
        self.abs + self.rel * a.abs().max(b.abs())
    }

    /// Whether `a` and `b` agree; NaN agrees only with NaN, an infinity only with itself.
    ///
    /// ```
    /// let tol = scalargrad::check::Agreement::default();
    /// assert!(tol.allows(f64::NAN, f64::NAN));
    /// assert!(!tol.allows(1.0, f64::NAN));
    /// assert!(tol.allows(f64::INFINITY, f64::INFINITY));
    /// assert!(!tol.allows(f64::INFINITY, 1.0)); // not within an "infinite allowance"
    /// ```
    pub fn allows(&self, a: f64, b: f64) -> bool {
        not_finite_verdict(a, b).unwrap_or(a == b || (a - b).abs() <= self.allowed(a, b))
    }
}

/// One parameter's line of a [`GradientComparison`]: over all points, how often and by how
/// much the hand-derived component disagreed with the engine's.
///
/// ```
/// use scalargrad::check::{compare_gradients, Agreement};
/// let points = [vec![1.0], vec![2.0]];
/// let report = compare_gradients(&["x"], &points, |x| vec![2.0 * x[0]], |_, x| x[0] * x[0], Agreement::default());
/// let line = &report.parameters[0];
/// assert_eq!((line.name.as_str(), line.disagreeing, line.max_error), ("x", 0, 0.0));
/// assert!(line.agrees());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterVerdict {
    /// The parameter's name (`x[i]` when none was given).
    pub name: String,
    /// Points where the two disagreed beyond the [`Agreement`].
    pub disagreeing: usize,
    /// The largest `|hand − engine|` over all points (NaN if a NaN appeared on one side only).
    pub max_error: f64,
    /// The point (index into the points given) where the error was largest relative to what
    /// was allowed there (the first of them on a tie, as when every point agrees exactly).
    pub worst_point: usize,
    /// The hand-derived value at the worst point.
    pub hand: f64,
    /// The engine's value at the worst point.
    pub engine: f64,
}

impl ParameterVerdict {
    /// Whether the hand-derived component agreed at every point.
    ///
    /// ```
    /// use scalargrad::check::{compare_gradients, Agreement};
    /// let report = compare_gradients(&[], &[vec![3.0]], |x| vec![x[0]], |_, x| x[0] * x[0], Agreement::default());
    /// assert!(!report.parameters[0].agrees()); // d/dx x² is 2x, not x
    /// ```
    pub fn agrees(&self) -> bool {
        self.disagreeing == 0
    }
}

/// The outcome of [`compare_gradients`]: a verdict per parameter. `Display` prints it as a
/// table, one line per parameter.
///
/// ```
/// use scalargrad::check::{compare_gradients, Agreement};
/// let points: Vec<Vec<f64>> = (1..=10).map(|i| vec![i as f64, 0.5]).collect();
/// // f = x·y²: ∂f/∂x = y² (right), ∂f/∂y = x·y (wrong: should be 2xy)
/// let report = compare_gradients(
///     &["x", "y"],
///     &points,
///     |p| vec![p[1] * p[1], p[0] * p[1]],
///     |_, p| p[0] * p[1] * p[1],
///     Agreement::default(),
/// );
/// assert!(!report.agrees());
/// assert_eq!(report.disagreeing(), ["y"]);
/// assert_eq!(report.parameters[1].disagreeing, 10);
/// let table = report.to_string();
/// assert!(table.contains("WRONG") && table.contains("agrees"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradientComparison {
    /// How many points were compared.
    pub points: usize,
    /// One verdict per parameter, in order.
    pub parameters: Vec<ParameterVerdict>,
    /// The tolerance used.
    pub agreement: Agreement,
}

impl GradientComparison {
    /// Whether every parameter agreed at every point.
    ///
    /// ```
    /// use scalargrad::check::{compare_gradients, Agreement};
    /// let r = compare_gradients(&[], &[vec![0.3]], |x| vec![x[0].cos()], |_, x| x[0].tanh(), Agreement::default());
    /// assert!(!r.agrees());
    /// ```
    pub fn agrees(&self) -> bool {
        self.parameters.iter().all(ParameterVerdict::agrees)
    }

    /// The names of the parameters whose hand-derived component disagreed somewhere.
    ///
    /// ```
    /// use scalargrad::check::{compare_gradients, Agreement};
    /// let r = compare_gradients(&["a", "b"], &[vec![1.0, 2.0]], |_| vec![2.0, 0.0], |_, x| x[0] * x[1], Agreement::default());
    /// assert_eq!(r.disagreeing(), ["b"]);
    /// ```
    pub fn disagreeing(&self) -> Vec<&str> {
        self.parameters
            .iter()
            .filter(|p| !p.agrees())
            .map(|p| p.name.as_str())
            .collect()
    }
}

impl fmt::Display for GradientComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wrong = self.disagreeing().len();
        writeln!(
            f,
            "hand-derived gradient vs engine at {} point(s): {} of {} parameter(s) disagree \
             (allowed |hand - engine| <= {:e} + {:e}·max(|hand|, |engine|))",
            self.points,
            wrong,
            self.parameters.len(),
            self.agreement.abs,
            self.agreement.rel
        )?;
        let width = self
            .parameters
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("parameter".len());
        writeln!(
            f,
            "{:<width$}  {:>11}  {:>12}  {:>8}  {:>13}  {:>13}  verdict",
            "parameter", "disagree at", "max |error|", "worst at", "hand", "engine"
        )?;
        for p in &self.parameters {
            let verdict = if p.agrees() { "agrees" } else { "WRONG" };
            writeln!(
                f,
                "{:<width$}  {:>11}  {:>12.3e}  {:>8}  {:>13.6e}  {:>13.6e}  {verdict}",
                p.name,
                format!("{}/{}", p.disagreeing, self.points),
                p.max_error,
                format!("#{}", p.worst_point),
                p.hand,
                p.engine
            )?;
        }
        Ok(())
    }
}

/// Compares a hand-derived gradient `hand(x)` with the engine's gradient of the graph
/// function `f` at every point of `points`, parameter by parameter.
///
/// `names` labels the parameters (pass `&[]` for `x[0]`, `x[1]`, …). Each point costs one
/// forward and one backward pass of `f` and one call of `hand`.
///
/// # Panics
/// If `names` is not empty and its length differs from a point's, if the points differ in
/// length, or if `hand` returns a vector of another length: each with a sentence saying so.
///
/// ```
/// use scalargrad::check::{compare_gradients, Agreement};
/// // σ(w·x) with the hand formula σ'(wx)·x, at 100 points
/// let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
/// let points: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64 / 50.0 - 1.0, 0.7]).collect();
/// let report = compare_gradients(
///     &["w", "x"],
///     &points,
///     |p| {
///         let s = sigmoid(p[0] * p[1]);
///         vec![s * (1.0 - s) * p[1], s * (1.0 - s) * p[0]]
///     },
///     |_, p| (p[0] * p[1]).sigmoid(),
///     Agreement::default(),
/// );
/// assert!(report.agrees(), "{report}");
/// ```
pub fn compare_gradients<H, F>(
    names: &[&str],
    points: &[Vec<f64>],
    hand: H,
    f: F,
    agreement: Agreement,
) -> GradientComparison
where
    H: Fn(&[f64]) -> Vec<f64>,
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let n = points.first().map(Vec::len).unwrap_or_else(|| names.len());
    assert!(
        names.is_empty() || names.len() == n,
        "compare_gradients: {} names were given for points of {} parameters",
        names.len(),
        n
    );
    let mut parameters: Vec<ParameterVerdict> = (0..n)
        .map(|i| ParameterVerdict {
            name: names
                .get(i)
                .map_or_else(|| format!("x[{i}]"), |s| s.to_string()),
            disagreeing: 0,
            max_error: 0.0,
            worst_point: 0,
            hand: f64::NAN,
            engine: f64::NAN,
        })
        .collect();
    // how far past its allowance each parameter's worst point went
    let mut worst_ratio = vec![f64::NEG_INFINITY; n];
    for (k, x) in points.iter().enumerate() {
        assert_eq!(
            x.len(),
            n,
            "compare_gradients: point #{k} has {} values, the first point has {n}",
            x.len()
        );
        let h = hand(x);
        assert_eq!(
            h.len(),
            n,
            "compare_gradients: the hand-derived gradient at point #{k} has {} components for {n} parameters",
            h.len()
        );
        let (_, e) = gradient(&f, x);
        for i in 0..n {
            let p = &mut parameters[i];
            let error = (h[i] - e[i]).abs();
            let ok = agreement.allows(h[i], e[i]);
            if !ok {
                p.disagreeing += 1;
            }
            if error > p.max_error || (error.is_nan() && !ok) {
                p.max_error = error;
            }
            let ratio = if ok {
                error / agreement.allowed(h[i], e[i])
            } else if error.is_nan() || error.is_infinite() {
                f64::INFINITY
            } else {
                error / agreement.allowed(h[i], e[i])
            };
            let ratio = if ratio.is_nan() { 0.0 } else { ratio };
            if ratio > worst_ratio[i] {
                worst_ratio[i] = ratio;
                p.worst_point = k;
                p.hand = h[i];
                p.engine = e[i];
            }
        }
    }
    GradientComparison {
        points: points.len(),
        parameters,
        agreement,
    }
}
