//! A *graph function*: any `Fn(&Graph, &[Var]) -> Var`, the form [`check`](crate::check)
//! and [`hessian`](crate::hessian) take, evaluated and differentiated on a fresh graph.

use crate::{Graph, Var};

/// Returns `f` unchanged, with the signature a graph function needs fixed: a closure kept in
/// a `let` before being passed to [`check::gradcheck`](crate::check::gradcheck) (or any
/// function here and in [`hessian`](crate::hessian)) otherwise gets a signature tied to one
/// graph's lifetime, and the call fails with "one type is more general than the other".
///
/// ```
/// use scalargrad::check::{gradcheck, gradgradcheck, graph_fn, Tolerance};
/// let f = graph_fn(|_, x| x[0].sin() * x[1]);
/// assert!(gradcheck(&f, &[0.3, 2.0], Tolerance::default()).passed());
/// assert!(gradgradcheck(&f, &[0.3, 2.0], Tolerance::default()).passed());
/// let h = scalargrad::hessian::hessian(&f, &[0.3, 2.0]);
/// assert_eq!(h[1][1], 0.0);
/// ```
pub fn graph_fn<F>(f: F) -> F
where
    F: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
{
    f
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
