//! What `examples/proptest_seed002.rs` and `examples/proptest_custom_op.rs` print (and the
//! README quotes): the shrunk counterexamples, pinned.

#[allow(dead_code)]
#[path = "../examples/proptest_seed002.rs"]
mod seed002;

#[allow(dead_code)]
#[path = "../examples/proptest_custom_op.rs"]
mod custom_op;

use custom_op::Derivative;

#[test]
fn seed002_shrinks_to_zero_weights_and_the_four_first_layer_formulas() {
    let (why, (w, x, t)) = seed002::run(seed002::seed::hand_gradients).unwrap_err();
    assert_eq!(w, [0.0; 8]);
    assert_eq!((x, t), (vec![0.1, 0.1], vec![0.05, 0.05]));
    assert!(why.contains("4 of 8 parameter(s) disagree"), "{why}");
    // hand: (δ·w2 + (y − t) + y(1 − y) + w2)·σ'(0)·x = (0 + 0.45 + 0.25 + 0)·0.25·0.1; engine: 0
    for name in ["w1[0][0]", "w1[0][1]", "w1[1][0]", "w1[1][1]"] {
        let line = why.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(
            line.contains("1.750000e-2") && line.ends_with("WRONG"),
            "{line}"
        );
    }
    for name in ["w2[0][0]", "w2[0][1]", "w2[1][0]", "w2[1][1]"] {
        let line = why.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(line.ends_with("agrees"), "{line}");
    }
    assert!(seed002::run(seed002::seed::fixed_gradients).is_ok());
}

#[test]
fn custom_op_right_passes_and_the_two_bugs_shrink_to_swish_at_zero() {
    assert!(custom_op::run(Derivative::Right).is_ok());
    let one_op = "Program(2 inputs) {\n    v2 = swish(v1)\n    return v2\n}";
    // the product-rule slip: f'(0) = 0 instead of 1/2, a first-order failure
    let (why, p, x) = custom_op::run(Derivative::ProductRuleSlip).unwrap_err();
    assert_eq!((format!("{p:?}").as_str(), x), (one_op, vec![0.0, 0.0]));
    assert!(why.starts_with("gradient FAILED"), "{why}");
    // σ(x) lifted out of the derivative: f''(0) = 1/4 instead of 2σ'(0) = 1/2, a
    // second-order failure
    let (why, p, x) = custom_op::run(Derivative::PartlyLifted).unwrap_err();
    assert_eq!((format!("{p:?}").as_str(), x), (one_op, vec![0.0, 0.0]));
    assert!(why.starts_with("Hessian FAILED"), "{why}");
    let line = why
        .lines()
        .find(|l| l.starts_with("d²/dx[1]dx[1]"))
        .unwrap();
    assert!(
        line.contains("5.0000000e-1") && line.ends_with("WRONG"),
        "{line}"
    );
}
