//! micrograd's demo end to end: the losses of steps 0 and 99 against micrograd's printed
//! numbers (`benches/WORKLOADS.md`, W1), and 100% accuracy after training.
//!
//! The full 100 steps run here (about a second in a debug build).
#![cfg(feature = "serde")]

use scalargrad::nn::moons::{
    dataset, model, objective, parse_steps, Demo, Start, LOSS_STEP_0, LOSS_STEP_99, STEPS,
};
use scalargrad::nn::optim::{LinearDecay, Sgd};
use scalargrad::nn::{train_step, Fusion};
use scalargrad::Graph;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn micrograd_losses_at_step_0_and_99_and_full_accuracy() {
    let g = Graph::new();
    let mut demo = Demo::new(&g, Start::InitFile);
    let steps: Vec<_> = (0..STEPS).map(|_| demo.step()).collect();
    let (first, last) = (steps[0], steps[STEPS - 1]);
    assert!(
        rel(first.loss, LOSS_STEP_0) <= 1e-12,
        "step 0 loss {}",
        first.loss
    );
    assert!(
        rel(last.loss, LOSS_STEP_99) <= 1e-9,
        "step 99 loss {}",
        last.loss
    );
    assert_eq!(last.k, 99);
    assert_eq!(last.learning_rate, 1.0 - 0.9 * 99.0 / 100.0);
    // accuracy of the trained network (after the last update), and of step 99's forward pass
    let (_, accuracy) = demo.evaluate();
    assert_eq!(accuracy, 1.0);
    assert_eq!(last.accuracy, 1.0);
    // the loss curve goes down overall
    assert!(steps[50].loss < steps[10].loss && steps[10].loss < first.loss);
}

#[test]
fn elementwise_path_gives_bit_identical_losses() {
    // micrograd's loop by hand (train_step + objective), once per fusion path
    let run = |fusion: Fusion| -> Vec<u64> {
        let g = Graph::new();
        let mlp = model(&g, Start::InitFile).with_fusion(fusion);
        let data = dataset();
        let inputs = data.constants(&g);
        let params = mlp.parameters();
        let mut opt = Sgd::new(LinearDecay::micrograd());
        (0..5)
            .map(|_| {
                train_step(&g, &params, &mut opt, || {
                    objective(&mlp, &inputs, &data.labels, &params).0
                })
                .to_bits()
            })
            .collect()
    };
    let fused = run(Fusion::Fused);
    assert_eq!(fused, run(Fusion::Elementwise));
    assert!(rel(f64::from_bits(fused[0]), LOSS_STEP_0) <= 1e-12);
}

#[test]
fn parse_steps_takes_every_count_whose_learning_rates_are_positive() {
    // 1 − 0.9·k/100 > 0 exactly for k < 111.1…: 112 steps (k = 0..=111) is the most
    let micrograd_rate = |k: f64| 1.0 - 0.9 * k / 100.0;
    assert!(micrograd_rate(111.0) > 0.0 && micrograd_rate(112.0) < 0.0);
    for (arg, steps) in [
        ("0", 0),
        ("1", 1),
        ("100", STEPS),
        ("111", 111),
        ("112", 112),
    ] {
        assert_eq!(parse_steps(arg), Ok(steps), "--steps {arg}");
    }
}

#[test]
fn parse_steps_rejects_a_negative_learning_rate_with_a_sentence() {
    for arg in ["113", "200", "18446744073709551615"] {
        let err = parse_steps(arg).expect_err(arg);
        assert!(
            err.contains("learning rate 1 − 0.9·k/100 = -0.008 at step 112"),
            "{err}"
        );
        assert!(err.contains("use at most 112 steps"), "{err}");
        assert!(
            err.starts_with(&format!("{arg} steps would train")),
            "{err}"
        );
    }
}

#[test]
fn parse_steps_rejects_what_is_not_a_whole_number() {
    for arg in ["-3", "ten", "1.5", "", "18446744073709551616"] {
        assert_eq!(
            parse_steps(arg),
            Err(format!("`{arg}` is not a whole number of steps"))
        );
    }
}
