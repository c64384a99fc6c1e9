//! What "bit for bit" means for the fused `sum`/`dot`/`affine` nodes: values always equal the
//! chain of binary ops; gradients too when each handle appears once (a neuron), and a handle
//! repeated inside one `dot` may differ in the last bit.

use scalargrad::{Graph, Var};

/// Deterministic pseudo-random numbers in (0.1, 1.1).
fn r(s: u64, k: u64) -> f64 {
    ((s * 7919 + k * 104_729) % 1000) as f64 / 997.0 + 0.1
}

/// A bias, five weights and five inputs, all tracked.
fn neuron(g: &Graph, s: u64) -> (Var<'_>, Vec<Var<'_>>, Vec<Var<'_>>) {
    let b = g.var(r(s, 0));
    let w = (1..=5).map(|k| g.var(r(s, k))).collect();
    let x = (6..=10).map(|k| g.var(r(s, k) - 0.6)).collect();
    (b, w, x)
}

#[test]
fn affine_equals_the_chain_bit_for_bit_when_no_handle_repeats() {
    for s in 0..500 {
        let (g1, g2) = (Graph::new(), Graph::new());
        let (b1, w1, x1) = neuron(&g1, s);
        let (b2, w2, x2) = neuron(&g2, s);
        let fused = g1.affine(b1, &w1, &x1).tanh();
        let mut chain = b2;
        for (w, x) in w2.iter().zip(&x2) {
            chain += *w * *x;
        }
        let chain = chain.tanh();
        fused.backward();
        chain.backward();
        assert_eq!(fused.value().to_bits(), chain.value().to_bits());
        let bits = |vs: &[Var]| vs.iter().map(|v| v.grad().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w1), bits(&w2));
        assert_eq!(bits(&x1), bits(&x2));
        assert_eq!(b1.grad().to_bits(), b2.grad().to_bits());
    }
}

#[test]
fn a_handle_repeated_in_one_dot_may_differ_in_the_last_bit_only() {
    let mut differ = 0;
    for s in 0..500 {
        let (g1, g2) = (Graph::new(), Graph::new());
        let (x1, x2) = (g1.var(0.3), g2.var(0.3));
        let w1: Vec<_> = (1..=4).map(|k| g1.var(r(s, k))).collect();
        let w2: Vec<_> = (1..=4).map(|k| g2.var(r(s, k))).collect();
        let fused = g1.dot(&w1, &[x1; 4]);
        let chain = w2[0] * x2 + w2[1] * x2 + w2[2] * x2 + w2[3] * x2;
        assert_eq!(fused.value().to_bits(), chain.value().to_bits());
        fused.backward();
        chain.backward();
        let (a, b) = (x1.grad(), x2.grad());
        if a.to_bits() != b.to_bits() {
            differ += 1;
            assert!((a - b).abs() <= 2.0 * f64::EPSILON * a.abs(), "{a} vs {b}");
        }
    }
    assert!(
        differ > 0,
        "the shares' order never mattered: reword the docs"
    );
}
