//! Newton's method with the exact Hessian against gradient descent, on the 2-D Rosenbrock
//! function `f(x, y) = (1 − x)² + 100(y − x²)²` (minimum 0 at (1, 1), at the end of a long,
//! curved, narrow valley).
//!
//! ```sh
//! cargo run --release --example newton
//! ```
//!
//! Both start at the classic point (−1.2, 1) and stop when `|∇f| ≤ 1e-8`. The Hessian comes
//! from `scalargrad::hessian::gradient_and_hessian`: the gradient recorded as graph nodes,
//! then differentiated again, row by row.

use scalargrad::check::{gradient, value};
use scalargrad::hessian::gradient_and_hessian;
use scalargrad::{Graph, Var};

/// The Rosenbrock function as a graph function: written once, differentiated to any order.
fn rosenbrock<'g>(_: &'g Graph, v: &[Var<'g>]) -> Var<'g> {
    let (x, y) = (v[0], v[1]);
    (1.0 - x).pow(2.0) + 100.0 * (y - x.pow(2.0)).pow(2.0)
}

const START: [f64; 2] = [-1.2, 1.0];
const TOLERANCE: f64 = 1e-8;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// How far along the Newton direction to go.
#[derive(Clone, Copy, Debug)]
enum StepRule {
    /// Always the full step `x − H⁻¹∇f`: pure Newton.
    Full,
    /// The full step, halved until it decreases `f` (a safeguard far from the minimum, where
    /// the quadratic model is poor and a full step can overshoot).
    Backtracking,
}

/// Newton's method `x ← x − t·H⁻¹∇f` from `START`; prints every step, returns the number of
/// steps and the final point.
fn newton(rule: StepRule) -> (usize, [f64; 2]) {
    println!("Newton's method, {rule:?} steps (exact Hessian from recorded gradients)");
    let mut x = START;
    let mut steps = 0;
    loop {
        let (f, grad, h) = gradient_and_hessian(rosenbrock, &x);
        println!(
            "  step {steps:2}: x = ({:+.12}, {:+.12}), f = {f:.3e}, |∇f| = {:.3e}",
            x[0],
            x[1],
            norm(&grad)
        );
        if norm(&grad) <= TOLERANCE || steps == 100 {
            return (steps, x);
        }
        // Solve the 2×2 system H·d = ∇f by Cramer's rule.
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        let d = [
            (h[1][1] * grad[0] - h[0][1] * grad[1]) / det,
            (h[0][0] * grad[1] - h[1][0] * grad[0]) / det,
        ];
        let mut t = 1.0;
        x = loop {
            let trial = [x[0] - t * d[0], x[1] - t * d[1]];
            match rule {
                StepRule::Full => break trial,
                StepRule::Backtracking => {
                    if value(rosenbrock, &trial) < f || t < 1e-10 {
                        break trial;
                    }
                    t *= 0.5;
                }
            }
        };
        steps += 1;
    }
}

fn main() {
    // --- Newton. Near the minimum the quadratic model is exact to third order and the number
    // of correct digits doubles every step (see the last three steps of either run). Pure
    // Newton takes bold steps that leave the valley and come back; the safeguarded version
    // follows the valley floor and needs more, shorter steps.
    let (pure_steps, pure_point) = newton(StepRule::Full);
    println!();
    let (newton_steps, newton_point) = newton(StepRule::Backtracking);
    println!();

    // --- Gradient descent: x ← x − lr·∇f with a fixed learning rate. The valley floor is
    // ~1000 times more curved across than along (Hessian eigenvalues ≈ 1001.6 and 0.4 at the
    // minimum), so a stable lr (< 2/1001.6) crawls along the floor.
    let lr = 1e-3;
    println!("Gradient descent (lr = {lr})");
    let mut x = START;
    let mut gd_steps = 0usize;
    let max_steps = 2_000_000;
    loop {
        let (f, grad) = gradient(rosenbrock, &x);
        if gd_steps.is_power_of_two() || gd_steps == 0 {
            println!(
                "  step {gd_steps:7}: x = ({:+.12}, {:+.12}), f = {f:.3e}, |∇f| = {:.3e}",
                x[0],
                x[1],
                norm(&grad)
            );
        }
        if norm(&grad) <= TOLERANCE || gd_steps == max_steps {
            println!(
                "  step {gd_steps:7}: x = ({:+.12}, {:+.12}), f = {f:.3e}, |∇f| = {:.3e}",
                x[0],
                x[1],
                norm(&grad)
            );
            break;
        }
        x = [x[0] - lr * grad[0], x[1] - lr * grad[1]];
        gd_steps += 1;
    }

    println!(
        "\nTo |∇f| ≤ {TOLERANCE:e} from ({}, {}):",
        START[0], START[1]
    );
    println!(
        "  Newton (full steps):         {pure_steps:7} steps, final point ({:.15}, {:.15})",
        pure_point[0], pure_point[1]
    );
    println!(
        "  Newton (backtracking steps): {newton_steps:7} steps, final point ({:.15}, {:.15})",
        newton_point[0], newton_point[1]
    );
    println!(
        "  gradient descent (lr 1e-3):  {gd_steps:7} steps, final point ({:.15}, {:.15})",
        x[0], x[1]
    );
    for (steps, point) in [(pure_steps, pure_point), (newton_steps, newton_point)] {
        assert!(steps * 100 < gd_steps, "Newton should win by far");
        assert!((point[0] - 1.0).abs() < 1e-9 && (point[1] - 1.0).abs() < 1e-9);
    }
}
