//! Seed 004 (`004_b373cc9dfdf837b7.txt`): the ReLU → ReLU → sigmoid classifier of
//! `examples/seed004_deep_classifier.rs` on the two-moons data. The engine's gradients must
//! equal the seed's vectorised formulas (`dZ = dA ⊙ g'(Z)`, `dW = dZ·A[l−1]ᵀ/m`,
//! `db = mean dZ`, `dA[l−1] = Wᵀ·dZ`, `dA[L] = −y/a + (1 − y)/(1 − a)`), evaluated on plain
//! matrices, at the initial weights and after training; and training must classify the data.

#[allow(dead_code)]
#[path = "../examples/seed004_deep_classifier.rs"]
mod example;

use example::{compare, engine_grads, load_moons, vectorised_grads, Params};

#[test]
fn moons_data_loads_with_labels_mapped_to_zero_one() {
    let (x, y) = load_moons();
    assert_eq!((x.len(), x[0].len(), y.len()), (2, 100, 100));
    assert_eq!(y.iter().filter(|&&v| v == 1.0).count(), 50);
    assert!(y.iter().all(|&v| v == 0.0 || v == 1.0));
    // First row of data/moons.csv: 1.1221146075409685,0.08147717341718697,-1
    assert_eq!(
        (x[0][0], x[1][0], y[0]),
        (1.1221146075409685, 0.08147717341718697, 0.0)
    );
}

#[test]
fn engine_equals_the_vectorised_formulas_at_the_initial_weights() {
    let (x, y) = load_moons();
    let p = Params::init(example::SEED);
    let (e, r) = (engine_grads(&p, &x, &y), vectorised_grads(&p, &x, &y));
    let gaps = compare(&e, &r);
    assert!(
        gaps.iter().all(|&g| g <= 1e-12),
        "dW, db, dZ, dA gaps: {gaps:?}"
    );
    assert!((e.cost - r.cost).abs() <= 1e-14 * r.cost);
    // Shapes as the seed's: dW[l] is n[l] × n[l−1], dZ and dA are n[l] × m.
    for (l, dims) in example::DIMS.windows(2).enumerate() {
        assert_eq!((e.dw[l].len(), e.dw[l][0].len()), (dims[1], dims[0]));
        assert_eq!((e.dz[l].len(), e.dz[l][0].len()), (dims[1], 100));
        assert_eq!((e.da[l].len(), e.da[l][0].len()), (dims[1], 100));
    }
    // Deterministic by seed (ChaCha8, seed 4; a regression value, not an oracle).
    assert!((e.cost - 0.943763765817681).abs() < 1e-12, "{}", e.cost);
}

#[test]
fn vectorised_formulas_match_central_differences() {
    // The reference itself, checked against an outside oracle: the finite-difference slope
    // of the cost along a few weights and biases.
    let (x, y) = load_moons();
    let p = Params::init(example::SEED);
    let r = vectorised_grads(&p, &x, &y);
    let h = 1e-6;
    for (l, i, k) in [(0, 0, 0), (0, 3, 1), (1, 2, 5), (2, 0, 7)] {
        let (mut up, mut down) = (p.clone(), p.clone());
        up.w[l][i][k] += h;
        down.w[l][i][k] -= h;
        let fd =
            (vectorised_grads(&up, &x, &y).cost - vectorised_grads(&down, &x, &y).cost) / (2.0 * h);
        assert!(
            (fd - r.dw[l][i][k]).abs() < 1e-8,
            "dW[{l}][{i}][{k}]: {fd} vs {}",
            r.dw[l][i][k]
        );
        let (mut up, mut down) = (p.clone(), p.clone());
        up.b[l][i] += h;
        down.b[l][i] -= h;
        let fd =
            (vectorised_grads(&up, &x, &y).cost - vectorised_grads(&down, &x, &y).cost) / (2.0 * h);
        assert!(
            (fd - r.db[l][i]).abs() < 1e-8,
            "db[{l}][{i}]: {fd} vs {}",
            r.db[l][i]
        );
    }
}

#[test]
fn training_classifies_the_moons_and_gradients_still_agree() {
    let (x, y) = load_moons();
    let p = Params::init(example::SEED);
    let (trained, log) = example::train(p, &x, &y, 200, 100);
    let first = log.first().unwrap();
    let last = log.last().unwrap();
    assert_eq!(first.accuracy, 0.5);
    // 200 steps of gradient descent at lr 0.5 separate the two moons completely.
    assert_eq!(last.step, 200);
    assert_eq!(last.accuracy, 1.0);
    assert!(
        last.cost < 0.015 && last.cost < first.cost / 50.0,
        "{log:?}"
    );
    let (e, r) = (
        engine_grads(&trained, &x, &y),
        vectorised_grads(&trained, &x, &y),
    );
    let gaps = compare(&e, &r);
    assert!(
        gaps.iter().all(|&g| g <= 1e-12),
        "dW, db, dZ, dA gaps: {gaps:?}"
    );
}
