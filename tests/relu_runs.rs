//! The reverse pass takes a run of relus that read the nodes the same distance below them (a
//! layer's activations over its rows) in one tight loop. These tests hold it to closed forms
//! and to the same relus recorded so that they form no run (one node at a time), bit for bit:
//! partly reached runs, marks given from far above (word flags, not the walk's ring), runs
//! that continue into the relus they read, and shares that are infinite or NaN.

use scalargrad::{Graph, Var};

/// Inputs: positive, zero, negative zero, negative, NaN, infinite, tiny.
const XS: [f64; 8] = [1.5, 0.0, -0.0, -2.0, f64::NAN, f64::INFINITY, 1e-300, 3.0];

/// How the relus are recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    /// one after another, each reading its input `XS.len()` positions below: a run
    Run,
    /// each after a constant of its own: no two relus read the same distance below
    Apart,
}

fn relus<'g>(g: &'g Graph, xs: &[Var<'g>], layout: Layout) -> Vec<Var<'g>> {
    xs.iter()
        .map(|x| {
            if layout == Layout::Apart {
                g.constant(0.0);
            }
            x.relu()
        })
        .collect()
}

/// `Σ c_j · y_j` over the `used` outputs, with `filler` nodes recorded before it (so that
/// its shares reach the relus from more than the walk's ring below).
fn weighted<'g>(g: &'g Graph, ys: &[Var<'g>], c: &[f64], used: &[usize], filler: usize) -> Var<'g> {
    let mut f = g.constant(0.0);
    for _ in 0..filler {
        f += 1.0;
    }
    used.iter()
        .map(|&j| ys[j] * c[j])
        .fold(f * 0.0, |acc, t| acc + t)
}

fn bits(v: impl IntoIterator<Item = f64>) -> Vec<u64> {
    v.into_iter().map(f64::to_bits).collect()
}

/// The gradients of the inputs and of the relus after one and after two passes.
fn grads(layout: Layout, c: &[f64], used: &[usize], filler: usize) -> Vec<u64> {
    let g = Graph::new();
    let xs: Vec<Var> = XS.iter().map(|&x| g.var(x)).collect();
    let ys = relus(&g, &xs, layout);
    let loss = weighted(&g, &ys, c, used, filler);
    loss.backward();
    let mut out = bits(xs.iter().chain(&ys).map(|v| v.grad()));
    loss.backward(); // the scratch path adds the same again
    out.extend(bits(xs.iter().chain(&ys).map(|v| v.grad())));
    out
}

#[test]
fn a_partly_reached_run_gives_each_input_its_closed_form_share() {
    let c = [2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0];
    let used = [0, 2, 4, 5, 7]; // 1, 3 and 6 unreached
    for filler in [0, 5000] {
        let g = Graph::new();
        let xs: Vec<Var> = XS.iter().map(|&x| g.var(x)).collect();
        let ys = relus(&g, &xs, Layout::Run);
        let loss = weighted(&g, &ys, &c, &used, filler);
        // a second pass (the scratch path: gradients kept from the first) adds as much again
        for pass in [1.0, 2.0] {
            loss.backward();
            for j in 0..XS.len() {
                let reached = used.contains(&j);
                // relu'(x) = 1 for x > 0, else 0 (NaN too)
                let slope = if XS[j] > 0.0 { 1.0 } else { 0.0 };
                let want = if reached { pass * c[j] * slope } else { 0.0 };
                let at = format!("x{j}, filler {filler}, pass {pass}");
                assert_eq!(xs[j].grad().to_bits(), want.to_bits(), "{at}");
                let want_y = if reached { pass * c[j] } else { 0.0 };
                assert_eq!(ys[j].grad(), want_y, "y{j}, filler {filler}, pass {pass}");
            }
        }
    }
}

#[test]
fn runs_equal_relus_one_at_a_time_bit_for_bit() {
    let finite = [2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0];
    let mut infinite = finite;
    infinite[2] = f64::INFINITY; // where the input is ≤ 0 relu passes 0, even for ∞
    infinite[3] = f64::NEG_INFINITY;
    infinite[5] = f64::INFINITY;
    let mut nan = finite;
    nan[0] = f64::NAN;
    let all: Vec<usize> = (0..XS.len()).collect();
    for c in [finite, infinite, nan] {
        for used in [&all[..], &[1, 6], &[7], &[0, 3, 4]] {
            for filler in [0, 5000] {
                assert_eq!(
                    grads(Layout::Run, &c, used, filler),
                    grads(Layout::Apart, &c, used, filler),
                    "c {c:?} used {used:?} filler {filler}"
                );
            }
        }
    }
    // relu passes a share of 0 where its input is ≤ 0, whatever the gradient (as PyTorch's
    // threshold backward), and the gradient itself where it is not
    let g = Graph::new();
    let xs: Vec<Var> = XS.iter().map(|&x| g.var(x)).collect();
    let ys = relus(&g, &xs, Layout::Run);
    weighted(&g, &ys, &infinite, &[2, 3, 5], 0).backward();
    assert_eq!((xs[2].grad(), xs[3].grad()), (0.0, 0.0));
    assert_eq!(xs[5].grad(), f64::INFINITY);
    assert!(ys[2].grad().is_infinite());
}

#[test]
fn a_run_that_continues_into_the_relus_it_reads_passes_through_both() {
    // y = relu(x), z = relu(y): z's relus read y's from as far below as y's read x's, so
    // the two layers are one run of sixteen equal words
    let c = [1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0];
    let g = Graph::new();
    let xs: Vec<Var> = XS.iter().map(|&x| g.var(x)).collect();
    let ys = relus(&g, &xs, Layout::Run);
    let zs = relus(&g, &ys, Layout::Run);
    let used = [0, 1, 3, 5, 6, 7];
    weighted(&g, &zs, &c, &used, 0).backward();
    for j in 0..XS.len() {
        let slope = if XS[j] <= 0.0 { 0.0 } else { 1.0 };
        // each gradient starts at +0 and adds its share (so −0 shares leave +0)
        let want = if used.contains(&j) {
            0.0 + (0.0 + c[j] * slope) * slope
        } else {
            0.0
        };
        assert_eq!(xs[j].grad().to_bits(), want.to_bits(), "x{j}");
    }
    // (a chain of relus, each reading the one just below it, is one run too: see
    // tests/layer_rows.rs, `runs_of_relus_pass_the_gradient_where_their_input_is_positive`)
}

#[test]
fn unreached_relus_of_a_run_pass_nothing_on_not_even_a_zero() {
    // pre_j = w_j · k_j with an infinite k for the relus the loss leaves out: were an
    // unreached relu taken, its share of 0 would reach pre_j, and pre_j's `0 · ∞` would
    // give w_j a NaN
    let g = Graph::new();
    let k = [2.0, f64::INFINITY, 3.0, f64::INFINITY];
    let ws: Vec<Var> = [1.0, 1.0, 1.0, 1.0].iter().map(|&w| g.var(w)).collect();
    let ks: Vec<Var> = k.iter().map(|&k| g.constant(k)).collect();
    // four products at consecutive positions, then their relus: a run
    let pre: Vec<Var> = ws.iter().zip(&ks).map(|(&w, &k)| w * k).collect();
    let ys = relus(&g, &pre, Layout::Run);
    for filler in [0, 5000] {
        g.zero_grad();
        weighted(&g, &ys, &[1.0, 1.0, 5.0, 1.0], &[0, 2], filler).backward();
        let got: Vec<f64> = ws.iter().map(|w| w.grad()).collect();
        assert_eq!(got, [2.0, 0.0, 15.0, 0.0], "filler {filler}");
    }
}

#[test]
fn marks_given_from_far_above_are_cleared_for_the_next_pass() {
    // a relu reached from more than the walk's ring above is marked in its word; the run
    // loop must clear the mark, or a later pass from another root would take the relu as
    // reached and pass its 0 on to `w₁ · ∞`, giving w₁ a NaN
    let g = Graph::new();
    let ws: Vec<Var> = [1.0, 1.0].iter().map(|&w| g.var(w)).collect();
    let ks = [g.constant(2.0), g.constant(f64::INFINITY)];
    let pre: Vec<Var> = ws.iter().zip(&ks).map(|(&w, &k)| w * k).collect();
    let ys = relus(&g, &pre, Layout::Run);
    weighted(&g, &ys, &[1.0, 1.0], &[1], 5000).backward();
    assert_eq!(ws[1].grad(), f64::INFINITY);
    g.zero_grad();
    let other = ws[0] * 3.0; // recorded above the relus, but does not use them
    other.backward();
    assert_eq!((ws[0].grad(), ws[1].grad()), (3.0, 0.0));
}

#[test]
fn recompute_takes_runs_of_relus_with_relus_rule_bit_for_bit() {
    // `Graph::recompute` takes a run of relus in one loop too: here a run of eight, a run
    // that continues into the relus it reads (z = relu(y), y = relu(x)), a chain of relus
    // each reading the one just below it, and relus recorded apart (no run), after every
    // input is set to a new value, signed zeros, NaN and infinities included
    let new = [
        -1.0,
        2.5,
        -0.0,
        0.0,
        f64::NEG_INFINITY,
        f64::NAN,
        4.0,
        -1e-300,
    ];
    let g = Graph::new();
    let xs: Vec<Var> = XS.iter().map(|&x| g.var(x)).collect();
    let ys = relus(&g, &xs, Layout::Run);
    let zs = relus(&g, &ys, Layout::Run);
    let apart = relus(&g, &xs, Layout::Apart);
    let mut chain = vec![xs[1].relu()];
    for _ in 0..4 {
        chain.push(chain[chain.len() - 1].relu());
    }
    let tail = g.constant(7.0) + chain[4]; // a node after the runs, recomputed from them
    for (x, &v) in xs.iter().zip(&new) {
        x.set_value(v);
    }
    g.recompute();
    let relu = |x: f64| if x <= 0.0 { 0.0 } else { x };
    let want = bits(new.iter().map(|&x| relu(x)));
    assert_eq!(bits(ys.iter().map(|y| y.value())), want, "run");
    assert_eq!(
        bits(zs.iter().map(|z| z.value())),
        want,
        "run read by a run"
    );
    assert_eq!(bits(apart.iter().map(|y| y.value())), want, "apart");
    assert_eq!(
        bits(chain.iter().map(|y| y.value())),
        vec![2.5f64.to_bits(); 5]
    );
    assert_eq!(tail.value(), 9.5);
    // and a leaf set to a negative value zeroes the whole chain
    xs[1].set_value(-3.0);
    g.recompute();
    assert_eq!(bits(chain.iter().map(|y| y.value())), vec![0u64; 5]);
    assert_eq!(tail.value(), 7.0);
}
