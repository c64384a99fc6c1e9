//! Seed 000 (`000_05fdfd62dc12c158.txt`): the 2-2-2 sigmoid network trained by gradient
//! descent, as `examples/seed000_finite_differences.rs` trains it, against the seed's printed
//! log — once with the engine's exact gradients and once with central differences.

#[allow(dead_code)]
#[path = "../examples/seed000_finite_differences.rs"]
mod example;

use example::common::{numpy_array, numpy_matrix, py_float};

/// The seed's printed log: step, prediction as numpy printed it, loss as Python printed it.
const SEED_LOG: [(usize, &str, f64); 20] = [
    (0, "[0.64106615 0.70142718]", 0.27812700471578844),
    (150, "[0.30649078 0.26057261]", 0.018561924206582828),
    (300, "[0.238731   0.17752054]", 0.0037547623725053135),
    (450, "[0.21658743 0.14735127]", 0.0012586428306008053),
    (600, "[0.20747413 0.13194776]", 0.0005382610348171978),
    (750, "[0.20337815 0.12273718]", 0.0002641956167999194),
    (900, "[0.20147892 0.11671756]", 0.00014083198842101307),
    (1050, "[0.20059636 0.11255778]", 7.902677864841668e-05),
    (1200, "[0.2001941 0.1095738]", 4.5847693122934905e-05),
    (1350, "[0.20001903 0.1073766 ]", 2.7207278543627808e-05),
    (1500, "[0.19995006 0.10572796]", 1.6406009640097618e-05),
    (1650, "[0.19992923 0.10447365]", 1.0009270002713057e-05),
    (1800, "[0.19992906 0.10350938]", 6.1603911651294744e-06),
    (1950, "[0.19993677 0.10276222]", 3.8169319263361906e-06),
    (2100, "[0.1999466  0.10217978]", 2.377149733919919e-06),
    (2250, "[0.19995616 0.10172363]", 1.486403770528686e-06),
    (2400, "[0.19996455 0.10136508]", 9.323438739013135e-07),
    (2550, "[0.19997157 0.10108245]", 5.862497258460017e-07),
    (2700, "[0.19997731 0.10085917]", 3.693430078741367e-07),
    (2850, "[0.19998193 0.10068247]", 2.330456372621908e-07),
];

/// The seed's `print(grad_list[0])` and `print(grad_list[1])`.
const SEED_GRADS: [[&str; 4]; 2] = [
    [
        "[[0.01247645 0.00577953]\n [0.01996232 0.00924725]]",
        "[[0.06076802 0.0750013 ]\n [0.06052245 0.07469821]]",
        "[0.0249529  0.01155907]",
        "[0.10191142 0.12578144]",
    ],
    [
        "[[0.01228974 0.00559548]\n [0.01966358 0.00895277]]",
        "[[0.06040114 0.07496181]\n [0.06021838 0.07473499]]",
        "[0.02457948 0.01119096]",
        "[0.10148947 0.12595514]",
    ],
];

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn numpy_formatting_matches_numpy() {
    assert_eq!(
        numpy_array(&[0.238731, 0.17752054]),
        "[0.238731   0.17752054]"
    );
    assert_eq!(numpy_array(&[2.6, 2.0]), "[2.6 2. ]");
    assert_eq!(
        numpy_matrix(&[vec![-0.25, 0.5], vec![1.0, -0.125]]),
        "[[-0.25   0.5  ]\n [ 1.    -0.125]]"
    );
    assert_eq!(py_float(7.902677864841668e-05), "7.902677864841668e-05");
    assert_eq!(py_float(0.0005382610348171978), "0.0005382610348171978");
}

#[test]
fn exact_gradients_reproduce_the_seeds_printed_predictions() {
    let run = example::train_autograd();
    assert_eq!(run.log.len(), SEED_LOG.len());
    for (line, &(step, printed, loss)) in run.log.iter().zip(&SEED_LOG) {
        assert_eq!(line.step, step);
        let ours = numpy_array(&line.prediction);
        if step == 1650 {
            // The one digit exact gradients do not reproduce: the exact trajectory gives
            // y[0] = 0.1999292352 (rounds to …24), the seed's finite differences 0.1999292348
            // (rounds to …23). The finite-difference run below prints …23, as the seed.
            assert_eq!(ours, "[0.19992924 0.10447365]");
            assert!((line.prediction[0] - 0.19992923).abs() < 6e-9);
        } else {
            assert_eq!(ours, printed, "step {step}");
        }
        // The seed's losses carry its finite-difference error: within 1e-6 relative.
        assert!(
            relative(line.loss, loss) < 1e-6,
            "step {step}: {} vs {loss}",
            line.loss
        );
    }
    for (grad, printed) in run.first_grads.iter().zip(&SEED_GRADS) {
        assert_eq!(&example::grads_format(grad), printed);
    }
    let (y, _) = example::evaluate(&run.params);
    assert_eq!(numpy_array(&y), "[0.19998561 0.10054327]");
}

#[test]
fn finite_differences_reproduce_the_seeds_log_and_agree_with_autograd() {
    let numeric = example::train_numerical();
    for (line, &(step, printed, loss)) in numeric.log.iter().zip(&SEED_LOG) {
        assert_eq!(
            line.seed_format().split(", 손실").next().unwrap(),
            format!("[{step}] 예측: {printed}")
        );
        // Same algorithm, same h, same rounding of p ± h: only ulp-level differences in
        // exp/sigmoid remain.
        assert!(
            relative(line.loss, loss) < 1e-11,
            "step {step}: {} vs {loss}",
            line.loss
        );
    }
    assert_eq!(numeric.gradient_evaluations, 2 * 12 * 3000);

    let exact = example::train_autograd();
    assert_eq!(exact.gradient_evaluations, 3000);
    for (a, b) in exact.params.iter().zip(&numeric.params) {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
    for (a, b) in exact.log.iter().zip(&numeric.log) {
        for k in 0..2 {
            assert!((a.prediction[k] - b.prediction[k]).abs() < 1e-8);
        }
    }
    for (a, b) in exact
        .first_grads
        .iter()
        .flatten()
        .zip(numeric.first_grads.iter().flatten())
    {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
}
