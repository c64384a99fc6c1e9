//! The reverse pass accumulates in place where every gradient is still 0 and in scratch
//! below that (a second `backward` must add its own gradients, not propagate the sum of
//! both): these tests pin the two paths, and anomaly mode, to the same closed-form numbers.

use scalargrad::{nn::zero_grad, Graph, Var};

/// y = x·x, then z = 3y + x recorded after a backward from y: the second pass covers nodes
/// that hold gradients (x, y) and nodes that do not (z's).
#[test]
fn a_second_backward_from_a_later_root_adds_to_earlier_gradients() {
    let g = Graph::new();
    let x = g.var(2.0);
    let y = x * x;
    y.backward();
    assert_eq!((x.grad(), y.grad()), (4.0, 1.0));
    let z = y * 3.0 + x;
    z.backward();
    // dz/dx = 3·2x + 1 = 13 added to 4; dz/dy = 3 added to 1.
    assert_eq!((x.grad(), y.grad(), z.grad()), (17.0, 4.0, 1.0));
}

/// A parameter's gradient survives a rewind and the next step's pass adds to it, until
/// `nn::zero_grad` clears the parameters only.
#[test]
fn gradients_kept_across_a_rewind_accumulate_until_zeroed() {
    let g = Graph::new();
    let w = g.var(1.5);
    let mark = g.mark();
    let step = || {
        let h = w * w; // an intermediate whose gradient is 1 per pass
        let loss = h * 2.0;
        loss.backward();
        let hg = h.grad();
        g.rewind(mark);
        hg
    };
    assert_eq!(step(), 2.0);
    assert_eq!(w.grad(), 6.0); // d(2w²)/dw = 4w
    assert_eq!(step(), 2.0); // the new intermediate starts from 0
    assert_eq!(w.grad(), 12.0);
    zero_grad(&[w]);
    assert_eq!(step(), 2.0);
    assert_eq!(w.grad(), 6.0);
}

fn f<'g>(g: &'g Graph, x: &[Var<'g>]) -> Var<'g> {
    let s = g.affine(x[0], &x[1..3], &x[3..5]);
    let t = (x[0] * x[1]).tanh() + s.sigmoid() * x[2].pow(3.0);
    (t / (x[3] + 4.0)).exp() + g.sum(&[t, s, x[4]]).relu()
}

fn gradients(prepare: impl Fn(&Graph, &[Var<'_>])) -> Vec<f64> {
    let g = Graph::new();
    let xs: Vec<Var<'_>> = [0.3, -0.7, 1.1, 0.4, -0.2]
        .iter()
        .map(|&v| g.var(v))
        .collect();
    prepare(&g, &xs);
    let y = f(&g, &xs);
    y.backward();
    xs.iter().map(|x| x.grad()).collect()
}

/// The in-place path (fresh graph), the scratch path (gradients left by an earlier pass, then
/// subtracted), and anomaly mode give bit-identical gradients.
#[test]
fn in_place_scratch_and_anomaly_paths_agree() {
    let plain = gradients(|_, _| {});
    let anomaly = gradients(|g, _| g.detect_anomaly(true));
    assert_eq!(plain, anomaly);
    // An earlier pass leaves gradients below the new root: the next one must add exactly.
    let g = Graph::new();
    let xs: Vec<Var<'_>> = [0.3, -0.7, 1.1, 0.4, -0.2]
        .iter()
        .map(|&v| g.var(v))
        .collect();
    let first = f(&g, &xs);
    first.backward();
    let before: Vec<f64> = xs.iter().map(|x| x.grad()).collect();
    assert_eq!(before, plain);
    let second = f(&g, &xs);
    second.backward();
    let after: Vec<f64> = xs.iter().map(|x| x.grad()).collect();
    for ((a, b), p) in after.iter().zip(&before).zip(&plain) {
        assert_eq!(a - b, *p);
    }
    // After zero_grad the whole tape is clean again: in place, same numbers.
    g.zero_grad();
    f(&g, &xs).backward();
    assert_eq!(xs.iter().map(|x| x.grad()).collect::<Vec<_>>(), plain);
}

/// The gradient agrees with central finite differences (an oracle independent of the pass).
#[test]
fn gradients_match_finite_differences() {
    let x0 = [0.3, -0.7, 1.1, 0.4, -0.2];
    let plain = gradients(|_, _| {});
    let value = |x: &[f64]| {
        let g = Graph::new();
        let xs: Vec<Var<'_>> = x.iter().map(|&v| g.var(v)).collect();
        f(&g, &xs).value()
    };
    for i in 0..x0.len() {
        let h = 1e-6;
        let (mut up, mut down) = (x0, x0);
        up[i] += h;
        down[i] -= h;
        let fd = (value(&up) - value(&down)) / (2.0 * h);
        assert!((fd - plain[i]).abs() < 1e-7, "x{i}: {fd} vs {}", plain[i]);
    }
}
