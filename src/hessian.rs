//! Second-order tools built on [`Graph::grad`]: nth derivatives, Hessians, Hessian-vector
//! products, and the eigenvalues that read a Hessian's curvature.
//!
//! [`Graph::grad`] records a gradient as new nodes of the same graph, with the same ops and
//! the same derivative rules as the forward pass, so a gradient can be differentiated again:
//!
//! - [`derivatives`]: `f, f′, f″, …` of a one-input function, to any order.
//! - [`hessian`] (and [`gradient_and_hessian`]): one first-order recorded gradient, then one
//!   recorded gradient per row: `∂²f/∂xᵢ∂xⱼ`.
//! - [`hessian_vector_product`]: `H·v` without forming `H`, as the gradient of `∇f·v`: one
//!   first-order and one second-order recorded pass, whatever the number of inputs.
//! - [`numerical_hessian`]: the oracle, central differences of the engine's *first-order*
//!   gradients (the `f64` reverse pass), independent of the recorded second-order rules.
//! - [`symmetric_eigenvalues`]: a cyclic Jacobi eigenvalue routine for the small symmetric
//!   matrices Hessians are here.
//!
//! A *graph function* is any `Fn(&Graph, &[Var]) -> Var`, as in [`check`](crate::check): it
//! receives fresh leaves for its inputs and builds a scalar from them.
//!
//! # Cost
//! A recorded gradient holds one or two nodes per input of each op between the output and the
//! leaves (the local derivative and its product with the upstream gradient, plus constants
//! the rules need), and one `+` per extra use of a node. It is an ordinary graph, bigger than
//! the one it differentiates, and differentiating it again walks all of it. Measured on the
//! seed-000 network loss (a 2-2-2 sigmoid net with biases, 12 parameters, MSE, built with
//! fused `affine` nodes; the test `cost_of_second_order` in `tests/hessian.rs` pins these
//! counts):
//!
//! | pass | nodes recorded | × forward | × first order |
//! |---|---|---|---|
//! | forward (the loss) | 19 | 1 | |
//! | first-order gradient, all 12 parameters | 38 | 2.0 | 1 |
//! | second order: one Hessian row (gradient of one gradient entry) | 34 to 65 | 1.8 to 3.4 | 0.9 to 1.7 |
//! | second order: `H·v` (gradient of `∇f·v`, all 12 entries at once) | 117 | 6.2 | 3.1 |
//! | second order: the full Hessian, 12 rows | 604 | 32 | 16 |
//!
//! So one second-order gradient records about 3 times the nodes of the first-order one when
//! it differentiates the whole gradient (`H·v`), and about as many when it differentiates one
//! entry; [`gradient_and_hessian`] rewinds after each row, so at most one row's nodes are
//! alive at a time. Each further order roughly doubles again: [`derivatives`] of `σ(x)`
//! records 5, 10, 17 and 37 nodes for orders 1 to 4 (the graph holds 2, 7, 17, 34, 71).
//!
//! # Replay
//! Recorded gradients are ordinary nodes, so after [`Var::set_value`] on the leaves,
//! [`Graph::recompute`] re-evaluates a recorded gradient or Hessian at the new point without
//! recording anything (bit-for-bit what a fresh recording gives, for smooth ops). A rule that
//! branches on a value (relu's 0 or 1, `pow_var`'s exponent derivative at a zero base) is
//! decided when the gradient is recorded, not on replay.

use crate::graph_fn::gradient;
use crate::{Graph, Var};

/// `[f(x), f′(x), f″(x), …, f⁽ᵒʳᵈᵉʳ⁾(x)]` of a graph function of one input, each derivative
/// the recorded gradient of the one before.
///
/// Each order records a gradient of the whole graph before it, so the graph grows by a
/// roughly constant factor per order (see the [module docs](self)): fine for the first
/// handful of orders.
///
/// ```
/// // d/dx x⁵ = 5x⁴, 20x³, 60x², 120x, 120, 0
/// let d = scalargrad::hessian::derivatives(|_, x| x[0].pow(5.0), 2.0, 6);
/// assert_eq!(d, [32.0, 80.0, 160.0, 240.0, 240.0, 120.0, 0.0]);
/// ```
pub fn derivatives<F>(f: F, x: f64, order: usize) -> Vec<f64>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let g = Graph::new();
    let x = g.var(x);
    let mut d = f(&g, &[x]);
    let mut out = Vec::with_capacity(order + 1);
    out.push(d.value());
    for _ in 0..order {
        d = g.grad(d, &[x])[0];
        out.push(d.value());
    }
    out
}

/// The value, the gradient and the Hessian `H[i][j] = ∂²f/∂xᵢ∂xⱼ` of a graph function at `x`.
///
/// Records the gradient once, then for each `i` the gradient of `∂f/∂xᵢ` (row `i`), rewinding
/// the graph after each row. Row `i` and column `i` come from different recorded passes, so
/// the matrix is symmetric only up to rounding: it is returned as computed, not symmetrised.
///
/// ```
/// use scalargrad::hessian::gradient_and_hessian;
/// // f = x²y: ∇f = (2xy, x²), H = [[2y, 2x], [2x, 0]]
/// let (f, grad, h) = gradient_and_hessian(|_, x| x[0] * x[0] * x[1], &[3.0, 2.0]);
/// assert_eq!((f, grad), (18.0, vec![12.0, 9.0]));
/// assert_eq!(h, [[4.0, 6.0], [6.0, 0.0]]);
/// ```
pub fn gradient_and_hessian<F>(f: F, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>)
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = x.iter().map(|&v| g.var(v)).collect();
    let y = f(&g, &leaves);
    let grad = g.grad(y, &leaves);
    let mark = g.mark();
    let rows = grad
        .iter()
        .map(|&d| {
            let row = g.grad(d, &leaves).iter().map(|v| v.value()).collect();
            g.rewind(mark);
            row
        })
        .collect();
    (y.value(), grad.iter().map(|d| d.value()).collect(), rows)
}

/// The Hessian `H[i][j] = ∂²f/∂xᵢ∂xⱼ` of a graph function at `x`: see
/// [`gradient_and_hessian`], which also returns the value and the gradient.
///
/// ```
/// // Rosenbrock at its minimum (1, 1): [[802, −400], [−400, 200]]
/// let h = scalargrad::hessian::hessian(
///     |_, x| (1.0 - x[0]).pow(2.0) + 100.0 * (x[1] - x[0].pow(2.0)).pow(2.0),
///     &[1.0, 1.0],
/// );
/// assert_eq!(h, [[802.0, -400.0], [-400.0, 200.0]]);
/// ```
pub fn hessian<F>(f: F, x: &[f64]) -> Vec<Vec<f64>>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    gradient_and_hessian(f, x).2
}

/// The Hessian-vector product `H·v` at `x`, without forming `H`: the recorded gradient of
/// `∇f(x)·v` (with `v` as constants). One first-order and one second-order pass, whatever
/// the number of inputs; [`hessian`] needs one second-order pass per input.
///
/// # Panics
/// If `x` and `v` have different lengths.
///
/// ```
/// use scalargrad::hessian::hessian_vector_product;
/// // f = x²y: H = [[2y, 2x], [2x, 0]] = [[4, 6], [6, 0]] at (3, 2)
/// let hv = hessian_vector_product(|_, x| x[0] * x[0] * x[1], &[3.0, 2.0], &[1.0, -1.0]);
/// assert_eq!(hv, [4.0 - 6.0, 6.0]);
/// ```
pub fn hessian_vector_product<F>(f: F, x: &[f64], v: &[f64]) -> Vec<f64>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    assert_eq!(
        x.len(),
        v.len(),
        "scalargrad: hessian_vector_product needs a vector v with one entry per input ({} \
         inputs, {} entries in v)",
        x.len(),
        v.len()
    );
    if x.is_empty() {
        return Vec::new();
    }
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = x.iter().map(|&a| g.var(a)).collect();
    let y = f(&g, &leaves);
    let grad = g.grad(y, &leaves);
    let v: Vec<Var<'_>> = v.iter().map(|&a| g.constant(a)).collect();
    let directional = g.dot(&grad, &v);
    g.grad(directional, &leaves)
        .iter()
        .map(|d| d.value())
        .collect()
}

/// The Hessian by central differences of the engine's first-order gradients (the `f64`
/// reverse pass of [`check::gradient`](crate::check::gradient)), an oracle independent of
/// the recorded second-order rules: column `j` is `(∇f(x + h·eⱼ) − ∇f(x − h·eⱼ)) / 2h` with
/// `h = step · max(1, |xⱼ|)`. Costs `2·len(x)` forward and backward passes.
///
/// Truncation error is about `h²·|∂⁴f|/6`, rounding about `ε·|∇f|/h`: with `step = 1e-5`
/// both are near 1e-10 for derivatives of order 1.
///
/// ```
/// use scalargrad::hessian::numerical_hessian;
/// let h = numerical_hessian(|_, x| x[0] * x[0] * x[1], &[3.0, 2.0], 1e-5);
/// assert!((h[0][1] - 6.0).abs() < 1e-8 && (h[1][1] - 0.0).abs() < 1e-8);
/// ```
pub fn numerical_hessian<F>(f: F, x: &[f64], step: f64) -> Vec<Vec<f64>>
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    let mut at = x.to_vec();
    for j in 0..n {
        let dx = step * x[j].abs().max(1.0);
        at[j] = x[j] + dx;
        let up = gradient(&f, &at).1;
        at[j] = x[j] - dx;
        let down = gradient(&f, &at).1;
        at[j] = x[j];
        for i in 0..n {
            h[i][j] = (up[i] - down[i]) / (2.0 * dx);
        }
    }
    h
}

/// The eigenvalues of a small symmetric matrix, ascending, by the cyclic Jacobi method.
///
/// The matrix is read as symmetric: entry `(i, j)` is taken as the mean of `a[i][j]` and
/// `a[j][i]` (a computed Hessian is symmetric only up to rounding). Each sweep rotates every
/// off-diagonal entry to zero in turn; sweeps stop once the off-diagonal part is below
/// `1e-15` of the matrix's norm (usually 6 to 10 sweeps), or after 100. `O(n³)` per sweep:
/// meant for Hessians of tens of inputs, not thousands. The matrix is scaled by a power of
/// two first (exactly), so entries near the ends of the `f64` range neither overflow nor
/// underflow: `[[1e308, 1e308], [1e308, −1e308]]` gives `±√2·1e308`.
///
/// # Panics
/// If the matrix is not square.
///
/// ```
/// use scalargrad::hessian::symmetric_eigenvalues;
/// // [[2, 1], [1, 2]] has eigenvalues 1 and 3
/// let e = symmetric_eigenvalues(&[vec![2.0, 1.0], vec![1.0, 2.0]]);
/// assert!((e[0] - 1.0).abs() < 1e-15 && (e[1] - 3.0).abs() < 1e-15);
/// let big = symmetric_eigenvalues(&[vec![1e308, 1e308], vec![1e308, -1e308]]);
/// assert!((big[1] / 1e308 - 2f64.sqrt()).abs() < 1e-15 && big[0] == -big[1]);
/// ```
pub fn symmetric_eigenvalues(a: &[Vec<f64>]) -> Vec<f64> {
    let n = a.len();
    assert!(
        a.iter().all(|row| row.len() == n),
        "scalargrad: symmetric_eigenvalues needs a square matrix ({n} rows, row lengths {:?})",
        a.iter().map(Vec::len).collect::<Vec<_>>()
    );
    // Divide by a power of two near the largest entry (exact), so that neither the sums
    // below (entries near 1e308) nor their squares (near 1e154) overflow, and multiply the
    // eigenvalues back at the end.
    let largest = a.iter().flatten().fold(0.0f64, |big, v| big.max(v.abs()));
    let scale = if largest > 0.0 && largest.is_finite() {
        2f64.powi((largest.log2().floor() as i32).clamp(-1000, 1000))
    } else {
        1.0
    };
    let mut m: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 0.5 * (a[i][j] / scale + a[j][i] / scale))
                .collect()
        })
        .collect();
    let norm = m.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
    let off = |m: &[Vec<f64>]| -> f64 {
        (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum::<f64>()
            .sqrt()
    };
    for _sweep in 0..100 {
        if off(&m) <= 1e-15 * norm {
            break;
        }
        crate::counts::count(crate::counts::Path::EigenSweeps, 1);
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q] == 0.0 {
                    continue;
                }
                // The rotation by angle φ in the (p, q) plane that zeroes m[p][q]:
                // cot 2φ = θ = (m_qq − m_pp) / 2m_pq, t = tan φ the smaller root of
                // t² + 2θt − 1 = 0, c = cos φ, s = sin φ.
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = if theta.is_infinite() {
                    0.0
                } else {
                    theta.signum() / (theta.abs() + theta.hypot(1.0))
                };
                let c = 1.0 / t.hypot(1.0);
                let s = t * c;
                // m ← Jᵀ m J: columns p and q, then rows p and q.
                for row in m.iter_mut() {
                    let (xp, xq) = (row[p], row[q]);
                    row[p] = c * xp - s * xq;
                    row[q] = s * xp + c * xq;
                }
                let (above, below) = m.split_at_mut(q);
                for (xp, xq) in above[p].iter_mut().zip(below[0].iter_mut()) {
                    (*xp, *xq) = (c * *xp - s * *xq, s * *xp + c * *xq);
                }
                m[p][q] = 0.0;
                m[q][p] = 0.0;
            }
        }
    }
    let mut e: Vec<f64> = (0..n).map(|i| m[i][i] * scale).collect();
    e.sort_by(f64::total_cmp);
    e
}
