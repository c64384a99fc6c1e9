//! Seed 003 (`003_771dfbf1da786da4.txt`): `MulLayer`/`AddLayer` pipelines and the `Relu` and
//! `Sigmoid` layers of `examples/seed003_layers.rs`, against the seed's printed numbers and
//! against the engine's reverse pass.

#[allow(dead_code)]
#[path = "../examples/seed003_layers.rs"]
mod example;

use example::{activation_check, Activation};
use proptest::prelude::*;

#[test]
fn apple_layers_print_the_seeds_numbers_and_equal_the_engine() {
    // Seed: `220.00000000000003` and `2.2 110.00000000000001 200`.
    let layers = example::apple_layers();
    assert_eq!(
        layers,
        (220.00000000000003, [2.2, 110.00000000000001, 200.0])
    );
    assert_eq!(example::apple_engine(), layers);
}

#[test]
fn apple_orange_layers_print_the_seeds_numbers_and_equal_the_engine() {
    // Seed: `715.0000000000001` and (dapple_num, dapple, dorange, dorange_num, dtax)
    // `110.00000000000001 2.2 3.3000000000000003 165.0 650`.
    let (price, [dapple, dapple_num, dorange, dorange_num, dtax]) = example::fruit_layers();
    assert_eq!(price, 715.0000000000001);
    assert_eq!(
        (dapple_num, dapple, dorange, dorange_num, dtax),
        (110.00000000000001, 2.2, 3.3000000000000003, 165.0, 650.0)
    );
    assert_eq!(example::fruit_engine(), example::fruit_layers());
}

#[test]
fn mul_tax_layer_backward_of_one_is_tax_and_price() {
    // Seed: `mul_tax_layer.backward(1)` → `(1.1, 650)`.
    let mut mul_tax_layer = example::MulLayer::default();
    mul_tax_layer.forward(650.0, 1.1);
    assert_eq!(mul_tax_layer.backward(1.0), (1.1, 650.0));
}

#[test]
fn relu_layer_matches_the_seed_and_the_engine() {
    // Seed: x = [[1.0, -0.5], [-2.0, 3.0]] → forward [[1, 0], [0, 3]], and backward(y) the same.
    let x = [1.0, -0.5, -2.0, 3.0];
    let [out, back, engine] = activation_check(Activation::Relu, &x, &[1.0, 0.0, 0.0, 3.0]);
    assert_eq!(out, [1.0, 0.0, 0.0, 3.0]);
    assert_eq!(back, [1.0, 0.0, 0.0, 3.0]);
    assert_eq!(engine, back);
}

#[test]
fn sigmoid_layer_derivative_is_y_times_one_minus_y() {
    let [out, back, engine] = activation_check(Activation::Sigmoid, &[0.0, 2.0], &[1.0, 1.0]);
    assert_eq!(out[0], 0.5);
    assert_eq!(back[0], 0.25);
    // σ'(2) = e⁻²/(1 + e⁻²)², closed form.
    let e = (-2.0f64).exp();
    assert!((back[1] - e / (1.0 + e).powi(2)).abs() < 1e-15);
    assert_eq!(engine[0], 0.25);
    assert!((engine[1] - back[1]).abs() < 1e-15);
}

proptest! {
    /// Layer backward and engine backward agree on random inputs and upstream gradients
    /// (the ReLU kink at 0 is where both give 0).
    #[test]
    fn activation_layers_agree_with_the_engine(
        x in prop::collection::vec(-6.0f64..6.0, 1..8),
        seed in -3.0f64..3.0,
    ) {
        let dout: Vec<f64> = (0..x.len()).map(|i| seed + i as f64 * 0.25).collect();
        let [_, back, engine] = activation_check(Activation::Relu, &x, &dout);
        prop_assert_eq!(back, engine);
        let [_, back, engine] = activation_check(Activation::Sigmoid, &x, &dout);
        for (b, e) in back.iter().zip(&engine) {
            prop_assert!((b - e).abs() <= 1e-15 * (1.0 + b.abs()), "{} vs {}", b, e);
        }
    }

    /// A chain of MulLayer/AddLayer with random values gives the engine's gradients exactly
    /// (one multiplication or addition per step, in the same order).
    #[test]
    fn layer_pipeline_equals_the_engine(a in -1e3f64..1e3, b in -1e3f64..1e3, c in -1e3f64..1e3, d in -1e3f64..1e3, t in 0.5f64..2.0) {
        let (mut m1, mut m2, mut add, mut mt) = (example::MulLayer::default(), example::MulLayer::default(), example::AddLayer, example::MulLayer::default());
        let s = add.forward(m1.forward(a, b), m2.forward(c, d));
        let out = mt.forward(s, t);
        let (ds, dt) = mt.backward(1.0);
        let (d1, d2) = add.backward(ds);
        let (da, db) = m1.backward(d1);
        let (dc, dd) = m2.backward(d2);

        let g = scalargrad::Graph::new();
        let v = [a, b, c, d, t].map(|x| g.var(x));
        let y = (v[0] * v[1] + v[2] * v[3]) * v[4];
        y.backward();
        prop_assert_eq!(y.value(), out);
        prop_assert_eq!(v.map(|x| x.grad()), [da, db, dc, dd, dt]);
    }
}
