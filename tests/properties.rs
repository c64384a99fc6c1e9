//! Property tests: for random inputs and random compositions of every op, the engine's
//! gradient equals the central-difference gradient; product, quotient and chain rules hold;
//! unused leaves stay at 0; recorded gradients (`Graph::grad`) equal `backward`'s.
//!
//! # Tolerance, and why
//! Central differences with step `h = 1e-6·max(1, |x|)` have truncation error ≈ h²|f'''|/6
//! and rounding error ≈ ε|f|/h ≈ 2e-10·|f|. Compositions here keep values within about
//! ±1e3 and derivatives of moderate size (each op's inputs are squashed into a
//! well-conditioned domain first), so both terms stay below ≈1e-7 in absolute terms; we
//! accept `|autograd − numeric| ≤ 1e-6 + 1e-5·max(|autograd|, |numeric|)`. A wrong rule (a
//! missing factor, a sign) is off by O(1) relative and fails by orders of magnitude.

use proptest::prelude::*;
use scalargrad::check::{gradcheck, Tolerance};
use scalargrad::custom::Softplus;
use scalargrad::{Graph, Var};

/// One step of a random program over a growing list of registers.
#[derive(Clone, Debug)]
enum Step {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    /// `a / (1 + b²)`: a divisor bounded away from 0.
    Div(usize, usize),
    Neg(usize),
    /// `(1 + a²)^k`: a base bounded away from 0.
    Pow(usize, f64),
    /// `(1 + a²)^tanh(b)`.
    PowVar(usize, usize),
    /// `exp(tanh a)`: no overflow.
    Exp(usize),
    /// `ln(1 + a²)`.
    Ln(usize),
    Sigmoid(usize),
    Tanh(usize),
    /// `relu(a)`, or `a` itself within 1e-3 of the kink (where the derivative jumps).
    Relu(usize),
    Softplus(usize),
    Sum(Vec<usize>),
    Affine(usize, Vec<(usize, usize)>),
    /// `a·c` for a constant `c`.
    Scale(usize, f64),
}

fn step(max_reg: usize) -> impl Strategy<Value = Step> {
    let r = 0..max_reg;
    prop_oneof![
        (r.clone(), r.clone()).prop_map(|(a, b)| Step::Add(a, b)),
        (r.clone(), r.clone()).prop_map(|(a, b)| Step::Sub(a, b)),
        (r.clone(), r.clone()).prop_map(|(a, b)| Step::Mul(a, b)),
        (r.clone(), r.clone()).prop_map(|(a, b)| Step::Div(a, b)),
        r.clone().prop_map(Step::Neg),
        (r.clone(), -2.5f64..2.5).prop_map(|(a, k)| Step::Pow(a, k)),
        (r.clone(), r.clone()).prop_map(|(a, b)| Step::PowVar(a, b)),
        r.clone().prop_map(Step::Exp),
        r.clone().prop_map(Step::Ln),
        r.clone().prop_map(Step::Sigmoid),
        r.clone().prop_map(Step::Tanh),
        r.clone().prop_map(Step::Relu),
        r.clone().prop_map(Step::Softplus),
        prop::collection::vec(r.clone(), 1..5).prop_map(Step::Sum),
        (
            r.clone(),
            prop::collection::vec((r.clone(), r.clone()), 0..4)
        )
            .prop_map(|(b, wx)| Step::Affine(b, wx)),
        (r, -3.0f64..3.0).prop_map(|(a, c)| Step::Scale(a, c)),
    ]
}

/// A random program: `inputs` leaves, then steps that may read any earlier register.
fn program(inputs: usize, len: usize) -> impl Strategy<Value = Vec<Step>> {
    // Registers are indexed modulo the number defined so far when the program runs.
    prop::collection::vec(step(inputs + len), 1..=len)
}

/// Runs a program on leaves `x`, returning the last register squashed to a moderate size.
fn run<'g>(g: &'g Graph, x: &[Var<'g>], steps: &[Step]) -> Var<'g> {
    let softplus = g.custom(Softplus);
    let mut regs: Vec<Var<'g>> = x.to_vec();
    for s in steps {
        let n = regs.len();
        let at = |i: usize| regs[i % n];
        let squared_plus_one = |v: Var<'g>| v * v + 1.0;
        let out = match s {
            Step::Add(a, b) => at(*a) + at(*b),
            Step::Sub(a, b) => at(*a) - at(*b),
            Step::Mul(a, b) => at(*a) * at(*b),
            Step::Div(a, b) => at(*a) / squared_plus_one(at(*b)),
            Step::Neg(a) => -at(*a),
            Step::Pow(a, k) => squared_plus_one(at(*a)).pow(*k),
            Step::PowVar(a, b) => squared_plus_one(at(*a)).pow_var(at(*b).tanh()),
            Step::Exp(a) => at(*a).tanh().exp(),
            Step::Ln(a) => squared_plus_one(at(*a)).ln(),
            Step::Sigmoid(a) => at(*a).sigmoid(),
            Step::Tanh(a) => at(*a).tanh(),
            Step::Relu(a) => {
                let v = at(*a);
                if v.value().abs() < 1e-3 {
                    v
                } else {
                    v.relu()
                }
            }
            Step::Softplus(a) => softplus.apply(at(*a)),
            Step::Sum(xs) => {
                let xs: Vec<Var<'g>> = xs.iter().map(|&i| at(i)).collect();
                g.sum(&xs)
            }
            Step::Affine(b, wx) => {
                let w: Vec<Var<'g>> = wx.iter().map(|&(w, _)| at(w)).collect();
                let x: Vec<Var<'g>> = wx.iter().map(|&(_, x)| at(x)).collect();
                g.affine(at(*b), &w, &x)
            }
            Step::Scale(a, c) => at(*a) * *c,
        };
        // keep magnitudes moderate so finite differences stay well conditioned
        regs.push(if out.value().abs() > 4.0 {
            out.tanh() * 4.0
        } else {
            out
        });
    }
    *regs.last().expect("programs have at least one step")
}

fn tolerance() -> Tolerance {
    Tolerance {
        step: 1e-6,
        abs: 1e-6,
        rel: 1e-5,
    }
}

fn inputs(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-2.0f64..2.0, n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn autograd_equals_central_differences(x in inputs(3), steps in program(3, 12)) {
        let report = gradcheck(|g, v| run(g, v, &steps), &x, tolerance());
        prop_assert!(report.passed(), "{report}");
    }

    #[test]
    fn product_rule(x in -2.0f64..2.0, f in program(1, 6), h in program(1, 6)) {
        // d(f·h) = f'·h + f·h'
        let g = Graph::new();
        let v = g.var(x);
        let (fv, hv) = (run(&g, &[v], &f), run(&g, &[v], &h));
        let d = g.grad(fv, &[v])[0].value();
        let e = g.grad(hv, &[v])[0].value();
        (fv * hv).backward();
        let expected = d * hv.value() + fv.value() * e;
        prop_assert!((v.grad() - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
    }

    #[test]
    fn quotient_rule(x in -2.0f64..2.0, f in program(1, 6), h in program(1, 6)) {
        // d(f / (1 + h²)) = (f'·(1 + h²) − f·2h·h') / (1 + h²)²
        let g = Graph::new();
        let v = g.var(x);
        let (fv, hv) = (run(&g, &[v], &f), run(&g, &[v], &h));
        let d = g.grad(fv, &[v])[0].value();
        let e = g.grad(hv, &[v])[0].value();
        let den = hv * hv + 1.0;
        (fv / den).backward();
        let (fx, hx, dx) = (fv.value(), hv.value(), den.value());
        let expected = (d * dx - fx * 2.0 * hx * e) / (dx * dx);
        prop_assert!((v.grad() - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
    }

    #[test]
    fn chain_rule(x in -2.0f64..2.0, inner in program(1, 6), outer in program(1, 6)) {
        // d/dx outer(inner(x)) = outer'(inner(x)) · inner'(x), each factor from its own graph
        let g = Graph::new();
        let v = g.var(x);
        let u = run(&g, &[v], &inner);
        let composed = run(&g, &[u], &outer);
        composed.backward();
        let inner_d = g.grad(u, &[v])[0].value();
        let h = Graph::new();
        let w = h.var(u.value());
        run(&h, &[w], &outer).backward();
        let expected = w.grad() * inner_d;
        prop_assert!((v.grad() - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
    }

    #[test]
    fn unused_leaves_stay_zero(x in inputs(3), steps in program(2, 10)) {
        let g = Graph::new();
        let used = [g.var(x[0]), g.var(x[1])];
        let unused = g.var(x[2]);
        let y = run(&g, &used, &steps);
        let _later = unused * y; // a node that uses both but is not an ancestor of y
        y.backward();
        prop_assert_eq!(unused.grad(), 0.0);
        prop_assert_eq!(g.grad(y, &[unused])[0].value(), 0.0);
    }

    #[test]
    fn recorded_gradient_equals_backward(x in inputs(3), steps in program(3, 12)) {
        let g = Graph::new();
        let v: Vec<Var> = x.iter().map(|&x| g.var(x)).collect();
        let y = run(&g, &v, &steps);
        let recorded: Vec<f64> = g.grad(y, &v).iter().map(|d| d.value()).collect();
        y.backward();
        for (r, leaf) in recorded.iter().zip(&v) {
            prop_assert!((r - leaf.grad()).abs() <= 1e-13 * (1.0 + r.abs()), "{r} vs {}", leaf.grad());
        }
    }

    #[test]
    fn fused_and_element_wise_neurons_agree_bit_for_bit(
        b in -2.0f64..2.0,
        wx in prop::collection::vec((-2.0f64..2.0, -2.0f64..2.0), 1..20),
    ) {
        let g = Graph::new();
        let bv = g.var(b);
        let w: Vec<Var> = wx.iter().map(|p| g.var(p.0)).collect();
        let x: Vec<Var> = wx.iter().map(|p| g.var(p.1)).collect();
        let fused = g.affine(bv, &w, &x).tanh();
        let mut act = bv;
        for (&wi, &xi) in w.iter().zip(&x) {
            act += wi * xi;
        }
        let chain = act.tanh();
        prop_assert_eq!(fused.value().to_bits(), chain.value().to_bits());
        fused.backward();
        let fused_grads: Vec<u64> = w.iter().chain(&x).map(|v| v.grad().to_bits()).collect();
        g.zero_grad();
        chain.backward();
        let chain_grads: Vec<u64> = w.iter().chain(&x).map(|v| v.grad().to_bits()).collect();
        prop_assert_eq!(fused_grads, chain_grads);
    }
}
