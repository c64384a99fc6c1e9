//! Seed 001 (`001_601048aac5fa854a.txt`): the bias-free 2-2-2 sigmoid network with every
//! gradient written by hand, as `examples/seed001_hand_backprop.rs` runs it.
//!
//! The post prints the forward values (`g`, `h`, `z`, `t`); its training call prints a log
//! that the post does not show, so the training lines below are the output of the seed's own
//! code, run unchanged under Python 3.11 + numpy 2.4.6 (`GetGradient(x, y_true, W_1, W_2,
//! learning_rate=0.3, return_cost=True)`).

#[allow(dead_code)]
#[path = "../examples/seed001_hand_backprop.rs"]
mod example;

use example::common::numpy_array;
use proptest::prelude::*;
use scalargrad::{Graph, Var};

/// The seed's code, run: (epoch, printed prediction, printed cost).
const SEED_RUN: [(usize, &str, f64); 15] = [
    (0, "[0.63029549 0.74969909]", 0.07554453738003918),
    (1, "[0.63474189 0.74337071]", 0.07260684328278962),
    (2, "[0.63902103 0.73697141]", 0.06973198150469195),
    (3, "[0.64314166 0.73051004]", 0.06692071360483501),
    (4, "[0.64711211 0.72399582]", 0.0641740013901004),
    (45, "[0.73829425 0.50433159]", 0.007346339876501344),
    (46, "[0.73951045 0.50111849]", 0.006941967376892451),
    (47, "[0.74069769 0.4980012 ]", 0.0065604995444668),
    (48, "[0.74185676 0.4949774 ]", 0.006200671817469422),
    (49, "[0.74298845 0.49204479]", 0.005861280427732535),
    (95, "[0.77512407 0.42188589]", 0.000548902068564166),
    (96, "[0.77553678 0.42121913]", 0.0005243502965550827),
    (97, "[0.77594162 0.42057285]", 0.0005010239906978482),
    (98, "[0.77633877 0.41994642]", 0.00047885675750966263),
    (99, "[0.77672841 0.41933921]", 0.00045778601176134565),
];

#[test]
fn forward_values_match_the_seeds_printed_digits() {
    let graph = Graph::new();
    let w: Vec<Var<'_>> = [0.7, 0.3, 0.2, 0.4, 0.1, 0.5, 0.8, 0.4]
        .iter()
        .map(|&v| graph.var(v))
        .collect();
    let f = example::forward(&graph, &w);
    let print = |v: [Var<'_>; 2]| numpy_array(&[v[0].value(), v[1].value()]);
    assert_eq!(print(f.g), "[2.6 2. ]");
    assert_eq!(print(f.h), "[0.93086158 0.88079708]");
    assert_eq!(print(f.z), "[0.5334847  1.09700809]");
    assert_eq!(print(f.t), "[0.63029549 0.74969909]");
}

#[test]
fn training_matches_the_seeds_code_and_its_hand_gradients() {
    let (epochs, w) = example::train();
    assert_eq!(epochs.len(), 100);
    for &(i, predict, cost) in &SEED_RUN {
        assert_eq!(numpy_array(&epochs[i].predict), predict, "epoch {i}");
        assert!(
            (epochs[i].cost - cost).abs() <= 1e-12 * cost,
            "epoch {i}: {} vs {cost}",
            epochs[i].cost
        );
    }
    // The hand formulas are right: the engine agrees with them to rounding at every epoch.
    for (i, e) in epochs.iter().enumerate() {
        assert!(e.max_gradient_difference <= 1e-12, "epoch {i}: {e:?}");
    }
    // print(W_1, W_2) after the seed's training.
    assert_eq!(numpy_array(&w[0..2]), "[0.66594838 0.23189675]");
    assert_eq!(numpy_array(&w[2..4]), "[0.24678168 0.49356336]");
    assert_eq!(numpy_array(&w[4..6]), "[0.48562018 0.87779053]");
    assert_eq!(numpy_array(&w[6..8]), "[ 0.01400885 -0.36946053]");
}

proptest! {
    /// The seed's hand-written backward pass equals the engine's everywhere, not only along
    /// the training path.
    #[test]
    fn hand_gradients_equal_autograd_for_any_weights(w in prop::array::uniform8(-3.0f64..3.0)) {
        let graph = Graph::new();
        let leaves: Vec<Var<'_>> = w.iter().map(|&v| graph.var(v)).collect();
        example::forward(&graph, &leaves).cost.backward();
        let hand = example::hand_gradients([[w[0], w[1]], [w[2], w[3]]], [[w[4], w[5]], [w[6], w[7]]]);
        for (l, h) in leaves.iter().zip(&hand) {
            prop_assert!((l.grad() - h).abs() <= 1e-12 * (1.0 + h.abs()), "{} vs {}", l.grad(), h);
        }
    }
}
