//! Issue #24, "nothing silently wrong": each input an adversary tried that gave a plausible
//! wrong number around the engine core now gives the right number or a refusal that says
//! what is wrong. One test per row of the issue's table (the losses, optimizers, loaders and
//! eigenvalues; the relu, `track_caller`, capacity and web rows live elsewhere), each
//! asserting the number against a closed form or the refusal's sentence.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::check::{gradgradcheck, Tolerance};
use scalargrad::hessian::symmetric_eigenvalues;
use scalargrad::nn::optim::{Adam, Momentum, Optimizer, Sgd};
use scalargrad::nn::{loss, train_step, Dataset, Error};
use scalargrad::{Graph, Scalar, UnaryFn};

/// The message of the panic `f` raises (it must panic).
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a panic with a message")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

// ---------------------------------------------------------------------------- losses

#[test]
fn bce_refuses_a_target_outside_0_1() {
    let g = Graph::new();
    let p = g.var(0.3);
    // before: −0.4906, i.e. −(−1·ln 0.3 + 2·ln 0.7), a negative "cross-entropy"
    let m = panic_message(|| {
        loss::bce(&[p], &[-1.0]);
    });
    assert!(m.contains("bce target 0 is -1"), "{m}");
    assert!(m.contains("[0, 1]"), "{m}");
    let m = panic_message(|| {
        loss::bce(&[p, p], &[1.0, 1.5]);
    });
    assert!(m.contains("bce target 1 is 1.5"), "{m}");
    let m = panic_message(|| {
        loss::bce(&[p], &[f64::NAN]);
    });
    assert!(m.contains("bce target 0 is NaN"), "{m}");
}

#[test]
fn bce_refuses_a_probability_outside_0_1() {
    let g = Graph::new();
    // before: −0.405 = −ln 1.5, a negative loss for a "probability" of 1.5
    let m = panic_message(|| {
        loss::bce(&[g.var(1.5)], &[1.0]);
    });
    assert!(
        m.contains("bce probability 0 is 1.5, outside [0, 1]"),
        "{m}"
    );
    let m = panic_message(|| {
        loss::bce(&[g.var(0.5), g.var(-0.25)], &[1.0, 0.0]);
    });
    assert!(m.contains("bce probability 1 is -0.25"), "{m}");
}

#[test]
fn bce_accepts_the_ends_of_0_1_and_soft_labels() {
    let g = Graph::new();
    // certain and right: exactly 0 (no 0·ln 0)
    assert_eq!(loss::bce(&[g.var(0.0)], &[0.0]).value(), 0.0);
    assert_eq!(loss::bce(&[g.var(1.0)], &[1.0]).value(), 0.0);
    // certain and wrong: +inf, documented
    assert_eq!(loss::bce(&[g.var(0.0)], &[1.0]).value(), f64::INFINITY);
    // a soft label y = 0.25 at p = 0.5: −(0.25 ln 0.5 + 0.75 ln 0.5) = ln 2
    let l = loss::bce(&[g.var(0.5)], &[0.25]).value();
    assert!(close(l, std::f64::consts::LN_2, 1e-15), "{l}");
    // a NaN probability is not refused: NaN in, NaN out
    assert!(loss::bce(&[g.var(f64::NAN)], &[1.0]).value().is_nan());
}

#[test]
fn bce_with_logits_refuses_a_target_outside_0_1() {
    let g = Graph::new();
    let m = panic_message(|| {
        loss::bce_with_logits(&[g.var(0.3), g.var(-2.0)], &[1.0, -1.0]);
    });
    assert!(m.contains("bce_with_logits target 1 is -1"), "{m}");
    assert!(
        m.contains("hinge"),
        "says what to use for −1/+1 labels: {m}"
    );
    // the ends are labels
    let l = loss::bce_with_logits(&[g.var(0.0), g.var(0.0)], &[0.0, 1.0]).value();
    assert!(close(l, std::f64::consts::LN_2, 1e-15), "{l}");
}

#[test]
fn hinge_refuses_0_1_labels() {
    let g = Graph::new();
    let s = [g.var(0.5), g.var(-2.0)];
    // before: 0.75, the label-0 sample has loss exactly 1 and no gradient
    let m = panic_message(|| {
        loss::hinge(&s, &[1.0, 0.0]);
    });
    assert!(m.contains("hinge label 1 is 0"), "{m}");
    assert!(m.contains("−1 or +1"), "{m}");
    for bad in [0.5, 2.0, -0.0, f64::NAN] {
        let m = panic_message(|| {
            loss::hinge(&s[..1], &[bad]);
        });
        assert!(m.contains("hinge label 0 is"), "{bad}: {m}");
    }
    // −1 and +1 pass: margins 1 − 0.5 = 0.5 and 1 − 2 = −1 → (0.5 + 0)/2
    assert_eq!(loss::hinge(&s, &[1.0, -1.0]).value(), 0.25);
    assert_eq!(loss::hinge(&s, &[-1.0, 1.0]).value(), (1.5 + 3.0) / 2.0);
}

// ---------------------------------------------------------------------------- optimizers

#[test]
fn train_step_refuses_a_parameter_listed_twice() {
    let g = Graph::new();
    let w = g.var(1.0);
    // before: w 1.0 → 0.6, two steps of 0.1 · 2w
    let m = panic_message(|| {
        train_step(&g, &[w, w], &mut Sgd::new(0.1), || w * w);
    });
    assert!(m.contains("Sgd was given the same parameter twice"), "{m}");
    assert!(m.contains("entries 0 and 1"), "{m}");
    // nothing was stepped, and the step's nodes are gone
    assert_eq!((w.value(), g.len()), (1.0, 1));
    // listed once: one step, 1 − 0.1·2 = 0.8
    train_step(&g, &[w], &mut Sgd::new(0.1), || w * w);
    assert_eq!(w.value(), 0.8);
}

#[test]
fn every_optimizer_refuses_a_repeated_parameter() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    (a * b).backward();
    let cases: [(&str, Box<dyn Optimizer>); 3] = [
        ("Sgd", Box::new(Sgd::new(0.1))),
        ("Momentum", Box::new(Momentum::new(0.1, 0.9))),
        ("Adam", Box::new(Adam::new(0.1))),
    ];
    for (name, mut opt) in cases {
        let m = panic_message(|| opt.step(&[b, a, b]));
        assert!(
            m.contains(&format!(
                "{name} was given the same parameter twice (entries 0 and 2"
            )),
            "{m}"
        );
        assert_eq!((a.value(), b.value()), (1.0, 2.0), "{name} stepped");
    }
}

#[test]
fn sgd_checks_again_when_the_list_changes() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    (a * b).backward(); // grads 2 and 1
    let mut opt = Sgd::new(0.5);
    opt.step(&[a, b]);
    assert_eq!((a.value(), b.value()), (0.0, 1.5));
    // a stateless optimizer may be stepped on any list…
    opt.step(&[b]);
    assert_eq!(b.value(), 1.0);
    // …but not on one that repeats a node, even after a good one: one that extends the
    // last list, and one of its length that differs from it everywhere
    let m = panic_message(|| opt.step(&[b, b]));
    assert!(m.contains("the same parameter twice"), "{m}");
    let c = g.var(0.0);
    opt.step(&[a, c]);
    let m = panic_message(|| opt.step(&[b, b]));
    assert!(m.contains("the same parameter twice"), "{m}");
    assert_eq!(opt.steps(), 3);
    assert_eq!((a.value(), b.value()), (-1.0, 1.0));
}

#[test]
fn parameters_of_two_graphs_at_the_same_position_are_distinct() {
    let (g1, g2) = (Graph::new(), Graph::new());
    let (x, y) = (g1.var(1.0), g2.var(3.0)); // both the first node of their graph
    x.backward();
    y.backward();
    let mut opt = Adam::new(0.5);
    opt.step(&[x, y]); // first Adam step: lr · g/(|g| + ε) ≈ lr
    assert!(close(x.value(), 0.5, 1e-7) && close(y.value(), 2.5, 1e-8));
}

#[test]
fn adam_refuses_another_parameter_list_of_the_same_length() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(1.0));
    (a * 3.0 + b * -2.0).backward();
    let mut opt = Adam::new(0.1);
    opt.step(&[a]);
    // before: b inherited a's moments (m = 0.3, v = 0.009) and step count
    let m = panic_message(|| opt.step(&[b]));
    assert!(
        m.contains("Adam was stepped on another parameter list before (entry 0"),
        "{m}"
    );
    assert_eq!(b.value(), 1.0);
    // b with an Adam of its own: the first step moves it by lr · g/(|g| + ε) = +0.1
    let mut own = Adam::new(0.1);
    own.step(&[b]);
    assert!(close(b.value(), 1.0 + 0.1 * 2.0 / (2.0 + 1e-8), 1e-15));
    // and a's Adam still takes a's second step by the formula
    opt.step(&[a]);
    let (b1, b2, ga) = (0.9f64, 0.999f64, 3.0f64);
    let m2 = b1 * ((1.0 - b1) * ga) + (1.0 - b1) * ga;
    let v2 = b2 * ((1.0 - b2) * ga * ga) + (1.0 - b2) * ga * ga;
    let a1 = 1.0 - 0.1 * ga / (ga + 1e-8);
    let a2 = a1 - 0.1 * (m2 / (1.0 - b1 * b1)) / ((v2 / (1.0 - b2 * b2)).sqrt() + 1e-8);
    assert!(close(a.value(), a2, 1e-15), "{} vs {a2}", a.value());
}

#[test]
fn momentum_refuses_another_parameter_list_of_the_same_length() {
    let g = Graph::new();
    let (a, b, c) = (g.var(1.0), g.var(1.0), g.var(1.0));
    (a + b + c).backward();
    let mut opt = Momentum::new(0.1, 0.9);
    opt.step(&[a, b]);
    let m = panic_message(|| opt.step(&[a, c]));
    assert!(
        m.contains("Momentum was stepped on another parameter list before (entry 1"),
        "{m}"
    );
    assert_eq!(c.value(), 1.0);
    let m = panic_message(|| opt.step(&[a]));
    assert!(
        m.contains("stepped with 2 parameters before and 1 now"),
        "{m}"
    );
}

#[test]
fn an_optimizer_shows_how_many_parameters_it_is_bound_to() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    let mut adam = Adam::new(0.1);
    assert!(format!("{adam:?}").contains("params: None"), "{adam:?}");
    adam.step(&[a, b]);
    let shown = format!("{adam:?}");
    assert!(shown.contains("params: Some(2 parameters)"), "{shown}");
    let mut sgd = Sgd::new(0.1);
    sgd.step(&[a]);
    assert!(
        format!("{sgd:?}").contains("checked: 1 parameters"),
        "{sgd:?}"
    );
}

#[test]
fn stateful_optimizers_count_steps_and_follow_their_schedule() {
    let schedule = |k: usize| 0.1 / (k + 1) as f64;
    let g = Graph::new();
    let (w, u) = (g.var(0.0), g.var(0.0));
    let (mut momentum, mut adam) = (Momentum::new(schedule, 0.9), Adam::new(schedule));
    for _ in 0..2 {
        g.zero_grad();
        (w * 2.0 + u * 3.0).backward(); // constant gradients 2 and 3
        momentum.step(&[w]);
        adam.step(&[u]);
    }
    // momentum: v = 2, then 0.9·2 + 2; w = −0.1·2 − 0.05·3.8
    assert!(
        close(w.value(), -0.1 * 2.0 - 0.05 * 3.8, 1e-15),
        "{}",
        w.value()
    );
    // Adam on a constant gradient: m̂ = g and v̂ = g² at every step
    let (b1, b2) = (0.9f64, 0.999f64);
    let (m1, v1) = ((1.0 - b1) * 3.0, (1.0 - b2) * 9.0);
    let (m2, v2) = (b1 * m1 + (1.0 - b1) * 3.0, b2 * v1 + (1.0 - b2) * 9.0);
    let u1 = -0.1 * (m1 / (1.0 - b1)) / ((v1 / (1.0 - b2)).sqrt() + 1e-8);
    let u2 = u1 - 0.05 * (m2 / (1.0 - b1 * b1)) / ((v2 / (1.0 - b2 * b2)).sqrt() + 1e-8);
    assert!(close(u.value(), u2, 1e-15), "{} vs {u2}", u.value());
    for (steps, rate) in [
        (momentum.steps(), momentum.learning_rate()),
        (adam.steps(), adam.learning_rate()),
    ] {
        assert_eq!((steps, rate), (2, 0.1 / 3.0));
    }
}

#[test]
fn a_node_in_a_reused_slot_is_another_parameter() {
    let g = Graph::new();
    let mut opt = Adam::new(0.1);
    let mark = g.mark();
    let a = g.var(1.0);
    a.backward();
    opt.step(&[a]);
    g.rewind(mark);
    let b = g.var(5.0); // a's slot, a new node
    b.backward();
    let m = panic_message(|| opt.step(&[b]));
    assert!(m.contains("another parameter list"), "{m}");
    assert_eq!(b.value(), 5.0);
}

// ---------------------------------------------------------------------------- data

#[cfg(feature = "serde")]
#[test]
fn a_spec_with_no_inputs_is_refused() {
    use scalargrad::nn::{Mlp, MlpSpec};
    let json =
        r#"{"nin": 0, "layers": [{"activation": "linear", "weights": [[]], "biases": [1.5]}]}"#;
    let err = MlpSpec::from_json(json).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "bad network shape: a network needs at least one input (nin is 0)"
    );
    assert!(Mlp::from_json(&Graph::new(), json).is_err());
    // one input is enough
    let one =
        r#"{"nin": 1, "layers": [{"activation": "linear", "weights": [[2]], "biases": [1.5]}]}"#;
    assert_eq!(MlpSpec::from_json(one).unwrap().predict(&[1.0]), [3.5]);
}

#[test]
fn a_csv_with_nan_or_inf_is_refused_naming_line_and_field() {
    for (text, want) in [
        (
            "x1,x2,label\n1,2,1\n3,NaN,0\n",
            "line 3: field 2 is not finite: \"NaN\"",
        ),
        ("1,2,1\ninf,2,0\n", "line 2: field 1 is not finite: \"inf\""),
        (
            "1, 2 ,-infinity\n",
            "line 1: field 3 is not finite: \"-infinity\"",
        ),
        (
            "a,b\n\n1,2\n4, nan\n",
            "line 4: field 2 is not finite: \"nan\"",
        ),
    ] {
        let err = Dataset::from_csv(text).unwrap_err();
        assert!(matches!(err, Error::Parse { .. }), "{err:?}");
        assert_eq!(err.to_string(), want);
    }
    // only the first line may be a header: a word later is an error naming it
    let err = Dataset::from_csv("x,label\n1,2\n3,x\n").unwrap_err();
    assert_eq!(err.to_string(), "line 3: field 2 is not a number: \"x\"");
    let d = Dataset::from_csv("x,label\n1,2\n").unwrap();
    assert_eq!((d.inputs, d.labels), (vec![vec![1.0]], vec![2.0]));
    // rows of the wrong length, and no rows at all, are errors naming the line
    for (text, want) in [
        (
            "1,2,3\n\n4,5\n",
            "line 3: 2 fields, expected 3 (features then a label)",
        ),
        (
            "1,2\n4,5,6\n",
            "line 2: 3 fields, expected 2 (features then a label)",
        ),
        (
            "x,y\n5\n",
            "line 2: 1 fields, expected 2 (features then a label)",
        ),
        ("", "line 1: no data rows"),
        ("a,b\n\n", "line 1: no data rows"),
    ] {
        assert_eq!(Dataset::from_csv(text).unwrap_err().to_string(), want);
    }
    // the largest finite numbers are data
    let d = Dataset::from_csv("1.7976931348623157e308,-5e-324,1\n").unwrap();
    assert_eq!(d.inputs, [[f64::MAX, -5e-324]]);
}

#[test]
fn a_dataset_counts_its_rows_and_makes_constants() {
    let d = Dataset::from_csv("1,2,0\n3,4,1\n5,6,0\n").unwrap();
    assert_eq!((d.len(), d.is_empty()), (3, false));
    let empty = Dataset {
        inputs: vec![],
        labels: vec![],
    };
    assert_eq!((empty.len(), empty.is_empty()), (0, true));
    let g = Graph::new();
    let x = d.constants(&g);
    let shown: Vec<Vec<(f64, bool)>> = x
        .iter()
        .map(|row| row.iter().map(|v| (v.value(), v.is_tracked())).collect())
        .collect();
    assert_eq!(
        shown,
        [
            [(1.0, false), (2.0, false)],
            [(3.0, false), (4.0, false)],
            [(5.0, false), (6.0, false)]
        ]
    );
    assert_eq!(g.len(), 6);
}

#[cfg(feature = "serde")]
#[test]
fn errors_give_their_source() {
    use std::error::Error as _;
    let g = Graph::new();
    let io = scalargrad::nn::Mlp::load(&g, "/nonexistent/net.json").unwrap_err();
    let source = io.source().expect("an i/o error has a source");
    let io_error = source.downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io_error.kind(), std::io::ErrorKind::NotFound);
    let json = scalargrad::nn::MlpSpec::from_json("{").unwrap_err();
    let source = json.source().expect("a JSON error has a source");
    assert!(source.to_string().contains("EOF while parsing"), "{source}");
    assert!(Error::Shape("x".into()).source().is_none());
}

// ---------------------------------------------------------------------------- eigenvalues

#[test]
fn eigenvalues_near_the_top_of_the_range_do_not_overflow() {
    // [[1, 1], [1, −1]] has eigenvalues ±√2; scaled by 1e308 (before: [−inf, inf])
    let e = symmetric_eigenvalues(&[vec![1e308, 1e308], vec![1e308, -1e308]]);
    let want = 1e308 * std::f64::consts::SQRT_2;
    assert!(
        close(e[1], want, 1e-15) && close(e[0], -want, 1e-15),
        "{e:?}"
    );
    // and near the bottom they do not underflow to the diagonal (before: ±1e-308)
    let e = symmetric_eigenvalues(&[vec![1e-308, 1e-308], vec![1e-308, -1e-308]]);
    let want = 1e-308 * std::f64::consts::SQRT_2;
    assert!(
        close(e[1], want, 1e-15) && close(e[0], -want, 1e-15),
        "{e:?}"
    );
}

#[test]
fn scaling_is_exact() {
    // a diagonal matrix needs no rotation: its entries come back to the bit, whatever the
    // power of two the matrix was scaled by
    let e = symmetric_eigenvalues(&[vec![3e200, 0.0], vec![0.0, -5e200]]);
    assert_eq!(e, [-5e200, 3e200]);
    let e = symmetric_eigenvalues(&[vec![0.1, 0.0], vec![0.0, 7.0]]);
    assert_eq!(e, [0.1, 7.0]);
    // [[2, 1], [1, 2]]·2⁻⁶⁰⁰: eigenvalues 2⁻⁶⁰⁰ and 3·2⁻⁶⁰⁰ (Jacobi is exact here)
    let s = 2f64.powi(-600);
    let e = symmetric_eigenvalues(&[vec![2.0 * s, s], vec![s, 2.0 * s]]);
    assert!(
        close(e[0], s, 1e-15) && close(e[1], 3.0 * s, 1e-15),
        "{e:?}"
    );
    assert_eq!(symmetric_eigenvalues(&[vec![0.0]]), [0.0]);
    // a matrix with an infinite entry is not scaled (dividing by 2¹⁰⁰⁰ would flush 1e-300
    // to 0)
    let e = symmetric_eigenvalues(&[vec![f64::INFINITY, 0.0], vec![0.0, 1e-300]]);
    assert_eq!(e, [1e-300, f64::INFINITY]);
}

// ---------------------------------------------------------------------------- gradgradcheck

/// sin, its derivative lifted from a plain number.
struct LiftedSin;

impl UnaryFn for LiftedSin {
    fn name(&self) -> &str {
        "lifted_sin"
    }
    fn value(&self, x: f64) -> f64 {
        x.sin()
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(x.value().cos())
    }
}

#[test]
fn gradgradcheck_reports_a_lifted_derivative_naming_the_op() {
    let report = gradgradcheck(
        |g, x| g.custom(LiftedSin).apply(x[0]) * x[1],
        &[0.7, 2.0],
        Tolerance::default(),
    );
    assert!(!report.passed());
    let failure = report.failure.as_deref().expect("a failure");
    assert!(failure.contains("custom op `lifted_sin`"), "{failure}");
    assert_eq!(report.value, 0.7f64.sin() * 2.0);
    assert!(report.inputs.is_empty());
    assert_eq!(report.evaluations, 0);
    let shown = report.to_string();
    assert!(
        shown.contains("FAILED") && shown.contains("lifted_sin"),
        "{shown}"
    );
    // a sound function still passes, with no failure
    let ok = gradgradcheck(|_, x| x[0].sin() * x[1], &[0.7, 2.0], Tolerance::default());
    assert!(ok.passed() && ok.failure.is_none(), "{ok}");
    assert_eq!(ok.inputs.len(), 4);
}

// ---------------------------------------------------------------------------- loaders

#[cfg(feature = "safetensors")]
mod tensor_files {
    use scalargrad::nn::safetensors::{to_bytes, Tensor};
    use scalargrad::nn::{Activation, MlpSpec};

    fn one_weight() -> Tensor {
        Tensor {
            shape: vec![1, 1],
            values: vec![0.5],
        }
    }

    #[test]
    fn two_million_activations_give_a_short_message() {
        let names = vec!["relu"; 2_000_000].join(",");
        let w = one_weight();
        let bytes = to_bytes(&[("0.weight", &w)], &[("activations", &names)]).unwrap();
        let err = MlpSpec::from_safetensors_as(&bytes, &[Activation::Relu]).unwrap_err();
        let m = err.to_string();
        // before: 12 MB, every one of the 2,000,000 named
        assert_eq!(
            m,
            "bad tensor file: the file's activations are [Relu, Relu, Relu, Relu, Relu] and \
             1999995 more, expected [Relu]"
        );
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad tensor file: tensor 0.bias is missing (the file has [])"
        );
    }

    #[test]
    fn many_or_long_tensor_names_give_a_short_message() {
        let w = one_weight();
        let names: Vec<String> = (0..1000).map(|i| format!("extra.{i:04}")).collect();
        let mut tensors: Vec<(&str, &Tensor)> = names.iter().map(|n| (n.as_str(), &w)).collect();
        tensors.push(("0.weight", &w));
        let bytes = to_bytes(&tensors, &[("activations", "linear"), ("biases", "false")]).unwrap();
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad tensor file: the file has tensors the network does not: [\"extra.0000\", \
             \"extra.0001\", \"extra.0002\", \"extra.0003\", \"extra.0004\"] and 995 more"
        );
        let long = "x".repeat(100_000);
        let bytes = to_bytes(&[(long.as_str(), &w)], &[("activations", "linear")]).unwrap();
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        let quoted = format!("[\"{}\"… (99936 more bytes)]", "x".repeat(64));
        assert_eq!(
            err,
            format!(
                "bad tensor file: tensor 0.weight (layer 0) is missing (the file has {quoted})"
            )
        );
        let bytes = to_bytes(&[("0.weight", &w)], &[("activations", &long)]).unwrap();
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("unknown activation \"xxxx") && err.len() < 250,
            "{err}"
        );
        let bytes = to_bytes(
            &[("0.weight", &w)],
            &[("activations", "relu"), ("biases", &long)],
        )
        .unwrap();
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("(99936 more bytes), expected true or false"),
            "{err}"
        );
    }

    #[test]
    fn a_nan_weight_in_a_tensor_file_loads_as_that_nan() {
        // found by the safetensors_mlp fuzz target: the loader keeps a file's NaN bit for
        // bit (the target's own `==` on specs had called the round trip different)
        let nan = f64::from_bits(0x7ff8_0000_dead_beef);
        let w = Tensor {
            shape: vec![1, 2],
            values: vec![nan, 2.0],
        };
        let bytes = to_bytes(
            &[("0.weight", &w)],
            &[("activations", "linear"), ("biases", "false")],
        )
        .unwrap();
        let spec = MlpSpec::from_safetensors(&bytes).unwrap();
        assert_eq!(spec.layers[0].weights[0][0].to_bits(), nan.to_bits());
        let again = MlpSpec::from_safetensors(&spec.to_safetensors().unwrap()).unwrap();
        assert_eq!(again.parameters()[0].to_bits(), nan.to_bits());
        assert!(spec.predict(&[1.0, 1.0])[0].is_nan());
    }

    #[test]
    fn a_shape_of_many_dimensions_gives_a_short_message() {
        let t = Tensor {
            shape: vec![1; 10_000],
            values: vec![0.5],
        };
        let bytes = to_bytes(&[("0.weight", &t)], &[("activations", "linear")]).unwrap();
        let err = MlpSpec::from_safetensors(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad tensor file: tensor 0.weight has shape [1, 1, 1, 1, 1] and 9995 more, \
             expected [out, in] with both > 0"
        );
    }
}

#[cfg(feature = "serde")]
mod json_files {
    use super::*;
    use scalargrad::nn::MlpSpec;

    #[test]
    fn a_megabyte_key_gives_a_short_message_with_its_position() {
        let key = "k".repeat(1 << 20);
        let json = format!("{{\"nin\": 1, \"{key}\": 0, \"layers\": []}}");
        let err = MlpSpec::from_json(&json).unwrap_err();
        assert!(matches!(err, Error::Json(_)), "{err:?}");
        let m = err.to_string();
        assert!(
            m.starts_with("bad network JSON: unknown field `kkkk"),
            "{m}"
        );
        let column = 12 + key.len() + 1; // serde_json points just past the key
        assert!(
            m.ends_with(&format!("more bytes) at line 1 column {column}")),
            "{}",
            &m[m.len() - 80..]
        );
        assert!(m.len() < 256 + 80, "{} bytes", m.len());
        // a short message is kept whole, with serde_json's own position
        let err = MlpSpec::from_json("{\"nin\": 1, \"x\": 0}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("bad network JSON: unknown field `x`, expected"),
            "{err}"
        );
        assert!(err.ends_with("at line 1 column 14"), "{err}");
    }

    /// The message of `MlpSpec::from_json` for an unknown key of `len` copies of `c`.
    fn unknown_key_message(c: char, len: usize) -> String {
        let key: String = std::iter::repeat_n(c, len).collect();
        let json = format!("{{\"{key}\": 0}}");
        let m = MlpSpec::from_json(&json).unwrap_err().to_string();
        m.strip_prefix("bad network JSON: ").unwrap().to_owned()
    }

    #[test]
    fn a_json_message_is_cut_after_exactly_256_bytes() {
        // serde_json's message grows a byte with each byte of the key: find the key whose
        // message is 256 bytes (kept whole) and the next (cut, 1 byte left out)
        let len = (150..300)
            .find(|&n| unknown_key_message('k', n).len() >= 256)
            .unwrap();
        let whole = unknown_key_message('k', len);
        assert_eq!(whole.len(), 256, "{whole}");
        assert!(
            whole.ends_with(&format!("at line 1 column {}", len + 3)),
            "{whole}"
        );
        assert!(!whole.contains('…'));
        let cut = unknown_key_message('k', len + 1);
        assert!(cut.contains("… (1 more bytes) at line 1 column"), "{cut}");
        assert_eq!(&cut[..256], &unknown_key_message('k', len + 1)[..256]);
        // a cut inside a two-byte character falls back to the character's start: the
        // key's bytes start at 15 ("unknown field `"), so 255 is a boundary and 256 is not
        let m = unknown_key_message('é', 200);
        assert!(m.starts_with("unknown field `éé"), "{m}");
        let kept = m.split('…').next().unwrap();
        assert_eq!(kept.len(), 255);
    }

    #[test]
    fn weight_rows_are_read_at_their_exact_length() {
        let json = r#"{"nin": 1, "layers": [
            {"activation": "relu", "weights": [[0.5], [-1.0], [2.0]], "biases": [0, 0, 1]},
            {"activation": "linear", "weights": [[1.0, 2.0, 3.0]]}]}"#;
        let spec = MlpSpec::from_json(json).unwrap();
        assert_eq!(spec.layers[0].weights, [[0.5], [-1.0], [2.0]]);
        assert_eq!(spec.layers[1].weights, [[1.0, 2.0, 3.0]]);
        for layer in &spec.layers {
            for row in &layer.weights {
                assert_eq!(row.capacity(), row.len());
            }
        }
        // relu(0.5)·1 + relu(−1)·2 + relu(2 + 1)·3 at x = 1
        assert_eq!(spec.predict(&[1.0]), [0.5 + 0.0 + 9.0]);
        let err =
            MlpSpec::from_json(r#"{"nin": 1, "layers": [{"activation": "relu", "weights": [1]}]}"#)
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("expected a list of numbers (one neuron's weights)"),
            "{err}"
        );
        let err =
            MlpSpec::from_json(r#"{"nin": 1, "layers": [{"activation": "relu", "weights": 1}]}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("expected a list of weight rows"), "{err}");
    }
}
