//! Hessians and Hessian-vector products against closed forms and against central differences
//! of first-order gradients; symmetry as a property test; the Jacobi eigenvalue routine
//! against known spectra; the curvature of the seed-000 network at its trained minimum; and
//! the measured node cost of second-order gradients.
//!
//! # Tolerances
//! Closed forms: the engine evaluates exact formulas, so 1e-12 relative. Finite differences
//! (`numerical_hessian`, step `h = 1e-5·max(1, |x|)`): truncation ≈ h²|∂⁴f|/6 and rounding
//! ≈ ε|∇f|/h ≈ 2e-11·|∇f|, both ≲ 1e-9 for the functions here; we accept
//! `1e-6 + 1e-6·|H|`, three orders above that and far below any wrong factor or sign.

// Matrices are indexed as in the maths (H[i][j] against H[j][i]), not iterated.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use scalargrad::check::gradient;
use scalargrad::custom::Softplus;
use scalargrad::hessian::{
    gradient_and_hessian, hessian, hessian_vector_product, numerical_hessian, symmetric_eigenvalues,
};
use scalargrad::{Graph, Var};

#[track_caller]
fn assert_matrix_close(a: &[Vec<f64>], b: &[Vec<f64>], abs: f64, rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: sizes");
    for i in 0..a.len() {
        for j in 0..a.len() {
            let (x, y) = (a[i][j], b[i][j]);
            let tol = abs + rel * x.abs().max(y.abs());
            assert!(
                (x - y).abs() <= tol,
                "{what}: [{i}][{j}] {x} vs {y} (diff {:e}, tol {tol:e})",
                (x - y).abs()
            );
        }
    }
}

fn rosenbrock<'g>(_: &'g Graph, x: &[Var<'g>]) -> Var<'g> {
    (1.0 - x[0]).pow(2.0) + 100.0 * (x[1] - x[0].pow(2.0)).pow(2.0)
}

#[test]
fn rosenbrock_hessian_against_closed_form() {
    // H = [[2 − 400(y − x²) + 800x², −400x], [−400x, 200]]
    for &x in &[-1.2, -0.5, 0.0, 0.3, 1.0, 1.7] {
        for &y in &[-1.0, 0.0, 0.5, 1.0, 2.9] {
            let (f, grad, h) = gradient_and_hessian(rosenbrock, &[x, y]);
            let want_f = (1.0 - x) * (1.0 - x) + 100.0 * (y - x * x).powi(2);
            let want_grad = [
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ];
            let want_h = vec![
                vec![2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x],
                vec![-400.0 * x, 200.0],
            ];
            let what = format!("rosenbrock at ({x}, {y})");
            assert!((f - want_f).abs() <= 1e-12 * (1.0 + want_f.abs()), "{what}");
            for k in 0..2 {
                assert!((grad[k] - want_grad[k]).abs() <= 1e-12 * (1.0 + want_grad[k].abs()));
            }
            assert_matrix_close(&h, &want_h, 1e-12, 1e-12, &what);
        }
    }
}

#[test]
fn recorded_hessian_replays_with_recompute() {
    // the recorded gradient and Hessian are ordinary nodes: record them once, then move the
    // leaves and replay the whole graph (smooth ops only: a value-dependent branch such as
    // relu's derivative is taken at recording time)
    let g = Graph::new();
    let v = [g.var(-1.2), g.var(1.0)];
    let f = rosenbrock(&g, &v);
    let grad = g.grad(f, &v);
    let h: Vec<Vec<Var<'_>>> = grad.iter().map(|&d| g.grad(d, &v)).collect();
    for (x, y) in [(0.5, -0.3), (1.0, 1.0), (-2.0, 3.0)] {
        v[0].set_value(x);
        v[1].set_value(y);
        g.recompute();
        let want = [
            [2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x],
            [-400.0 * x, 200.0],
        ];
        let fresh = hessian(rosenbrock, &[x, y]);
        for i in 0..2 {
            for j in 0..2 {
                assert!((h[i][j].value() - want[i][j]).abs() <= 1e-12 * (1.0 + want[i][j].abs()));
                assert_eq!(h[i][j].value(), fresh[i][j]);
            }
        }
        assert_eq!(grad[1].value(), 200.0 * (y - x * x));
    }
}

#[test]
fn newton_on_rosenbrock_converges_in_six_full_steps() {
    // the numbers examples/newton.rs prints: pure Newton from (−1.2, 1) reaches |∇f| ≤ 1e-8
    // in 6 steps (gradient descent with lr 1e-3 takes 43,605)
    let mut x = [-1.2, 1.0];
    let mut steps = 0;
    loop {
        let (_, grad, h) = gradient_and_hessian(rosenbrock, &x);
        if grad[0].hypot(grad[1]) <= 1e-8 {
            break;
        }
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        x[0] -= (h[1][1] * grad[0] - h[0][1] * grad[1]) / det;
        x[1] -= (h[0][0] * grad[1] - h[1][0] * grad[0]) / det;
        steps += 1;
        assert!(steps < 50, "Newton did not converge: {x:?}");
    }
    assert_eq!(steps, 6);
    assert!(
        (x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-10,
        "{x:?}"
    );
}

#[test]
fn quadratic_form_hessian_is_its_matrix() {
    // f = ½ xᵀAx + bᵀx with A symmetric: H = A exactly, at any x
    let a = [[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 5.0]];
    for x in [[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [3.0, 0.1, -7.0]] {
        let h = hessian(
            |g, v| {
                let mut terms = Vec::new();
                for i in 0..3 {
                    for j in 0..3 {
                        terms.push(v[i] * v[j] * (0.5 * a[i][j]));
                    }
                    terms.push(v[i] * (i as f64 + 1.0));
                }
                g.sum(&terms)
            },
            &x,
        );
        let want: Vec<Vec<f64>> = a.iter().map(|r| r.to_vec()).collect();
        assert_matrix_close(&h, &want, 0.0, 1e-15, "quadratic form");
    }
}

/// A smooth function of four inputs touching every op kind.
fn mixed<'g>(g: &'g Graph, x: &[Var<'g>]) -> Var<'g> {
    let t = (x[0] * x[1]).tanh() + (x[2] - x[3]).sigmoid();
    let u = (x[0] * x[0] + 1.0).ln() * x[3] - x[1].exp() / (x[2] * x[2] + 2.0);
    let w = (x[3] * x[3] + 0.5).pow_var(x[0].tanh()) + (x[1] * x[1] + 1.0).pow(-1.5);
    let k = g.constant(0.3);
    let a = g
        .affine(k, &[x[0], x[1], x[2]], &[x[2], x[3], x[0]])
        .sigmoid();
    g.sum(&[t, u, w, a, -x[2].relu() * x[1]])
}

#[test]
fn hessian_against_finite_differences_of_gradients() {
    for x in [
        [0.3, -0.7, 1.2, 0.4],
        [-1.1, 0.2, -0.4, 1.5],
        [0.9, 1.3, 0.6, -0.8],
    ] {
        let h = hessian(mixed, &x);
        let fd = numerical_hessian(mixed, &x, 1e-5);
        assert_matrix_close(&h, &fd, 1e-6, 1e-6, &format!("mixed at {x:?}"));
    }
}

#[test]
fn hessian_vector_product_against_h_times_v_and_directional_differences() {
    let x = [0.3, -0.7, 1.2, 0.4];
    let h = hessian(mixed, &x);
    for v in [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.5, -1.0, 2.0, 0.25],
    ] {
        let hv = hessian_vector_product(mixed, &x, &v);
        // H·v from the full Hessian
        for i in 0..4 {
            let want: f64 = (0..4).map(|j| h[i][j] * v[j]).sum();
            assert!((hv[i] - want).abs() <= 1e-12 * (1.0 + want.abs()), "{hv:?}");
        }
        // (∇f(x + εv) − ∇f(x − εv)) / 2ε, from first-order gradients only
        let eps = 1e-5;
        let shifted = |s: f64| -> Vec<f64> {
            let at: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
            gradient(mixed, &at).1
        };
        let (up, down) = (shifted(eps), shifted(-eps));
        for i in 0..4 {
            let fd = (up[i] - down[i]) / (2.0 * eps);
            assert!(
                (hv[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{hv:?} vs fd {fd}"
            );
        }
    }
}

#[test]
#[should_panic(expected = "one entry per input")]
fn hessian_vector_product_checks_lengths() {
    hessian_vector_product(mixed, &[0.0; 4], &[1.0; 3]);
}

#[test]
fn jacobi_eigenvalues_of_known_matrices() {
    // tridiagonal [−1, 2, −1]: 2 − √2, 2, 2 + √2
    let t = vec![
        vec![2.0, -1.0, 0.0],
        vec![-1.0, 2.0, -1.0],
        vec![0.0, -1.0, 2.0],
    ];
    let e = symmetric_eigenvalues(&t);
    let want = [2.0 - 2f64.sqrt(), 2.0, 2.0 + 2f64.sqrt()];
    for k in 0..3 {
        assert!((e[k] - want[k]).abs() < 1e-14, "{e:?}");
    }
    // 2×2 closed form: (a + c)/2 ± √(((a − c)/2)² + b²)
    let (a, b, c) = (802.0, -400.0, 200.0);
    let e = symmetric_eigenvalues(&[vec![a, b], vec![b, c]]);
    let r = (((a - c) / 2.0f64).powi(2) + b * b).sqrt();
    assert!(
        (e[0] - ((a + c) / 2.0 - r)).abs() < 1e-12 && (e[1] - ((a + c) / 2.0 + r)).abs() < 1e-12
    );
    // diagonal, unsorted, with a repeated eigenvalue
    let d = symmetric_eigenvalues(&[
        vec![3.0, 0.0, 0.0],
        vec![0.0, -1.0, 0.0],
        vec![0.0, 0.0, 3.0],
    ]);
    assert_eq!(d, [-1.0, 3.0, 3.0]);
    // 12×12 with a known spectrum: the matrix of all ones (eigenvalues 0 ×11 and 12) plus kI
    let n = 12;
    let m: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 1.0 + if i == j { 0.5 } else { 0.0 })
                .collect()
        })
        .collect();
    let e = symmetric_eigenvalues(&m);
    assert!(e[..n - 1].iter().all(|&v| (v - 0.5).abs() < 1e-13), "{e:?}");
    assert!((e[n - 1] - 12.5).abs() < 1e-13);
    assert!(symmetric_eigenvalues(&[]).is_empty());
}

#[test]
#[should_panic(expected = "square matrix")]
fn jacobi_rejects_a_non_square_matrix() {
    symmetric_eigenvalues(&[vec![1.0, 2.0], vec![3.0]]);
}

// ---------------------------------------------------------------------------------------
// The seed-000 network: 2-2-2 sigmoid net with biases, MSE over 2 outputs.

/// Parameters in the order W1 (row-major: W1[0][0], W1[0][1], W1[1][0], W1[1][1]), b1,
/// W2 (row-major), b2.
const SEED_INIT: [f64; 12] = [0.1, 0.2, 0.3, 0.1, 0.1, 0.2, 0.4, 0.5, 0.1, 0.3, 0.3, 0.4];

/// a1 = x·W1 + b1, z1 = σ(a1), a2 = z1·W2 + b2, y = σ(a2), loss = mean((y − t)²).
fn seed_loss<'g>(g: &'g Graph, p: &[Var<'g>]) -> Var<'g> {
    let input = [g.constant(0.5), g.constant(0.8)];
    let target = [0.2, 0.1];
    let layer = |x: &[Var<'g>], w: &[Var<'g>], b: &[Var<'g>]| -> Vec<Var<'g>> {
        (0..2)
            .map(|j| g.affine(b[j], &[w[j], w[2 + j]], x).sigmoid())
            .collect()
    };
    let z1 = layer(&input, &p[0..4], &p[4..6]);
    let y = layer(&z1, &p[6..10], &p[10..12]);
    let e0 = y[0] - target[0];
    let e1 = y[1] - target[1];
    (e0 * e0 + e1 * e1) * 0.5
}

/// Gradient descent with exact gradients, lr 0.1; the loss after every step.
fn train_seed(steps: usize) -> (Vec<f64>, Vec<f64>) {
    let g = Graph::new();
    let p: Vec<Var<'_>> = SEED_INIT.iter().map(|&v| g.var(v)).collect();
    let mark = g.mark();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let loss = seed_loss(&g, &p);
        loss.backward();
        for w in &p {
            w.set_value(w.value() - 0.1 * w.grad());
        }
        g.zero_grad();
        g.rewind(mark);
        losses.push(g.scope(|| seed_loss(&g, &p).value()));
    }
    (p.iter().map(|w| w.value()).collect(), losses)
}

#[test]
fn seed_000_training_reproduces_the_printed_losses() {
    // the seed prints the loss after step i (i = 0, 150, …, 2850); it used central
    // differences with h = 1e-4 for the gradients, so agreement is to about 1e-6 relative
    let (_, losses) = train_seed(2851);
    for (i, printed) in [
        (0, 0.27812700471578844),
        (1500, 1.6406009640097618e-05),
        (2850, 2.330456372621908e-07),
    ] {
        let ours = losses[i];
        assert!(
            (ours - printed).abs() <= 1e-5 * printed,
            "step {i}: {ours} vs seed {printed}"
        );
    }
}

#[test]
fn seed_000_hessian_at_the_trained_minimum() {
    let (p, _) = train_seed(3000);
    let (loss, grad, h) = gradient_and_hessian(seed_loss, &p);
    assert!(loss < 2e-7, "{loss}");
    // 3000 steps of lr 0.1 get close to, not onto, the minimum: |∇| ≈ 5e-5
    assert!(grad.iter().all(|d| d.abs() < 1e-4), "{grad:?}");
    let fd = numerical_hessian(seed_loss, &p, 1e-5);
    assert_matrix_close(
        &h,
        &fd,
        1e-8,
        1e-6,
        "seed-000 Hessian vs finite differences",
    );
    for i in 0..12 {
        for j in 0..12 {
            assert!((h[i][j] - h[j][i]).abs() <= 1e-15 * (1.0 + h[i][j].abs()));
        }
    }
    // Two outputs fit by twelve parameters: zero loss holds on a 10-dimensional valley, so the
    // minimum is not isolated. Near it H = JᵀJ + Σₖ rₖ∇²yₖ (J the 2×12 output Jacobian scaled
    // by the MSE, rₖ the residuals): the Gauss-Newton part gives two clearly positive
    // eigenvalues, the residual part (rₖ ≈ 5e-4) a few of size 1e-5 with either sign, and six
    // directions are exactly flat (four reparametrise layer 1 without changing x·W1 + b1, two
    // trade W2 against b2).
    let e = symmetric_eigenvalues(&h);
    let trace: f64 = (0..12).map(|i| h[i][i]).sum();
    assert!((e.iter().sum::<f64>() - trace).abs() < 1e-12);
    assert!(
        (0.04..0.06).contains(&e[11]) && (0.01..0.02).contains(&e[10]),
        "{e:?}"
    );
    assert!(e[..10].iter().all(|v| v.abs() < 1e-4), "{e:?}");
    assert_eq!(e.iter().filter(|v| v.abs() < 1e-12).count(), 6, "{e:?}");
    assert!(
        e[0] < 0.0,
        "the residual term makes H slightly indefinite: {e:?}"
    );
}

#[test]
fn seed_000_loss_decays_at_the_rate_the_smallest_positive_curvature_predicts() {
    // Late in training, gradient descent shrinks the slowest stiff direction by (1 − lr·λ)
    // per step, so the loss (quadratic in it) by (1 − lr·λ)²: with λ₂ ≈ 0.0153 the loss
    // falls by e every ≈ 1/(2·lr·λ₂) ≈ 330 steps, which is what the seed's printout shows.
    let (p, losses) = train_seed(3000);
    let e = symmetric_eigenvalues(&hessian(seed_loss, &p));
    let per_step = (losses[2999] / losses[2499]).powf(1.0 / 500.0);
    let predicted = (1.0 - 0.1 * e[10]).powi(2);
    assert!(
        ((1.0 - per_step) / (1.0 - predicted) - 1.0).abs() < 0.05,
        "observed {per_step}, predicted {predicted}"
    );
}

// ---------------------------------------------------------------------------------------
// Cost: how many nodes the second-order passes record (the figures in src/hessian.rs).

#[test]
fn cost_of_second_order() {
    let g = Graph::new();
    let p: Vec<Var<'_>> = SEED_INIT.iter().map(|&v| g.var(v)).collect();
    let n0 = g.len();
    let loss = seed_loss(&g, &p);
    let forward = g.len() - n0;
    let before = g.len();
    let grad = g.grad(loss, &p);
    let first = g.len() - before;
    let (mark, base) = (g.mark(), g.len());
    let rows: Vec<usize> = grad
        .iter()
        .map(|&d| {
            g.grad(d, &p);
            let n = g.len() - base;
            g.rewind(mark);
            n
        })
        .collect();
    let v: Vec<Var<'_>> = (0..12).map(|i| g.constant(i as f64)).collect();
    let dir = g.dot(&grad, &v);
    let before = g.len();
    g.grad(dir, &p);
    let hvp = g.len() - before;
    let (lo, hi) = (rows.iter().min().unwrap(), rows.iter().max().unwrap());
    let total: usize = rows.iter().sum();
    println!(
        "forward {forward}, first {first}, rows {lo}..{hi} (total {total}), hvp {hvp}: {rows:?}"
    );
    // exact counts: a change in any derivative rule's node count shows up here (and the table
    // in src/hessian.rs needs the new figures)
    assert_eq!(
        (forward, first, *lo, *hi, total, hvp),
        (19, 38, 34, 65, 604, 117)
    );
}

#[test]
fn sigmoid_derivative_cost_per_order() {
    let g = Graph::new();
    let x = g.var(0.3);
    let mut d = x.sigmoid();
    let mut sizes = vec![g.len()];
    for _ in 0..4 {
        d = g.grad(d, &[x])[0];
        sizes.push(g.len());
    }
    assert_eq!(sizes, [2, 7, 17, 34, 71]);
}

// ---------------------------------------------------------------------------------------
// Symmetry as a property: random smooth programs over three inputs.

/// One step of a random program over a growing list of registers; every op's inputs are
/// first squashed into a domain where it is smooth and moderate.
#[derive(Clone, Debug)]
enum Step {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    /// `a / (1 + b²)`
    Div(usize, usize),
    Neg(usize),
    /// `(1 + a²)^k`
    Pow(usize, f64),
    /// `(1 + a²)^tanh(b)`
    PowVar(usize, usize),
    /// `exp(tanh a)`
    Exp(usize),
    /// `ln(1 + a²)`
    Ln(usize),
    Sigmoid(usize),
    Tanh(usize),
    Relu(usize),
    Softplus(usize),
    /// `sum` of three registers
    Sum(usize, usize, usize),
    /// `affine(a, [b, c], [c, d])`
    Affine(usize, usize, usize, usize),
}

fn step(regs: usize) -> impl Strategy<Value = Step> {
    let r = || 0..regs;
    prop_oneof![
        (r(), r()).prop_map(|(a, b)| Step::Add(a, b)),
        (r(), r()).prop_map(|(a, b)| Step::Sub(a, b)),
        (r(), r()).prop_map(|(a, b)| Step::Mul(a, b)),
        (r(), r()).prop_map(|(a, b)| Step::Div(a, b)),
        r().prop_map(Step::Neg),
        (r(), -2.0f64..2.0).prop_map(|(a, k)| Step::Pow(a, k)),
        (r(), r()).prop_map(|(a, b)| Step::PowVar(a, b)),
        r().prop_map(Step::Exp),
        r().prop_map(Step::Ln),
        r().prop_map(Step::Sigmoid),
        r().prop_map(Step::Tanh),
        r().prop_map(Step::Relu),
        r().prop_map(Step::Softplus),
        (r(), r(), r()).prop_map(|(a, b, c)| Step::Sum(a, b, c)),
        (r(), r(), r(), r()).prop_map(|(a, b, c, d)| Step::Affine(a, b, c, d)),
    ]
}

/// `len` steps; step `i` may read the inputs and every earlier step's result.
fn program(inputs: usize, len: usize) -> impl Strategy<Value = Vec<Step>> {
    (0..len)
        .map(|i| step(inputs + i).boxed())
        .collect::<Vec<_>>()
}

fn run<'g>(g: &'g Graph, x: &[Var<'g>], steps: &[Step]) -> Var<'g> {
    let mut r: Vec<Var<'g>> = x.to_vec();
    let softplus = g.custom(Softplus);
    let sq1 = |a: Var<'g>| a * a + 1.0;
    for s in steps {
        let v = match *s {
            Step::Add(a, b) => r[a] + r[b],
            Step::Sub(a, b) => r[a] - r[b],
            Step::Mul(a, b) => r[a] * r[b],
            Step::Div(a, b) => r[a] / sq1(r[b]),
            Step::Neg(a) => -r[a],
            Step::Pow(a, k) => sq1(r[a]).pow(k),
            Step::PowVar(a, b) => sq1(r[a]).pow_var(r[b].tanh()),
            Step::Exp(a) => r[a].tanh().exp(),
            Step::Ln(a) => sq1(r[a]).ln(),
            Step::Sigmoid(a) => r[a].sigmoid(),
            Step::Tanh(a) => r[a].tanh(),
            // away from the kink only, where finite differences would straddle the jump
            Step::Relu(a) if r[a].value().abs() < 1e-3 => r[a],
            Step::Relu(a) => r[a].relu(),
            Step::Softplus(a) => softplus.apply(r[a]),
            Step::Sum(a, b, c) => g.sum(&[r[a], r[b], r[c]]),
            Step::Affine(a, b, c, d) => g.affine(r[a], &[r[b], r[c]], &[r[c], r[d]]),
        };
        // keep values moderate so products of products stay well conditioned
        r.push(v.tanh() * 2.0);
    }
    *r.last().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn hessian_is_symmetric(x in prop::collection::vec(-2.0f64..2.0, 3), steps in program(3, 10)) {
        let h = hessian(|g, v| run(g, v, &steps), &x);
        let scale = h.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
        for i in 0..3 {
            for j in 0..i {
                prop_assert!(
                    (h[i][j] - h[j][i]).abs() <= 1e-12 * scale,
                    "H[{}][{}] = {} vs H[{}][{}] = {}", i, j, h[i][j], j, i, h[j][i]
                );
            }
        }
    }

    #[test]
    fn hessian_equals_finite_differences_of_gradients(
        x in prop::collection::vec(-2.0f64..2.0, 3),
        steps in program(3, 10),
    ) {
        let h = hessian(|g, v| run(g, v, &steps), &x);
        let fd = numerical_hessian(|g, v| run(g, v, &steps), &x, 1e-5);
        let scale = h.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
        for i in 0..3 {
            for j in 0..3 {
                prop_assert!(
                    (h[i][j] - fd[i][j]).abs() <= 1e-5 * scale,
                    "H[{}][{}] = {} vs finite differences {}", i, j, h[i][j], fd[i][j]
                );
            }
        }
    }

    #[test]
    fn hessian_vector_product_is_h_times_v(
        x in prop::collection::vec(-2.0f64..2.0, 3),
        v in prop::collection::vec(-1.0f64..1.0, 3),
        steps in program(3, 10),
    ) {
        let h = hessian(|g, a| run(g, a, &steps), &x);
        let hv = hessian_vector_product(|g, a| run(g, a, &steps), &x, &v);
        let scale = h.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
        for i in 0..3 {
            let want: f64 = (0..3).map(|j| h[i][j] * v[j]).sum();
            prop_assert!((hv[i] - want).abs() <= 1e-12 * scale, "{:?} vs H·v", hv);
        }
    }
}
