//! The `nn` module against independent references: forward passes computed by hand and
//! printed by the seeds, parameter order, seeded initialisation, every loss against its
//! closed form and against finite differences, every optimizer's first steps by formula,
//! and bit-exact JSON round trips.

use scalargrad::check::{gradcheck, Tolerance};
use scalargrad::nn::optim::{Adam, LinearDecay, Momentum, Optimizer, Schedule, Sgd};
use scalargrad::nn::{
    loss, train_step, zero_grad, Activation, Error, Fusion, Init, Layer, LayerSpec, Mlp, MlpConfig,
    MlpSpec, Neuron,
};
use scalargrad::Graph;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn values(vs: &[scalargrad::Var<'_>]) -> Vec<f64> {
    vs.iter().map(|v| v.value()).collect()
}

/// Seed 001's 2-2-2 sigmoid network without biases (rows = per-neuron weights).
fn seed_001_spec() -> MlpSpec {
    let layer = |w: [[f64; 2]; 2]| LayerSpec {
        activation: Activation::Sigmoid,
        weights: w.iter().map(|r| r.to_vec()).collect(),
        biases: None,
    };
    MlpSpec {
        nin: 2,
        layers: vec![
            layer([[0.7, 0.3], [0.2, 0.4]]),
            layer([[0.1, 0.5], [0.8, 0.4]]),
        ],
    }
}

// ---------------------------------------------------------------- forward

#[test]
fn forward_matches_seed_001_printed_values() {
    let g = Graph::new();
    let mlp = Mlp::from_spec(&g, &seed_001_spec()).unwrap();
    let x = [g.constant(2.0), g.constant(4.0)];
    let t = mlp.forward(&x);
    // hand computation: g = W1·x, h = σ(g), z = W2·h, t = σ(z)
    let (g0, g1) = (0.7 * 2.0 + 0.3 * 4.0, 0.2 * 2.0 + 0.4 * 4.0);
    let (h0, h1) = (sigmoid(g0), sigmoid(g1));
    let (z0, z1) = (0.1 * h0 + 0.5 * h1, 0.8 * h0 + 0.4 * h1);
    assert!(close(t[0].value(), sigmoid(z0), 1e-15));
    assert!(close(t[1].value(), sigmoid(z1), 1e-15));
    // the seed's printed numbers (8 decimals)
    assert!((h0 - 0.93086158).abs() < 5e-9 && (h1 - 0.88079708).abs() < 5e-9);
    assert!((z0 - 0.5334847).abs() < 5e-8 && (z1 - 1.09700809).abs() < 5e-9);
    assert!((t[0].value() - 0.63029549).abs() < 5e-9);
    assert!((t[1].value() - 0.74969909).abs() < 5e-9);
}

#[test]
fn one_training_step_reproduces_seed_000() {
    // seed 000: x·W1 + b1 with x a row vector, so neuron j's weights are column j of W1;
    // sigmoid on both layers, MSE over the two outputs, gradient descent with lr 0.1. The
    // seed prints the prediction and loss after step 0's update; its gradients were central
    // differences (h = 1e-4), ours are exact, hence the 1e-9 tolerance.
    let layer = |w: [[f64; 2]; 2], b: [f64; 2]| LayerSpec {
        activation: Activation::Sigmoid,
        weights: vec![vec![w[0][0], w[1][0]], vec![w[0][1], w[1][1]]],
        biases: Some(b.to_vec()),
    };
    let spec = MlpSpec {
        nin: 2,
        layers: vec![
            layer([[0.1, 0.2], [0.3, 0.1]], [0.1, 0.2]),
            layer([[0.4, 0.5], [0.1, 0.3]], [0.3, 0.4]),
        ],
    };
    let g = Graph::new();
    let mlp = Mlp::from_spec(&g, &spec).unwrap();
    let x = [g.constant(0.5), g.constant(0.8)];
    let params = mlp.parameters();
    let mut opt = Sgd::new(0.1);
    train_step(&g, &params, &mut opt, || {
        loss::mse(&mlp.forward(&x), &[0.2, 0.1])
    });
    let after = g.scope(|| loss::mse(&mlp.forward(&x), &[0.2, 0.1]).value());
    let y = mlp.predict(&[0.5, 0.8]);
    assert!(
        (y[0] - 0.64106615).abs() < 5e-9 && (y[1] - 0.70142718).abs() < 5e-9,
        "{y:?}"
    );
    assert!(close(after, 0.27812700471578844, 1e-9), "{after}");
}

#[test]
fn forward_of_relu_linear_network_by_hand() {
    // 2 → 2 (ReLU) → 1 (linear), small exact numbers
    let g = Graph::new();
    let spec = MlpSpec {
        nin: 2,
        layers: vec![
            LayerSpec {
                activation: Activation::Relu,
                weights: vec![vec![1.0, -2.0], vec![0.5, 0.25]],
                biases: Some(vec![0.5, -1.0]),
            },
            LayerSpec {
                activation: Activation::Linear,
                weights: vec![vec![2.0, -4.0]],
                biases: Some(vec![0.125]),
            },
        ],
    };
    let mlp = Mlp::from_spec(&g, &spec).unwrap();
    // x = (3, 1): h0 = relu(0.5 + 3 − 2) = 1.5, h1 = relu(−1 + 1.5 + 0.25) = 0.75
    // y = 0.125 + 3 − 3 = 0.125
    let y = mlp.forward(&[g.constant(3.0), g.constant(1.0)]);
    assert_eq!(y.len(), 1);
    assert_eq!(y[0].value(), 0.125);
    // x = (0, 1): h0 = relu(0.5 − 2) = 0, h1 = relu(−1 + 0.25) = 0 → y = b
    assert_eq!(mlp.predict(&[0.0, 1.0]), [0.125]);
    // gradients by hand at x = (3, 1): ∂y/∂w2 = h, ∂y/∂b2 = 1, ∂y/∂w1[0] = 2·x
    y[0].backward();
    let p = mlp.parameters();
    let grads: Vec<f64> = p.iter().map(|v| v.grad()).collect();
    assert_eq!(
        grads,
        [
            6.0, 2.0, 2.0, // neuron 0 of layer 0: 2·(3, 1), 2
            -12.0, -4.0, -4.0, // neuron 1: −4·(3, 1), −4
            1.5, 0.75, 1.0, // output neuron: h, 1
        ]
    );
}

#[test]
fn every_activation_matches_its_formula() {
    let g = Graph::new();
    for (act, f) in [
        (Activation::Linear, (|z: f64| z) as fn(f64) -> f64),
        (Activation::Relu, |z: f64| z.max(0.0)),
        (Activation::Sigmoid, sigmoid),
        (Activation::Tanh, f64::tanh),
    ] {
        let n = Neuron::new(&g, &[0.3, -0.7], Some(0.1), act);
        for x in [[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0]] {
            let z = 0.1 + 0.3 * x[0] + -0.7 * x[1];
            let y = n.forward(&[g.constant(x[0]), g.constant(x[1])]).value();
            assert!(close(y, f(z), 1e-15), "{act:?} at {x:?}: {y} vs {}", f(z));
            assert_eq!(n.predict(&x), y);
        }
    }
}

#[test]
fn fused_and_elementwise_paths_are_bit_identical() {
    let g = Graph::new();
    let fused = Mlp::new(
        &g,
        3,
        &[7, 5, 2],
        MlpConfig::new(11).hidden(Activation::Tanh),
    );
    let h = Graph::new();
    let chain = Mlp::from_spec(&h, &fused.to_spec())
        .unwrap()
        .with_fusion(Fusion::Elementwise);
    let xs = [[0.3, -1.2, 2.5], [1.0, 0.0, -0.5], [-2.0, 0.7, 0.1]];
    let targets = [0.5, -0.25, 1.0, 0.0, -1.0, 0.75];
    let run = |g: &Graph, mlp: &Mlp<'_>| {
        let mut outs = Vec::new();
        for x in &xs {
            let xv: Vec<_> = x.iter().map(|&v| g.constant(v)).collect();
            outs.extend(mlp.forward(&xv));
        }
        let l = loss::mse(&outs, &targets);
        l.backward();
        let grads: Vec<u64> = mlp
            .parameters()
            .iter()
            .map(|p| p.grad().to_bits())
            .collect();
        (l.value().to_bits(), grads, g.len())
    };
    let (la, ga, na) = run(&g, &fused);
    let (lb, gb, nb) = run(&h, &chain);
    assert_eq!(la, lb);
    assert_eq!(ga, gb);
    assert!(
        nb > na,
        "the element chain records more nodes ({nb} vs {na})"
    );
}

// ---------------------------------------------------------------- structure

#[test]
fn parameters_come_in_micrograd_order() {
    // layer by layer, neuron by neuron, w_0..w_{nin-1}, b: number them 0, 1, 2, …
    let mut next = 0.0;
    let mut count = || {
        next += 1.0;
        next - 1.0
    };
    let mut layers = Vec::new();
    let mut nin = 3;
    for nout in [4, 2, 1] {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for _ in 0..nout {
            weights.push((0..nin).map(|_| count()).collect());
            biases.push(count());
        }
        layers.push(LayerSpec {
            activation: Activation::Relu,
            weights,
            biases: Some(biases),
        });
        nin = nout;
    }
    let spec = MlpSpec { nin: 3, layers };
    let g = Graph::new();
    let mlp = Mlp::from_spec(&g, &spec).unwrap();
    let n = 4 * 4 + 2 * 5 + 3;
    let expected: Vec<f64> = (0..n).map(|i| i as f64).collect();
    assert_eq!(values(&mlp.parameters()), expected);
    assert_eq!(mlp.parameter_values(), expected);
    assert_eq!(spec.parameters(), expected);
    assert_eq!(spec.parameter_count(), n);
    assert_eq!(mlp.sizes(), [3, 4, 2, 1]);
    // every parameter is a tracked leaf, created in that order
    assert!(mlp.parameters().iter().all(|p| p.is_tracked()));
    assert_eq!(g.len(), n);
}

#[test]
fn display_summarises_like_micrograd() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[16, 16, 1], MlpConfig::new(0));
    assert_eq!(
        mlp.to_string(),
        "MLP of [Layer of [ReLUNeuron(2) × 16], Layer of [ReLUNeuron(16) × 16], \
         Layer of [LinearNeuron(16)]]"
    );
    let debug = format!("{mlp:?}");
    assert!(debug.contains("sizes: [2, 16, 16, 1]") && debug.contains("parameters: 337"));
    let seed001 = Mlp::from_spec(&g, &seed_001_spec()).unwrap();
    assert_eq!(
        seed001.to_string(),
        "MLP of [Layer of [SigmoidNeuron(2, no bias) × 2], Layer of [SigmoidNeuron(2, no bias) × 2]]"
    );
    let mixed = Layer::new(vec![
        Neuron::new(&g, &[1.0], Some(0.0), Activation::Tanh),
        Neuron::new(&g, &[1.0], Some(0.0), Activation::Relu),
        Neuron::new(&g, &[1.0], Some(0.0), Activation::Relu),
    ]);
    assert_eq!(
        mixed.to_string(),
        "Layer of [TanhNeuron(1), ReLUNeuron(1) × 2]"
    );
}

#[test]
fn explicit_weights_read_back_exactly() {
    let g = Graph::new();
    let spec = seed_001_spec();
    let mlp = Mlp::from_spec(&g, &spec).unwrap();
    assert_eq!(mlp.to_spec(), spec);
    assert_eq!(values(mlp.layers()[1].neurons()[0].weights()), [0.1, 0.5]);
    mlp.set_parameter_values(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(
        mlp.to_spec().layers[1].weights,
        vec![vec![5.0, 6.0], vec![7.0, 8.0]]
    );
}

#[test]
fn bad_shapes_are_errors_that_name_the_place() {
    let g = Graph::new();
    let mut spec = seed_001_spec();
    spec.layers[1].weights[1].push(0.0);
    let err = Mlp::from_spec(&g, &spec).unwrap_err();
    assert!(matches!(err, Error::Shape(_)));
    assert_eq!(
        err.to_string(),
        "bad network shape: layer 1, neuron 1 has 3 weights but 2 inputs"
    );
    let mut spec = seed_001_spec();
    spec.layers[0].biases = Some(vec![0.0]);
    assert!(Mlp::from_spec(&g, &spec)
        .unwrap_err()
        .to_string()
        .contains("layer 0 has 1 biases for 2 neurons"));
}

#[test]
#[should_panic(expected = "a neuron with 2 weights was given 3 inputs")]
fn wrong_input_count_panics_with_a_sentence() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[1], MlpConfig::new(0));
    mlp.forward(&[g.constant(1.0), g.constant(2.0), g.constant(3.0)]);
}

#[test]
fn zero_grad_clears_only_the_parameters() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 1, &[2, 1], MlpConfig::new(4));
    let other = g.var(2.0);
    let y = mlp.forward(&[g.constant(0.5)])[0] * other;
    y.backward();
    assert!(mlp.parameters().iter().any(|p| p.grad() != 0.0));
    let before = other.grad();
    mlp.zero_grad();
    assert!(mlp.parameters().iter().all(|p| p.grad() == 0.0));
    assert_eq!(other.grad(), before);
    zero_grad(&[other]);
    assert_eq!(other.grad(), 0.0);
}

// ---------------------------------------------------------------- initialisation

#[test]
fn init_is_deterministic_by_seed() {
    let g = Graph::new();
    let make =
        |seed, init| Mlp::new(&g, 4, &[8, 3], MlpConfig::new(seed).init(init)).parameter_values();
    for init in [Init::Uniform, Init::He, Init::Xavier] {
        assert_eq!(make(1, init), make(1, init), "{init:?}");
        assert_ne!(make(1, init), make(2, init), "{init:?}");
    }
    // a fixed seed gives the same numbers in every graph, independent of what else exists
    let h = Graph::new();
    h.var(123.0);
    assert_eq!(
        Mlp::new(&h, 4, &[8, 3], MlpConfig::new(1)).parameter_values(),
        make(1, Init::Uniform)
    );
}

#[test]
fn init_distributions_stay_in_bounds_and_fill_them() {
    let g = Graph::new();
    for (init, nin, nout) in [
        (Init::Uniform, 50, 200),
        (Init::He, 50, 200),
        (Init::Xavier, 50, 200),
    ] {
        let mlp = Mlp::new(&g, nin, &[nout], MlpConfig::new(99).init(init));
        let a = init.bound(nin, nout);
        let expected = match init {
            Init::Uniform => 1.0,
            Init::He => (6.0 / 50.0f64).sqrt(),
            Init::Xavier => (6.0 / 250.0f64).sqrt(),
        };
        assert!(close(a, expected, 1e-15));
        let neuron = &mlp.layers()[0].neurons()[0];
        assert_eq!(neuron.bias().unwrap().value(), 0.0);
        let w: Vec<f64> = mlp.layers()[0]
            .neurons()
            .iter()
            .flat_map(|n| n.weights().iter().map(|w| w.value()))
            .collect();
        assert_eq!(w.len(), 10_000);
        assert!(
            w.iter().all(|v| v.abs() <= a),
            "{init:?} out of [−{a}, {a}]"
        );
        // U[−a, a]: mean 0, variance a²/3; with 10,000 draws the sample mean's standard
        // error is a/173 and the variance's about 0.9%: allow 5 standard errors.
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / w.len() as f64;
        assert!(mean.abs() < 5.0 * a / 173.0, "{init:?} mean {mean}");
        assert!(
            (var / (a * a / 3.0) - 1.0).abs() < 0.045,
            "{init:?} variance {var}"
        );
        let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max > 0.99 * a, "{init:?} does not reach its bound");
    }
}

#[test]
fn config_chooses_hidden_and_output_activations() {
    let g = Graph::new();
    let mlp = Mlp::new(
        &g,
        2,
        &[3, 3, 1],
        MlpConfig::new(0)
            .hidden(Activation::Tanh)
            .output(Activation::Sigmoid),
    );
    let acts: Vec<_> = mlp
        .layers()
        .iter()
        .map(|l| l.neurons()[0].activation())
        .collect();
    assert_eq!(
        acts,
        [Activation::Tanh, Activation::Tanh, Activation::Sigmoid]
    );
    let micrograd = Mlp::new(&g, 2, &[3, 3, 1], MlpConfig::new(0));
    let acts: Vec<_> = micrograd
        .layers()
        .iter()
        .map(|l| l.neurons()[0].activation())
        .collect();
    assert_eq!(
        acts,
        [Activation::Relu, Activation::Relu, Activation::Linear]
    );
}

// ---------------------------------------------------------------- losses

#[test]
fn mse_value_and_gradient() {
    let (p, t) = ([0.3, -1.2, 2.0], [0.5, -1.0, 1.0]);
    let g = Graph::new();
    let pv: Vec<_> = p.iter().map(|&v| g.var(v)).collect();
    let l = loss::mse(&pv, &t);
    l.backward();
    let expected: f64 = p
        .iter()
        .zip(&t)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / 3.0;
    assert!(close(l.value(), expected, 1e-15));
    for i in 0..3 {
        assert!(close(pv[i].grad(), 2.0 * (p[i] - t[i]) / 3.0, 1e-15));
    }
    let report = gradcheck(
        |_, x| loss::mse(x, &[0.5, -1.0, 1.0]),
        &p,
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
}

#[test]
fn half_sse_value_and_gradient() {
    let (p, t) = ([0.63029549, 0.74969909], [0.8, 0.4]);
    let g = Graph::new();
    let pv: Vec<_> = p.iter().map(|&v| g.var(v)).collect();
    let l = loss::half_sse(&pv, &t);
    l.backward();
    let expected = 0.5 * ((p[0] - t[0]).powi(2) + (p[1] - t[1]).powi(2));
    assert!(close(l.value(), expected, 1e-15));
    assert!(close(pv[0].grad(), p[0] - t[0], 1e-15));
    assert!(close(pv[1].grad(), p[1] - t[1], 1e-15));
    let report = gradcheck(
        |_, x| loss::half_sse(x, &[0.8, 0.4]),
        &p,
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
}

#[test]
fn bce_with_logits_value_and_gradient() {
    let z = [2.0, -0.5, 0.7, -3.0, 0.0];
    let y = [1.0, 0.0, 0.0, 1.0, 1.0];
    let g = Graph::new();
    let zv: Vec<_> = z.iter().map(|&v| g.var(v)).collect();
    let l = loss::bce_with_logits(&zv, &y);
    l.backward();
    let n = z.len() as f64;
    let expected: f64 = z
        .iter()
        .zip(&y)
        .map(|(&z, &y)| -y * sigmoid(z).ln() - (1.0 - y) * (1.0 - sigmoid(z)).ln())
        .sum::<f64>()
        / n;
    assert!(
        close(l.value(), expected, 1e-14),
        "{} vs {expected}",
        l.value()
    );
    for i in 0..z.len() {
        // (σ(z) − y)/n, including z = 0 where both kinks of the formula meet
        assert!(
            close(zv[i].grad(), (sigmoid(z[i]) - y[i]) / n, 1e-15),
            "z = {}",
            z[i]
        );
    }
    let report = gradcheck(
        |_, x| loss::bce_with_logits(x, &[1.0, 0.0, 0.0, 1.0, 1.0]),
        &z,
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
}

#[test]
fn bce_with_logits_is_stable_at_extreme_logits() {
    let g = Graph::new();
    let z = [g.var(800.0), g.var(-800.0), g.var(800.0), g.var(-800.0)];
    let l = loss::bce_with_logits(&z, &[1.0, 0.0, 0.0, 1.0]);
    l.backward();
    // right answers cost 0, wrong ones cost |z|: (0 + 0 + 800 + 800) / 4
    assert_eq!(l.value(), 400.0);
    let grads: Vec<f64> = z.iter().map(|v| v.grad()).collect();
    assert_eq!(grads, [0.0, 0.0, 0.25, -0.25]);
}

#[test]
fn bce_from_probabilities_value_and_gradient() {
    let p = [0.9, 0.2, 0.6, 0.35];
    let y = [1.0, 0.0, 0.3, 1.0];
    let g = Graph::new();
    let pv: Vec<_> = p.iter().map(|&v| g.var(v)).collect();
    let l = loss::bce(&pv, &y);
    l.backward();
    let n = p.len() as f64;
    let expected: f64 = p
        .iter()
        .zip(&y)
        .map(|(&p, &y)| -(y * p.ln() + (1.0 - y) * (1.0 - p).ln()))
        .sum::<f64>()
        / n;
    assert!(close(l.value(), expected, 1e-15));
    for i in 0..p.len() {
        let d = (p[i] - y[i]) / (n * p[i] * (1.0 - p[i]));
        assert!(close(pv[i].grad(), d, 1e-14), "{} vs {d}", pv[i].grad());
    }
    let report = gradcheck(
        |_, x| loss::bce(x, &[1.0, 0.0, 0.3, 1.0]),
        &p,
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
    // a certain, right prediction costs exactly 0 (no 0·ln 0)
    let one = g.var(1.0);
    assert_eq!(loss::bce(&[one], &[1.0]).value(), 0.0);
}

#[test]
fn bce_agrees_with_bce_with_logits_through_a_sigmoid() {
    let z = [1.3, -0.4, 2.2];
    let y = [1.0, 0.0, 1.0];
    let a = scalargrad::check::gradient(|_, x| loss::bce_with_logits(x, &[1.0, 0.0, 1.0]), &z);
    let b = scalargrad::check::gradient(
        |_, x| {
            let p: Vec<_> = x.iter().map(|v| v.sigmoid()).collect();
            loss::bce(&p, &[1.0, 0.0, 1.0])
        },
        &z,
    );
    assert!(close(a.0, b.0, 1e-14));
    for i in 0..3 {
        assert!(close(a.1[i], b.1[i], 1e-14));
        assert!(close(a.1[i], (sigmoid(z[i]) - y[i]) / 3.0, 1e-14));
    }
}

#[test]
fn hinge_value_and_gradient() {
    let s = [0.5, -2.0, 0.2, 3.0, -0.1];
    let y = [1.0, -1.0, -1.0, 1.0, 1.0];
    let g = Graph::new();
    let sv: Vec<_> = s.iter().map(|&v| g.var(v)).collect();
    let l = loss::hinge(&sv, &y);
    l.backward();
    // margins 1 − y·s: 0.5, −1, 1.2, −2, 1.1
    let expected = (0.5 + 0.0 + 1.2 + 0.0 + 1.1) / 5.0;
    assert!(close(l.value(), expected, 1e-15));
    let grads: Vec<f64> = sv.iter().map(|v| v.grad()).collect();
    assert_eq!(grads, [-0.2, 0.0, 0.2, 0.0, -0.2]);
    let report = gradcheck(
        |_, x| loss::hinge(x, &[1.0, -1.0, -1.0, 1.0, 1.0]),
        &s,
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
}

#[test]
fn l2_value_and_gradient() {
    let p = [0.5, -1.5, 2.0];
    let g = Graph::new();
    let pv: Vec<_> = p.iter().map(|&v| g.var(v)).collect();
    let l = loss::l2(&pv, 1e-4);
    l.backward();
    assert!(close(l.value(), 1e-4 * (0.25 + 2.25 + 4.0), 1e-15));
    for i in 0..3 {
        assert!(close(pv[i].grad(), 2e-4 * p[i], 1e-15));
    }
    let report = gradcheck(|_, x| loss::l2(x, 0.3), &p, Tolerance::default());
    assert!(report.passed(), "{report}");
}

#[test]
fn losses_differentiate_twice() {
    // d²/dz² of the logistic loss is σ(z)(1 − σ(z))/n
    let g = Graph::new();
    let z = g.var(0.8);
    let l = loss::bce_with_logits(&[z], &[1.0]);
    let d1 = g.grad(l, &[z])[0];
    let d2 = g.grad(d1, &[z])[0];
    let s = sigmoid(0.8);
    assert!(close(d1.value(), s - 1.0, 1e-15));
    assert!(close(d2.value(), s * (1.0 - s), 1e-15));
}

#[test]
#[should_panic(expected = "mse of 2 predictions and 3 targets")]
fn loss_length_mismatch_panics() {
    let g = Graph::new();
    loss::mse(&[g.var(1.0), g.var(2.0)], &[1.0, 2.0, 3.0]);
}

// ---------------------------------------------------------------- optimizers

/// Runs `steps` optimizer steps on f(w) = (w − 3)², gradient 2(w − 3), from w = 0.
fn quadratic<O: Optimizer>(mut opt: O, steps: usize) -> Vec<f64> {
    let g = Graph::new();
    let w = g.var(0.0);
    (0..steps)
        .map(|_| {
            train_step(&g, &[w], &mut opt, || (w - 3.0) * (w - 3.0));
            assert_eq!(g.len(), 1);
            w.value()
        })
        .collect()
}

#[test]
fn sgd_steps_by_hand() {
    let w = quadratic(Sgd::new(0.1), 2);
    let w1 = 0.0 - 0.1 * (2.0 * (0.0 - 3.0)); // 0.6
    let w2 = w1 - 0.1 * (2.0 * (w1 - 3.0)); // 1.08
    assert_eq!(w, [w1, w2]);
    assert!(close(w2, 1.08, 1e-15));
}

#[test]
fn sgd_schedules_micrograd_decay_and_closures() {
    let s = LinearDecay::micrograd();
    for k in 0..100 {
        // Python: 1.0 - 0.9*k/100
        assert_eq!(
            s.rate(k).to_bits(),
            (1.0 - 0.9 * k as f64 / 100.0).to_bits(),
            "k = {k}"
        );
    }
    let w = quadratic(Sgd::new(LinearDecay::micrograd()), 2);
    let w1 = 0.0 - 1.0 * (2.0 * (0.0 - 3.0)); // overshoots to 6
    let w2 = w1 - (1.0 - 0.9 * 1.0 / 100.0) * (2.0 * (w1 - 3.0));
    assert_eq!(w, [w1, w2]);
    let w = quadratic(Sgd::new(|k: usize| 0.1 / (k + 1) as f64), 2);
    let w1 = 0.0 - 0.1 * -6.0;
    assert_eq!(w, [w1, w1 - 0.05 * (2.0 * (w1 - 3.0))]);
    let mut opt = Sgd::new(0.5);
    assert_eq!((opt.steps(), opt.learning_rate()), (0, 0.5));
    let g = Graph::new();
    opt.step(&[g.var(1.0)]);
    assert_eq!(opt.steps(), 1);
}

#[test]
fn momentum_steps_by_hand() {
    let w = quadratic(Momentum::new(0.1, 0.9), 3);
    let (mut v, mut x) = (0.0, 0.0);
    let mut expected = Vec::new();
    for _ in 0..3 {
        v = 0.9 * v + 2.0 * (x - 3.0);
        x -= 0.1 * v;
        expected.push(x);
    }
    assert_eq!(w, expected);
    // by hand: v1 = −6, w1 = 0.6; v2 = −5.4 − 4.8 = −10.2, w2 = 1.62
    assert!(close(w[0], 0.6, 1e-15) && close(w[1], 1.62, 1e-15));
}

#[test]
fn adam_first_steps_by_formula() {
    let (lr, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8);
    let w = quadratic(Adam::new(lr), 3);
    // step 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε): almost exactly lr
    let g1 = -6.0f64;
    let w1 = 0.0 - lr * g1 / (g1.abs() + eps);
    assert!(close(w[0], w1, 1e-15));
    assert!(close(w[0], 0.1, 1e-8));
    // step 2 by the formula
    let g2 = 2.0 * (w1 - 3.0);
    let m2 = b1 * ((1.0 - b1) * g1) + (1.0 - b1) * g2;
    let v2 = b2 * ((1.0 - b2) * g1 * g1) + (1.0 - b2) * g2 * g2;
    let (mh, vh) = (m2 / (1.0 - b1 * b1), v2 / (1.0 - b2 * b2));
    let w2 = w1 - lr * mh / (vh.sqrt() + eps);
    assert!(close(w[1], w2, 1e-15), "{} vs {w2}", w[1]);
    assert!(w[2] > w[1] && w[1] > w[0]);
    let a = Adam::new(0.1).betas(0.5, 0.6).eps(1e-3);
    assert_eq!((a.beta(), a.epsilon()), ((0.5, 0.6), 1e-3));
}

#[test]
#[should_panic(expected = "stepped with 2 parameters before and 1 now")]
fn stateful_optimizer_rejects_a_different_parameter_list() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    let mut opt = Adam::new(0.1);
    opt.step(&[a, b]);
    opt.step(&[a]);
}

#[test]
fn training_reduces_the_loss_with_every_optimizer() {
    // y = x² on [−1, 1] with a small tanh network
    fn fit<O: Optimizer>(opt: O) -> (f64, f64) {
        let mut opt = opt;
        let g = Graph::new();
        let mlp = Mlp::new(&g, 1, &[8, 1], MlpConfig::new(3).hidden(Activation::Tanh));
        let xs: Vec<Vec<_>> = (0..9)
            .map(|i| vec![g.constant(i as f64 / 4.0 - 1.0)])
            .collect();
        let ys: Vec<f64> = (0..9).map(|i| (i as f64 / 4.0 - 1.0).powi(2)).collect();
        let params = mlp.parameters();
        let mut losses = (0..200).map(|_| {
            train_step(&g, &params, &mut opt, || {
                let pred: Vec<_> = xs.iter().map(|x| mlp.forward(x)[0]).collect();
                loss::mse(&pred, &ys)
            })
        });
        let first = losses.next().unwrap();
        (first, losses.last().unwrap())
    }
    for (name, (first, last)) in [
        ("sgd", fit(Sgd::new(0.05))),
        ("momentum", fit(Momentum::new(0.02, 0.9))),
        ("adam", fit(Adam::new(0.02))),
    ] {
        assert!(last < 0.2 * first, "{name}: {first} → {last}");
    }
}

// ---------------------------------------------------------------- save / load

#[cfg(feature = "serde")]
mod json {
    use super::*;

    fn trained_network(g: &Graph) -> Mlp<'_> {
        let mlp = Mlp::new(g, 2, &[5, 3, 1], MlpConfig::new(21).init(Init::He));
        let params = mlp.parameters();
        let mut opt = Adam::new(0.01);
        for k in 0..5 {
            let x = [g.constant(0.3 * k as f64), g.constant(-0.7)];
            train_step(g, &params, &mut opt, || {
                loss::bce_with_logits(&mlp.forward(&x), &[1.0])
            });
        }
        mlp
    }

    #[test]
    fn save_load_round_trip_is_bit_exact() {
        let g = Graph::new();
        let mlp = trained_network(&g);
        let json = mlp.to_json().unwrap();
        let h = Graph::new();
        let back = Mlp::from_json(&h, &json).unwrap();
        let bits = |m: &Mlp<'_>| -> Vec<u64> {
            m.parameter_values().iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&back), bits(&mlp));
        assert_eq!(back.to_spec(), mlp.to_spec());
        assert_eq!(back.to_string(), mlp.to_string());
        assert_eq!(
            back.predict(&[0.1, 0.2])[0].to_bits(),
            mlp.predict(&[0.1, 0.2])[0].to_bits()
        );
        // through a file
        let path =
            std::env::temp_dir().join(format!("scalargrad-nn-test-{}.json", std::process::id()));
        mlp.save(&path).unwrap();
        let loaded = Mlp::load(&h, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(bits(&loaded), bits(&mlp));
    }

    #[test]
    fn awkward_floats_survive_the_round_trip() {
        let awkward = [
            0.1 + 0.2,
            f64::MIN_POSITIVE / 3.0, // subnormal
            5e-324,
            f64::MAX,
            -0.0,
            1.0 / 3.0,
            -2.2250738585072014e-308,
            9007199254740993.0,
        ];
        let spec = MlpSpec {
            nin: 7,
            layers: vec![LayerSpec {
                activation: Activation::Linear,
                weights: vec![awkward[..7].to_vec()],
                biases: Some(vec![awkward[7]]),
            }],
        };
        let back = MlpSpec::from_json(&spec.to_json().unwrap()).unwrap();
        let bits =
            |s: &MlpSpec| -> Vec<u64> { s.parameters().iter().map(|v| v.to_bits()).collect() };
        assert_eq!(bits(&back), bits(&spec));
    }

    #[test]
    fn the_moons_init_file_loads_with_its_relu_flags() {
        let g = Graph::new();
        let mlp = Mlp::from_json(&g, scalargrad::nn::moons::INIT_JSON).unwrap();
        assert_eq!(mlp.sizes(), [2, 16, 16, 1]);
        assert_eq!(
            mlp.to_string(),
            "MLP of [Layer of [ReLUNeuron(2) × 16], Layer of [ReLUNeuron(16) × 16], \
             Layer of [LinearNeuron(16)]]"
        );
        // first numbers of the file, as written there
        assert_eq!(
            mlp.parameter_values()[..2],
            [0.23550571390294128, 0.06653114721000164]
        );
        let again = Mlp::from_json(&g, &mlp.to_json().unwrap()).unwrap();
        assert_eq!(again.parameter_values(), mlp.parameter_values());
    }

    #[test]
    fn json_errors_are_reported() {
        let g = Graph::new();
        let err = Mlp::from_json(&g, "{\"nin\": 2, \"layers\": [").unwrap_err();
        assert!(matches!(err, Error::Json(_)), "{err}");
        let err =
            Mlp::from_json(&g, r#"{"nin": 1, "layers": [{"weights": [[1.0]]}]}"#).unwrap_err();
        assert!(err.to_string().contains("no `activation`"), "{err}");
        let err = Mlp::from_json(
            &g,
            r#"{"nin": 1, "layers": [{"weights": [[1.0]], "activation": "tanh", "relu": true}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("disagree"), "{err}");
        let mlp = Mlp::new(&g, 1, &[1], MlpConfig::new(0));
        mlp.parameters()[1].set_value(f64::NAN);
        let err = mlp.to_json().unwrap_err();
        assert!(matches!(err, Error::NonFinite { index: 1, .. }), "{err}");
    }
}

#[cfg(feature = "serde")]
#[test]
fn a_misspelt_field_is_an_error_not_a_silent_default() {
    let good =
        r#"{"nin": 1, "layers": [{"weights": [[2.0]], "biases": [5.0], "activation": "linear"}]}"#;
    let spec = scalargrad::nn::MlpSpec::from_json(good).expect("valid spec");
    assert_eq!(spec.predict(&[1.0]), vec![7.0]);
    let typo = good.replace("\"biases\"", "\"bias\"");
    assert!(scalargrad::nn::MlpSpec::from_json(&typo).is_err());
    let extra = good.replace("\"nin\": 1", "\"nin\": 1, \"nni\": 2");
    assert!(scalargrad::nn::MlpSpec::from_json(&extra).is_err());
}

#[test]
fn optimizers_update_parameters_of_two_graphs_and_refuse_an_op_node() {
    // One step over the parameters of one graph (the tape borrowed once) equals the same
    // step over parameters spread over two graphs (one by one), for Sgd and Momentum.
    use scalargrad::nn::optim::{Momentum, Optimizer, Sgd};
    let step = |two: bool, opt: &mut dyn Optimizer| -> Vec<f64> {
        let (g1, g2) = (Graph::new(), Graph::new());
        let ps: Vec<scalargrad::Var> = [1.0, -2.0, 0.5]
            .iter()
            .enumerate()
            .map(|(i, &v)| if two && i == 1 { g2.var(v) } else { g1.var(v) })
            .collect();
        for _ in 0..2 {
            for p in &ps {
                p.graph().zero_grad();
            }
            for (k, p) in ps.iter().enumerate() {
                (*p * *p * (k as f64 + 1.0)).backward();
            }
            opt.step(&ps);
        }
        ps.iter().map(|p| p.value()).collect()
    };
    for two in [false, true] {
        // p ← p − 0.1 · 2(k+1)p, twice: p · (1 − 0.2(k+1))²
        let sgd = step(two, &mut Sgd::new(0.1));
        let want = [1.0 * 0.8 * 0.8, -2.0 * 0.6 * 0.6, 0.5 * 0.4 * 0.4];
        for (got, want) in sgd.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{two}: {sgd:?}");
        }
        assert_eq!(
            step(two, &mut Momentum::new(0.1, 0.9)),
            step(false, &mut Momentum::new(0.1, 0.9))
        );
    }
    let g = Graph::new();
    let w = g.var(1.0);
    let y = w * 2.0;
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Sgd::new(0.1).step(&[w, y]);
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("set_value on a `*` node"), "{msg}");
    assert_eq!(w.value(), 1.0); // w's gradient was 0: updated to the same value
}

#[test]
fn an_optimizer_updates_parameters_of_two_graphs_each_in_its_own() {
    // one list over two graphs: each parameter moved by its own gradient, in its own graph
    // (handles at the same position of two graphs are different nodes)
    let (g1, g2) = (Graph::new(), Graph::new());
    let (a, b) = (g1.var(1.0), g2.var(2.0));
    let (c, d) = (g1.var(10.0), g2.var(20.0));
    (a * 3.0).backward();
    (b * 5.0).backward();
    let mut sgd = Sgd::new(0.1);
    sgd.step(&[a, b]);
    assert_eq!((a.value(), b.value()), (1.0 - 0.1 * 3.0, 2.0 - 0.1 * 5.0));
    assert_eq!((c.value(), d.value()), (10.0, 20.0));
}
