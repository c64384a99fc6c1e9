//! A model that lives in a struct with its graph.
//!
//! Handles (`Var<'g>`) borrow their graph, so a struct cannot hold a `Graph` *and* handles
//! into it (`struct Trainer { graph, model: Mlp<'g> }` would borrow from itself, which Rust
//! rejects). The pattern that works: the struct owns the graph and the parameters **as plain
//! numbers**; each step binds the numbers to fresh leaves, records the loss, runs backward,
//! reads the gradients back into numbers, and clears the graph. Handles live only inside
//! `step`, so the struct is an ordinary owned value: it can be stored, returned, moved to
//! another thread (a `Graph` is `Send`).
//!
//! Binding costs one leaf per parameter per step, next to the thousands of nodes the
//! forward pass records anyway, and `Graph::clear` keeps the arena's memory for the next
//! step.
//!
//! Part 1 fits a line with a hand-written model; part 2 does the same with an `nn::Mlp`,
//! whose plain-number form is `MlpSpec` (`Mlp::from_spec` binds, `Mlp::to_spec` reads back).
//!
//! Run: `cargo run --example trainer`

use scalargrad::nn::{loss, Activation, LayerSpec, Mlp, MlpSpec};
use scalargrad::{Graph, Var};

/// y = w·x + b, parameters as numbers.
struct Line {
    w: f64,
    b: f64,
}

/// Owns its graph, its model and its data: no lifetime parameter.
struct Trainer {
    graph: Graph,
    model: Line,
    data: Vec<(f64, f64)>,
    learning_rate: f64,
}

impl Trainer {
    fn new(data: Vec<(f64, f64)>) -> Self {
        Trainer {
            graph: Graph::new(),
            model: Line { w: 0.0, b: 0.0 },
            data,
            learning_rate: 0.1,
        }
    }

    /// One step of gradient descent on the mean squared error; returns the loss.
    fn step(&mut self) -> f64 {
        let g = &self.graph;
        // bind: the numbers become leaves of this step's graph
        let (w, b) = (g.var(self.model.w), g.var(self.model.b));
        let errors: Vec<Var> = self
            .data
            .iter()
            .map(|&(x, y)| (w * x + b - y).pow(2))
            .collect();
        let loss = errors.iter().sum::<Var>() / self.data.len() as f64;
        loss.backward();
        // read back: only numbers leave the step
        self.model.w -= self.learning_rate * w.grad();
        self.model.b -= self.learning_rate * b.grad();
        let loss = loss.value();
        g.clear(); // the step's nodes go; the arena's memory stays for the next step
        loss
    }
}

/// The same with an `Mlp`: the trainer keeps its `MlpSpec` (weights as numbers).
struct MlpTrainer {
    graph: Graph,
    spec: MlpSpec,
    data: Vec<(f64, f64)>,
}

impl MlpTrainer {
    fn step(&mut self, learning_rate: f64) -> f64 {
        let g = &self.graph;
        let mlp = Mlp::from_spec(g, &self.spec).expect("the spec was checked when built");
        let inputs: Vec<Vec<Var>> = self
            .data
            .iter()
            .map(|&(x, _)| vec![g.constant(x)])
            .collect();
        let predictions: Vec<Var> = inputs.iter().map(|x| mlp.forward(x)[0]).collect();
        let targets: Vec<f64> = self.data.iter().map(|&(_, y)| y).collect();
        let loss = loss::mse(&predictions, &targets);
        loss.backward();
        for p in mlp.parameters() {
            p.set_value(p.value() - learning_rate * p.grad());
        }
        self.spec = mlp.to_spec();
        let loss = loss.value();
        g.clear();
        loss
    }
}

fn main() {
    // points on y = 2x − 1
    let data: Vec<(f64, f64)> = (0..8)
        .map(|i| {
            let x = f64::from(i) / 4.0;
            (x, 2.0 * x - 1.0)
        })
        .collect();

    println!("part 1: a hand-written line model, owned by its trainer");
    let mut trainer = Trainer::new(data.clone());
    // an owned value: it can even train on another thread and come back
    let trainer = std::thread::spawn(move || {
        for k in 0..=300 {
            let loss = trainer.step();
            if k % 100 == 0 {
                println!("  step {k:3}: loss {loss:.3e}");
            }
        }
        trainer
    })
    .join()
    .expect("the training thread finished");
    println!(
        "  fitted y = {:.6}·x {:+.6} (true: 2x − 1); {} nodes kept between steps",
        trainer.model.w,
        trainer.model.b,
        trainer.graph.len()
    );

    println!("part 2: an Mlp, owned as an MlpSpec");
    let linear = LayerSpec {
        activation: Activation::Linear,
        weights: vec![vec![0.5]],
        biases: Some(vec![0.0]),
    };
    let mut mlp_trainer = MlpTrainer {
        graph: Graph::new(),
        spec: MlpSpec {
            nin: 1,
            layers: vec![linear],
        },
        data,
    };
    for k in 0..=300 {
        let loss = mlp_trainer.step(0.1);
        if k % 100 == 0 {
            println!("  step {k:3}: loss {loss:.3e}");
        }
    }
    let layer = &mlp_trainer.spec.layers[0];
    println!(
        "  fitted y = {:.6}·x {:+.6} (true: 2x − 1)",
        layer.weights[0][0],
        layer.biases.as_ref().map_or(0.0, |b| b[0])
    );
}
