//! Seed 002 (`002_687b807c68656e24.txt`): hand-derived per-weight gradients, four of them
//! wrong, as `examples/seed002_wrong_gradients.rs` transcribes them. The printed training
//! log proves the transcription faithful; the engine then says which formulas are wrong.

#[allow(dead_code)]
#[path = "../examples/seed002_wrong_gradients.rs"]
mod example;

use example::common::numpy_array;
use example::{autograd_gradients, hand_gradients, FirstLayerFormula, Point, NAMES};
use proptest::prelude::*;

/// The seed's printed log (it came from the buggy code): step, prediction, loss.
const SEED_LOG: [(usize, &str, f64); 15] = [
    (0, "[0.57035173 0.61051125]", 0.19889106944011697),
    (100, "[0.4652094  0.46179414]", 0.10061551430383414),
    (200, "[0.30316578 0.26389535]", 0.018752432278208896),
    (300, "[0.21567796 0.1543594 ]", 0.0016003711407895623),
    (400, "[0.20359713 0.13133002]", 0.000497254753525437),
    (500, "[0.20047112 0.12055811]", 0.00021142898257934023),
    (600, "[0.1996288  0.11425606]", 0.0001016864486579869),
    (700, "[0.19947258 0.11017801]", 5.193500634542015e-05),
    (800, "[0.19951067 0.10738099]", 2.73592508642205e-05),
    (900, "[0.19958301 0.1053845 ]", 1.4583376980820222e-05),
    (1000, "[0.19963875 0.10391061]", 7.711680501901155e-06),
    (1100, "[0.19966144 0.10278082]", 3.923785776709175e-06),
    (1200, "[0.19964131 0.10186601]", 1.8053327204324974e-06),
    (1300, "[0.19956184 0.10105443]", 6.519032415677173e-07),
    (1400, "[0.1993869  0.10021984]", 2.1211354969700546e-07),
];

/// Indices (in `NAMES` order) of the formulas the engine finds wrong.
const WRONG: [usize; 4] = [0, 1, 2, 3]; // w1[0][0], w1[0][1], w1[1][0], w1[1][1]
const RIGHT: [usize; 4] = [4, 5, 6, 7]; // w2[0][0], w2[0][1], w2[1][0], w2[1][1]

#[test]
fn buggy_formulas_replay_the_seeds_printed_log() {
    let (log, _) = example::train(hand_gradients);
    assert_eq!(log.len(), SEED_LOG.len());
    for (line, &(step, printed, loss)) in log.iter().zip(&SEED_LOG) {
        assert_eq!(line.step, step);
        assert_eq!(numpy_array(&line.prediction), printed, "step {step}");
        assert!(
            (line.loss - loss).abs() <= 1e-12 * loss,
            "step {step}: {} vs {loss}",
            line.loss
        );
    }
}

#[test]
fn engine_finds_exactly_the_first_layer_formulas_wrong() {
    let p = Point::new(example::X, example::T, example::W1, example::W2);
    let (hand, auto) = (hand_gradients(&p), autograd_gradients(&p));
    let wrong: Vec<&str> = (0..8)
        .filter(|&n| (hand[n] - auto[n]).abs() > 1e-12)
        .map(|n| NAMES[n])
        .collect();
    assert_eq!(wrong, ["w1[0][0]", "w1[0][1]", "w1[1][0]", "w1[1][1]"]);
    for n in RIGHT {
        assert!((hand[n] - auto[n]).abs() <= 1e-12, "{}", NAMES[n]);
    }
    // How wrong, at the initial weights (reference values from the seed's formulas and the
    // closed-form gradient (x ⊗ (w2·δ) ⊙ z1(1 − z1)), both evaluated in numpy): the
    // hand-derived values are 13-17 times too large.
    let expected_hand = [
        0.15724573360586291,
        0.0920290268637583,
        0.25159317376938073,
        0.14915265515425222,
    ];
    let expected_auto = [
        0.011873420252197363,
        0.005640862332803739,
        0.01899747240351578,
        0.009025379732485983,
    ];
    for (k, n) in WRONG.into_iter().enumerate() {
        assert!(
            (hand[n] - expected_hand[k]).abs() < 1e-9,
            "{}: {}",
            NAMES[n],
            hand[n]
        );
        assert!(
            (auto[n] - expected_auto[k]).abs() < 1e-9,
            "{}: {}",
            NAMES[n],
            auto[n]
        );
    }
}

#[test]
fn the_parametrised_formula_is_the_seeds_and_its_fixes_are_the_bugs() {
    let p = Point::new(example::X, example::T, example::W1, example::W2);
    let hand = hand_gradients(&p);
    let auto = autograd_gradients(&p);
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let n = 2 * i + j;
        let written = FirstLayerFormula::as_written(i, j);
        // Same arithmetic as the verbatim transcription, bit for bit.
        assert_eq!(written.eval(&p, i, j), hand[n], "{}", NAMES[n]);
        let product = FirstLayerFormula {
            adds_loss2: false,
            ..written
        };
        let fixed = FirstLayerFormula {
            adds_loss2: false,
            sigmoid_of: j,
        };
        let product_ok = (product.eval(&p, i, j) - auto[n]).abs() <= 1e-12;
        // `+` -> `*` fixes three formulas; w1[0][1] also needs sigmoid'(z1[1]).
        assert_eq!(product_ok, (i, j) != (0, 1), "{}", NAMES[n]);
        assert!(
            (fixed.eval(&p, i, j) - auto[n]).abs() <= 1e-12,
            "{}",
            NAMES[n]
        );
    }
}

/// A random network and example: weights in [−2, 2], inputs in [0.1, 1] (away from 0,
/// where every first-layer gradient vanishes whatever the formula), targets in (0, 1).
fn point() -> impl Strategy<Value = Point> {
    (
        prop::array::uniform2(0.1f64..1.0),
        prop::array::uniform2(0.05f64..0.95),
        prop::array::uniform4(-2.0f64..2.0),
        prop::array::uniform4(-2.0f64..2.0),
    )
        .prop_map(|(x, t, a, b)| {
            Point::new(
                x,
                t,
                [[a[0], a[1]], [a[2], a[3]]],
                [[b[0], b[1]], [b[2], b[3]]],
            )
        })
}

proptest! {
    /// The four second-layer formulas agree with the engine everywhere.
    #[test]
    fn correct_formulas_agree_with_autograd_everywhere(p in point()) {
        let (hand, auto) = (hand_gradients(&p), autograd_gradients(&p));
        for n in RIGHT {
            prop_assert!((hand[n] - auto[n]).abs() <= 1e-12, "{}: {} vs {}", NAMES[n], hand[n], auto[n]);
        }
    }

    /// The four first-layer formulas disagree with the engine (the chance that a random
    /// point lands within 1e-12 of where a wrong formula happens to be right is ~1e-9).
    #[test]
    fn wrong_formulas_disagree_with_autograd(p in point()) {
        let (hand, auto) = (hand_gradients(&p), autograd_gradients(&p));
        for n in WRONG {
            prop_assert!((hand[n] - auto[n]).abs() > 1e-12, "{}: {} vs {}", NAMES[n], hand[n], auto[n]);
        }
    }

    /// With both bugs fixed, every first-layer formula agrees with the engine everywhere:
    /// the diagnosis is complete.
    #[test]
    fn fixed_formulas_agree_with_autograd_everywhere(p in point()) {
        let auto = autograd_gradients(&p);
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let fixed = FirstLayerFormula { adds_loss2: false, sigmoid_of: j };
            let d = fixed.eval(&p, i, j);
            prop_assert!((d - auto[2 * i + j]).abs() <= 1e-12, "w1[{}][{}]: {} vs {}", i, j, d, auto[2 * i + j]);
        }
    }
}
