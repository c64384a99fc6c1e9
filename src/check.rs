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

/// The value of a graph function at `x`.
///
/// ```
/// let v = scalargrad::check::value(|_, x| x[0] * x[1], &[3.0, 4.0]);
/// assert_eq!(v, 12.0);
/// ```
pub fn value<F>(f: F, x: &[f64]) -> f64
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = x.iter().map(|&v| g.var(v)).collect();
    f(&g, &leaves).value()
}

/// The value and the engine's gradient of a graph function at `x` (one forward, one
/// backward pass).
///
/// ```
/// let (v, grad) = scalargrad::check::gradient(|_, x| x[0] * x[1], &[3.0, 4.0]);
/// assert_eq!((v, grad), (12.0, vec![4.0, 3.0]));
/// ```
pub fn gradient<F>(f: F, x: &[f64]) -> (f64, Vec<f64>)
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = x.iter().map(|&v| g.var(v)).collect();
    let y = f(&g, &leaves);
    y.backward();
    (y.value(), leaves.iter().map(|l| l.grad()).collect())
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
    /// Whether the error is within the allowance (NaN on either side fails, unless both are
    /// NaN).
    ///
    /// ```
    /// use scalargrad::check::InputCheck;
    /// let c = InputCheck { analytic: 1.0, numeric: 1.0 + 1e-9, error: 1e-9, allowed: 1e-6 };
    /// assert!(c.passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.error <= self.allowed || (self.analytic.is_nan() && self.numeric.is_nan())
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
        self.inputs.iter().all(InputCheck::passed)
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
        .map(|(&a, &n)| InputCheck {
            analytic: a,
            numeric: n,
            error: (a - n).abs(),
            allowed: tol.abs + tol.rel * a.abs().max(n.abs()),
        })
        .collect();
    let worst = worst_of(&inputs);
    GradCheck {
        value,
        inputs,
        worst,
        evaluations: 2 * x.len(),
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
pub fn gradgradcheck<F>(f: F, x: &[f64], tol: Tolerance) -> GradCheck
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let n = x.len();
    let (value, _, analytic) = crate::hessian::gradient_and_hessian(&f, x);
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
        .map(|k| {
            let (a, num) = (analytic[k / n][k % n], numeric[k / n][k % n]);
            InputCheck {
                analytic: a,
                numeric: num,
                error: (a - num).abs(),
                allowed: tol.abs + tol.rel * a.abs().max(num.abs()),
            }
        })
        .collect();
    let worst = worst_of(&inputs);
    GradCheck {
        value,
        inputs,
        worst,
        evaluations: 2 * n,
    }
}
