//! Assertions that return proptest's `TestCaseError`: engine against central differences
//! (first and second order), and a hand-written gradient against the engine.

use std::fmt;

use proptest::test_runner::TestCaseError;

use super::program::Program;
use crate::check::{self, compare_gradients, Agreement};
use crate::hessian::gradient_and_hessian;
use crate::{Graph, Var};

/// Finite-difference settings and the rule that decides whether the engine agrees.
///
/// For input `i` with `h = step·max(1, |xᵢ|)`, the central differences
/// `D(h) = (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h` and `D(2h)` are computed, and the reference is
/// their Richardson extrapolation `(4·D(h) − D(2h)) / 3`. Its error has two parts, both
/// estimated at the point itself rather than guessed:
///
/// - **truncation**: `D(h) − f′ ≈ c·h²`, so `|D(h) − D(2h)| / 3` estimates the error of
///   `D(h)` (and bounds the extrapolation's, which is `O(h⁴)`). Near a kink or pole, or
///   where higher derivatives are large, this grows by itself.
/// - **rounding**: each evaluation of `f` is off by about `ε·S` (`ε = 2.2e-16`, `S` the
///   magnitude of the values computed on the way: the largest register of a [`Program`]
///   times its length, or `|f|` for a plain graph function), and dividing by `2h` gives
///   `ε·S/h`.
///
/// A component passes when `|engine − reference| ≤ abs + rel·max(|engine|, |reference|) +
/// safety·(truncation + rounding)`. With the defaults (`step = 1e-5`, `safety = 8`,
/// `rel = 1e-6`, `abs = 1e-8`) a smooth, moderately scaled function gets an allowance near
/// `1e-6` relative, four orders of magnitude below a 1% error in a derivative, which fails.
/// `margin` is how far every op's arguments must stay from its kinks and poles for a
/// program's point to be tested at all (closer points are rejected, as `prop_assume!`
/// does); a point is rejected too when a step of its finite differences crosses a kink or
/// moves any register of the program by more than 1% of `1 + |v|` (there the step is not
/// small: an op like `sin` of a fast-moving register would alias).
///
/// Second order compares the engine's recorded Hessian ([`Graph::grad`] twice) with central
/// differences of the engine's first-order gradient (the `f64` reverse pass), with the same
/// rule: it checks that the recorded derivative rules agree with the ones the first-order
/// check validated.
///
/// ```
/// let fd = scalargrad::testing::FiniteDiff::default();
/// assert_eq!((fd.step, fd.abs, fd.rel, fd.safety, fd.margin), (1e-5, 1e-8, 1e-6, 8.0, 1e-3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiniteDiff {
    /// Relative step: input `i` moves by `step·max(1, |xᵢ|)` (and twice that).
    pub step: f64,
    /// Absolute error always accepted.
    pub abs: f64,
    /// Error accepted relative to the larger of the two values.
    pub rel: f64,
    /// Factor on the estimated truncation and rounding errors.
    pub safety: f64,
    /// Programs only: how far arguments must stay from kinks, poles and edges.
    pub margin: f64,
}

impl Default for FiniteDiff {
    fn default() -> Self {
        FiniteDiff {
            step: 1e-5,
            abs: 1e-8,
            rel: 1e-6,
            safety: 8.0,
            margin: 1e-3,
        }
    }
}

/// One compared component of an [`FdReport`].
///
/// ```
/// use scalargrad::testing::{gradient_report, FiniteDiff};
/// let r = gradient_report(|_, x| x[0] * x[0], &[3.0], &FiniteDiff::default());
/// let c = &r.components[0];
/// assert_eq!((c.name.as_str(), c.engine), ("d/dx[0]", 6.0));
/// assert!(c.passed() && c.error < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Which derivative: `d/dx[i]` or `d²/dx[i]dx[j]`.
    pub name: String,
    /// The engine's value.
    pub engine: f64,
    /// The finite-difference reference.
    pub numeric: f64,
    /// `|engine − numeric|`.
    pub error: f64,
    /// What [`FiniteDiff`] allows here.
    pub allowed: f64,
    /// The estimated truncation error of the difference.
    pub truncation: f64,
    /// The estimated rounding error of the difference.
    pub rounding: f64,
}

impl Component {
    /// Whether the error is within the allowance (NaN on both sides passes).
    ///
    /// ```
    /// use scalargrad::testing::Component;
    /// let c = Component { name: "d/dx[0]".into(), engine: 1.0, numeric: 1.01, error: 0.01,
    ///     allowed: 1e-6, truncation: 0.0, rounding: 0.0 };
    /// assert!(!c.passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.error <= self.allowed
            || (self.engine.is_nan() && self.numeric.is_nan())
            || (self.engine == self.numeric)
    }
}

/// The engine against finite differences at one point: every component, and a table
/// (`Display`) of those that fail.
///
/// ```
/// use scalargrad::testing::{gradient_report, FiniteDiff};
/// let r = gradient_report(|_, x| x[0].relu() * x[1], &[0.0, 2.0], &FiniteDiff::default());
/// assert!(!r.passed()); // relu's kink at 0: the engine says relu'(0) = 0, differences say 1
/// assert_eq!(r.failing()[0].name, "d/dx[0]");
/// assert!(r.to_string().contains("d/dx[0]"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FdReport {
    /// `"gradient"` or `"Hessian"`.
    pub what: &'static str,
    /// The point.
    pub x: Vec<f64>,
    /// Every component, in order (row-major for a Hessian).
    pub components: Vec<Component>,
    /// Evaluations spent on finite differences.
    pub evaluations: usize,
}

impl FdReport {
    /// Whether every component passed.
    ///
    /// ```
    /// use scalargrad::testing::{gradient_report, FiniteDiff};
    /// assert!(gradient_report(|_, x| x[0].tanh(), &[0.3], &FiniteDiff::default()).passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.components.iter().all(Component::passed)
    }

    /// The components that failed.
    ///
    /// ```
    /// use scalargrad::testing::{gradient_report, FiniteDiff};
    /// assert!(gradient_report(|_, x| x[0].exp(), &[1.0], &FiniteDiff::default()).failing().is_empty());
    /// ```
    pub fn failing(&self) -> Vec<&Component> {
        self.components.iter().filter(|c| !c.passed()).collect()
    }

    fn into_result(self) -> Result<(), TestCaseError> {
        if self.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(self.to_string()))
        }
    }
}

impl fmt::Display for FdReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failing = self.failing();
        writeln!(
            f,
            "{} {} at x = {:?}: {} of {} components disagree with central differences",
            self.what,
            if failing.is_empty() {
                "passed"
            } else {
                "FAILED"
            },
            self.x,
            failing.len(),
            self.components.len()
        )?;
        writeln!(
            f,
            "{:<16} {:>14} {:>14} {:>10} {:>10} {:>10} {:>10}  (allowed = abs + rel·max + safety·(trunc + round))",
            "component", "engine", "numeric", "|error|", "allowed", "trunc", "round"
        )?;
        let shown: Vec<&Component> = if failing.is_empty() || self.components.len() <= 8 {
            self.components.iter().collect()
        } else {
            failing
        };
        for c in shown {
            writeln!(
                f,
                "{:<16} {:>14.7e} {:>14.7e} {:>10.2e} {:>10.2e} {:>10.2e} {:>10.2e}  {}",
                c.name,
                c.engine,
                c.numeric,
                c.error,
                c.allowed,
                c.truncation,
                c.rounding,
                if c.passed() { "ok" } else { "WRONG" }
            )?;
        }
        Ok(())
    }
}

/// Central differences of a vector function `eval` at `x`: result `[i][j]` is the
/// derivative of output `j` along input `i`, with its truncation and rounding estimates.
/// `eval` returns `None` to abandon (the step left the smooth piece).
fn differences(
    x: &[f64],
    fd: &FiniteDiff,
    scale: f64,
    mut eval: impl FnMut(&[f64]) -> Option<Vec<f64>>,
) -> Option<Vec<Vec<(f64, f64, f64)>>> {
    let mut at = x.to_vec();
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let h = fd.step * x[i].abs().max(1.0);
        let mut side = |delta: f64| -> Option<(f64, Vec<f64>)> {
            at[i] = x[i] + delta;
            let actual = at[i] - x[i];
            let v = eval(&at);
            at[i] = x[i];
            Some((actual, v?))
        };
        let (hp, fp) = side(h)?;
        let (hm, fm) = side(-h)?;
        let (hp2, fp2) = side(2.0 * h)?;
        let (hm2, fm2) = side(-2.0 * h)?;
        let row = (0..fp.len())
            .map(|j| {
                let d1 = (fp[j] - fm[j]) / (hp - hm);
                let d2 = (fp2[j] - fm2[j]) / (hp2 - hm2);
                let numeric = (4.0 * d1 - d2) / 3.0;
                let truncation = (d1 - d2).abs() / 3.0;
                let magnitude = [fp[j], fm[j], fp2[j], fm2[j]]
                    .iter()
                    .fold(scale, |m, v| m.max(v.abs()));
                let rounding = f64::EPSILON * magnitude / h;
                (numeric, truncation, rounding)
            })
            .collect();
        out.push(row);
    }
    Some(out)
}

fn component(
    name: String,
    engine: f64,
    (numeric, truncation, rounding): (f64, f64, f64),
    fd: &FiniteDiff,
) -> Component {
    let error = (engine - numeric).abs();
    let allowed =
        fd.abs + fd.rel * engine.abs().max(numeric.abs()) + fd.safety * (truncation + rounding);
    Component {
        name,
        engine,
        numeric,
        error: if error.is_nan() { f64::INFINITY } else { error },
        allowed,
        truncation,
        rounding,
    }
}

fn gradient_components(
    x: &[f64],
    engine: &[f64],
    diffs: &[Vec<(f64, f64, f64)>],
    fd: &FiniteDiff,
) -> FdReport {
    FdReport {
        what: "gradient",
        x: x.to_vec(),
        components: (0..x.len())
            .map(|i| component(format!("d/dx[{i}]"), engine[i], diffs[i][0], fd))
            .collect(),
        evaluations: 4 * x.len(),
    }
}

fn hessian_components(
    x: &[f64],
    engine: &[Vec<f64>],
    diffs: &[Vec<(f64, f64, f64)>],
    fd: &FiniteDiff,
) -> FdReport {
    let n = x.len();
    let mut components = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            // row i of the engine's Hessian is ∇(∂f/∂xᵢ); the differences of the gradient
            // along input j give ∂(∂f/∂xᵢ)/∂xⱼ as diffs[j][i]
            components.push(component(
                format!("d²/dx[{i}]dx[{j}]"),
                engine[i][j],
                diffs[j][i],
                fd,
            ));
        }
    }
    FdReport {
        what: "Hessian",
        x: x.to_vec(),
        components,
        evaluations: 4 * n,
    }
}

/// The engine's gradient of a graph function against central differences of its values
/// (see [`FiniteDiff`]), as a report.
///
/// # Panics
/// If `f` panics.
///
/// ```
/// use scalargrad::testing::{gradient_report, FiniteDiff};
/// let r = gradient_report(|_, x| x[0].sigmoid() * x[1].ln(), &[0.4, 2.0], &FiniteDiff::default());
/// assert!(r.passed(), "{r}");
/// assert_eq!(r.evaluations, 8);
/// ```
pub fn gradient_report<F>(f: F, x: &[f64], fd: &FiniteDiff) -> FdReport
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let (value, engine) = check::gradient(&f, x);
    let diffs = differences(x, fd, value.abs(), |at| Some(vec![check::value(&f, at)]))
        .expect("plain differences never abandon");
    gradient_components(x, &engine, &diffs, fd)
}

/// The engine's recorded Hessian of a graph function against central differences of its
/// first-order gradient (see [`FiniteDiff`]), as a report.
///
/// ```
/// use scalargrad::testing::{hessian_report, FiniteDiff};
/// let r = hessian_report(|_, x| x[0].tanh() * x[1] * x[1], &[0.4, 2.0], &FiniteDiff::default());
/// assert!(r.passed(), "{r}");
/// assert_eq!(r.components.len(), 4);
/// ```
pub fn hessian_report<F>(f: F, x: &[f64], fd: &FiniteDiff) -> FdReport
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let (_, grad, engine) = gradient_and_hessian(&f, x);
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let diffs = differences(x, fd, scale, |at| Some(check::gradient(&f, at).1))
        .expect("plain differences never abandon");
    hessian_components(x, &engine, &diffs, fd)
}

fn reject_non_finite(value: f64, x: &[f64]) -> Result<(), TestCaseError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(TestCaseError::reject(format!(
            "the function is not finite at x = {x:?} ({value})"
        )))
    }
}

/// Asserts that the engine's gradient of a graph function matches central differences at
/// `x`; the error names every disagreeing component (see [`FdReport`]). A point where the
/// function is not finite is rejected (like `prop_assume!`).
///
/// # Errors
/// `TestCaseError::Fail` with the report's table, or `TestCaseError::Reject`.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::testing::{assert_gradient, finite, FiniteDiff};
/// proptest!(|(a in finite(-3.0, 3.0), b in finite(-3.0, 3.0))| {
///     assert_gradient(|_, x| (x[0] * x[1]).sigmoid() + x[1].exp(), &[a, b], &FiniteDiff::default())?;
/// });
/// ```
pub fn assert_gradient<F>(f: F, x: &[f64], fd: &FiniteDiff) -> Result<(), TestCaseError>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    reject_non_finite(check::value(&f, x), x)?;
    gradient_report(f, x, fd).into_result()
}

/// Asserts that the engine's recorded second derivatives of a graph function match central
/// differences of its gradient at `x` (see [`FiniteDiff`]).
///
/// # Errors
/// `TestCaseError::Fail` with the report's table, or `TestCaseError::Reject` where the
/// function is not finite.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::testing::{assert_hessian, finite, FiniteDiff};
/// proptest!(|(a in finite(-3.0, 3.0))| {
///     assert_hessian(|_, x| x[0].sigmoid() * x[0].tanh(), &[a], &FiniteDiff::default())?;
/// });
/// ```
pub fn assert_hessian<F>(f: F, x: &[f64], fd: &FiniteDiff) -> Result<(), TestCaseError>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    reject_non_finite(check::value(&f, x), x)?;
    hessian_report(f, x, fd).into_result()
}

/// Checks that `program` is safely smooth at `x` and returns the rounding scale.
fn smooth(program: &Program, x: &[f64], fd: &FiniteDiff) -> Result<f64, TestCaseError> {
    program
        .check_smooth(x, fd.margin)
        .map(|largest| largest * (program.len() + 1) as f64)
        .map_err(TestCaseError::reject)
}

/// Rejects a program's finite differences whose steps leave the smooth piece of `x`.
fn straddles(x: &[f64]) -> TestCaseError {
    TestCaseError::reject(format!(
        "a finite-difference step from x = {x:?} crosses a kink of the program, or moves a \
         register by more than 1% (the step is not small there)"
    ))
}

/// The engine's gradient of `program` (on a graph) against central differences of the
/// program evaluated on plain `f64`, independent of the engine. `Err` holds why the point
/// was not tested: too close to a kink, pole or edge (closer than `fd.margin`), not finite,
/// or a finite-difference step that crosses a kink.
///
/// # Errors
/// As above.
///
/// ```
/// use scalargrad::testing::{builtin_ops, program_gradient_report, FiniteDiff, Instr, Program};
/// let op = |name: &str| builtin_ops().into_iter().find(|op| op.name() == name).unwrap();
/// let p = Program::new(1, vec![Instr::new(op("sigmoid"), vec![0], 0.0)]);
/// let r = program_gradient_report(&p, &[0.5], &FiniteDiff::default()).unwrap();
/// assert!(r.passed(), "{r}");
/// ```
pub fn program_gradient_report(
    program: &Program,
    x: &[f64],
    fd: &FiniteDiff,
) -> Result<FdReport, TestCaseError> {
    let scale = smooth(program, x, fd)?;
    let base = program.branch(x);
    let (_, engine) = check::gradient(|g, v| program.on_graph(g, v), x);
    let diffs = differences(x, fd, scale, |at| {
        program.nearby(&base, at).map(|v| vec![v])
    })
    .ok_or_else(|| straddles(x))?;
    Ok(gradient_components(x, &engine, &diffs, fd))
}

/// The engine's recorded Hessian of `program` against central differences of its
/// first-order gradient; `Err` as in [`program_gradient_report`].
///
/// # Errors
/// As [`program_gradient_report`].
///
/// ```
/// use scalargrad::testing::{builtin_ops, program_hessian_report, FiniteDiff, Instr, Program};
/// let op = |name: &str| builtin_ops().into_iter().find(|op| op.name() == name).unwrap();
/// let p = Program::new(2, vec![Instr::new(op("pow_var"), vec![0, 1], 0.0)]);
/// let r = program_hessian_report(&p, &[0.5, 1.5], &FiniteDiff::default()).unwrap();
/// assert!(r.passed(), "{r}");
/// ```
pub fn program_hessian_report(
    program: &Program,
    x: &[f64],
    fd: &FiniteDiff,
) -> Result<FdReport, TestCaseError> {
    let scale = smooth(program, x, fd)?;
    let base = program.branch(x);
    let (_, grad, engine) = gradient_and_hessian(|g, v| program.on_graph(g, v), x);
    let scale = grad
        .iter()
        .fold(scale, |m, g| m.max(g.abs() * (program.len() + 1) as f64));
    let diffs = differences(x, fd, scale, |at| {
        program.nearby(&base, at)?;
        Some(check::gradient(|g, v| program.on_graph(g, v), at).1)
    })
    .ok_or_else(|| straddles(x))?;
    Ok(hessian_components(x, &engine, &diffs, fd))
}

/// Asserts that the engine's gradient of a random [`Program`] matches central differences
/// of its plain-`f64` evaluation at `x`. Points within `fd.margin` of a kink, pole or edge,
/// points where the program is not finite, and points whose finite-difference steps cross a
/// kink are rejected (like `prop_assume!`), so that only genuine disagreements fail.
///
/// # Errors
/// `TestCaseError::Fail` naming the disagreeing components, or `TestCaseError::Reject`.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::testing::{assert_program_gradient, builtin_ops, finite, programs, vectors, FiniteDiff};
/// proptest!(|(p in programs(&builtin_ops(), 3, 10), x in vectors(finite(-2.0, 2.0), 3))| {
///     assert_program_gradient(&p, &x, &FiniteDiff::default())?;
/// });
/// ```
pub fn assert_program_gradient(
    program: &Program,
    x: &[f64],
    fd: &FiniteDiff,
) -> Result<(), TestCaseError> {
    program_gradient_report(program, x, fd)?.into_result()
}

/// Asserts that the engine's recorded second derivatives of a [`Program`] match central
/// differences of its first-order gradient at `x`; rejections as in
/// [`assert_program_gradient`].
///
/// # Errors
/// `TestCaseError::Fail` naming the disagreeing components, or `TestCaseError::Reject`.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::testing::{assert_program_hessian, builtin_ops, finite, programs, vectors, FiniteDiff};
/// proptest!(ProptestConfig::with_cases(64), |(p in programs(&builtin_ops(), 2, 6), x in vectors(finite(-2.0, 2.0), 2))| {
///     assert_program_hessian(&p, &x, &FiniteDiff::default())?;
/// });
/// ```
pub fn assert_program_hessian(
    program: &Program,
    x: &[f64],
    fd: &FiniteDiff,
) -> Result<(), TestCaseError> {
    program_hessian_report(program, x, fd)?.into_result()
}

/// [`assert_program_gradient`], then [`assert_program_hessian`].
///
/// # Errors
/// The first failure or rejection.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::custom::Softplus;
/// use scalargrad::testing::{assert_program, builtin_ops, finite, programs_through, vectors, Domain, FiniteDiff, Op};
/// let softplus = Op::custom(Softplus, Domain::everywhere());
/// proptest!(ProptestConfig::with_cases(64), |(p in programs_through(&softplus, &builtin_ops(), 2, 5), x in vectors(finite(-2.0, 2.0), 2))| {
///     assert_program(&p, &x, &FiniteDiff::default())?;
/// });
/// ```
pub fn assert_program(program: &Program, x: &[f64], fd: &FiniteDiff) -> Result<(), TestCaseError> {
    assert_program_gradient(program, x, fd)?;
    assert_program_hessian(program, x, fd)
}

/// Asserts that a hand-written gradient `hand(x)` equals the engine's gradient of the graph
/// function `f` at `x`, component by component, within `agreement` (both are exact
/// formulas, so only rounding separates them: see [`Agreement`]). The error is the verdict
/// table of [`compare_gradients`] at this one point, naming the parameters (`names`, or
/// `x[i]` when empty) that disagree and by how much.
///
/// # Errors
/// `TestCaseError::Fail` when a component disagrees.
///
/// # Panics
/// As [`compare_gradients`]: mismatched lengths.
///
/// ```
/// use proptest::prelude::*;
/// use scalargrad::check::Agreement;
/// use scalargrad::testing::{assert_hand_gradient, finite};
/// // f = x·eʸ: ∇f = (eʸ, x·eʸ)
/// proptest!(|(a in finite(-2.0, 2.0), b in finite(-2.0, 2.0))| {
///     assert_hand_gradient(&["x", "y"], |p| vec![p[1].exp(), p[0] * p[1].exp()],
///         |_, p| p[0] * p[1].exp(), &[a, b], Agreement::default())?;
/// });
/// ```
pub fn assert_hand_gradient<H, F>(
    names: &[&str],
    hand: H,
    f: F,
    x: &[f64],
    agreement: Agreement,
) -> Result<(), TestCaseError>
where
    H: Fn(&[f64]) -> Vec<f64>,
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let report = compare_gradients(names, &[x.to_vec()], hand, f, agreement);
    if report.agrees() {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!("at the point {x:?}\n{report}")))
    }
}
