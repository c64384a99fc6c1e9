//! micrograd's demo, ready to run: the two-moons data, the initial network of
//! `data/moons_mlp_init.json`, the loss, and a training loop (`examples/moons.rs` and
//! the tests drive it).
//!
//! The problem (`benches/WORKLOADS.md`, W1): an `MLP(2, [16, 16, 1])` (ReLU, ReLU, linear)
//! classifies 100 points labelled ±1. The loss is micrograd's
//! `mean(relu(1 − y·score)) + 1e-4·Σ p²`, full batch; SGD with learning rate
//! `1 − 0.9·k/100` for 100 steps. From the file's initial weights the loss of step 0 is
//! micrograd's `0.8958441028683222` and that of step 99 `0.010978370135492719`, and the
//! network then classifies every point correctly.
//!
//! ```
//! use scalargrad::{nn::moons::{Demo, Start, LOSS_STEP_0}, Graph};
//!
//! let g = Graph::new();
//! let mut demo = Demo::new(&g, Start::InitFile);
//! let step = demo.step();
//! assert!((step.loss - LOSS_STEP_0).abs() <= 1e-12 * LOSS_STEP_0);
//! assert_eq!(g.len(), 337 + 200); // parameters and inputs; the step's nodes are freed
//! ```

use super::optim::{LinearDecay, Optimizer, Sgd};
use super::{loss, train_step, Dataset, Mlp, MlpConfig, MlpSpec};
use crate::{Graph, Var};

/// `data/moons.csv`: 100 rows `x1,x2,label` with labels ±1 (embedded in the library).
pub const CSV: &str = include_str!("../../data/moons.csv");

/// `data/moons_mlp_init.json`: micrograd's initial `MLP(2, [16, 16, 1])` (embedded).
pub const INIT_JSON: &str = include_str!("../../data/moons_mlp_init.json");

/// The number of inputs.
pub const NIN: usize = 2;

/// The layer sizes.
pub const SIZES: [usize; 3] = [16, 16, 1];

/// The L2 penalty weight `α`.
pub const ALPHA: f64 = 1e-4;

/// The number of training steps of the demo.
pub const STEPS: usize = 100;

/// Reads a `--steps` argument for the demo's schedule `1 − 0.9·k/100`
/// ([`LinearDecay::micrograd`]): a whole number of steps whose learning rates are all
/// positive, so at most 112 (the rate of step 112 is −0.008, and a negative rate climbs the
/// loss instead of descending it). 0 steps is accepted: no update at all.
/// `examples/moons.rs`, `threads.rs` and `mpi_moons.rs` pass it to clap as `value_parser`.
///
/// # Errors
/// A sentence naming the problem when `arg` is not a whole number (`-3`, `ten`), or when a
/// step's learning rate would be ≤ 0, with the largest count that works.
///
/// ```
/// use scalargrad::nn::moons::parse_steps;
/// assert_eq!(parse_steps("100"), Ok(100));
/// assert_eq!(parse_steps("112"), Ok(112));
/// assert!(parse_steps("113").unwrap_err().contains("use at most 112 steps"));
/// assert!(parse_steps("-3").unwrap_err().contains("not a whole number"));
/// ```
pub fn parse_steps(arg: &str) -> Result<usize, String> {
    use super::optim::Schedule;
    let steps: usize = arg
        .parse()
        .map_err(|_| format!("`{arg}` is not a whole number of steps"))?;
    let schedule = LinearDecay::micrograd();
    // the first step whose rate is ≤ 0: the search stops there, so even a huge count
    // costs at most 113 evaluations
    match (0..steps).find(|&k| schedule.rate(k) <= 0.0) {
        Some(k) => Err(format!(
            "{steps} steps would train with the learning rate 1 − 0.9·k/100 = {:.3} at step \
             {k} (it is ≤ 0 from step {k} on, and a negative rate climbs the loss); use at \
             most {k} steps",
            schedule.rate(k)
        )),
        None => Ok(steps),
    }
}

/// micrograd's total loss at step 0 (from the file's initial weights).
pub const LOSS_STEP_0: f64 = 0.8958441028683222;

/// micrograd's total loss at step 99.
pub const LOSS_STEP_99: f64 = 0.010978370135492719;

/// The 100 points and their labels.
///
/// ```
/// let d = scalargrad::nn::moons::dataset();
/// assert_eq!((d.len(), d.inputs[0].len()), (100, 2));
/// assert!(d.labels.iter().all(|&y| y == 1.0 || y == -1.0));
/// ```
pub fn dataset() -> Dataset {
    Dataset::from_csv(CSV).expect("the embedded moons.csv parses")
}

/// micrograd's initial weights, as numbers.
///
/// ```
/// let spec = scalargrad::nn::moons::initial_spec();
/// assert_eq!((spec.sizes(), spec.parameter_count()), (vec![2, 16, 16, 1], 337));
/// ```
pub fn initial_spec() -> MlpSpec {
    MlpSpec::from_json(INIT_JSON).expect("the embedded moons_mlp_init.json parses")
}

/// Where the demo's initial weights come from.
///
/// ```
/// use scalargrad::{nn::moons::{model, Start}, Graph};
/// let g = Graph::new();
/// assert_ne!(model(&g, Start::InitFile).parameter_values(), model(&g, Start::Random(1)).parameter_values());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Start {
    /// micrograd's weights from `data/moons_mlp_init.json` (reproduces its losses).
    InitFile,
    /// Fresh weights from this seed ([`MlpConfig::new`]: `U[−1, 1]`, zero biases).
    Random(u64),
}

/// The demo's network, built in `graph`.
///
/// ```
/// use scalargrad::{nn::moons::{model, Start}, Graph};
/// let g = Graph::new();
/// assert_eq!(model(&g, Start::Random(3)).sizes(), [2, 16, 16, 1]);
/// ```
pub fn model(graph: &Graph, start: Start) -> Mlp<'_> {
    match start {
        Start::InitFile => {
            Mlp::from_spec(graph, &initial_spec()).expect("the embedded spec has a valid shape")
        }
        Start::Random(seed) => Mlp::new(graph, NIN, &SIZES, MlpConfig::new(seed)),
    }
}

/// The fraction of samples whose score has the label's sign (micrograd:
/// `(y > 0) == (score > 0)`).
///
/// ```
/// use scalargrad::nn::moons::accuracy;
/// assert_eq!(accuracy(&[0.3, -2.0, 0.1, -0.5], &[1.0, -1.0, -1.0, -1.0]), 0.75);
/// ```
///
/// # Panics
/// If the slices differ in length or are empty.
pub fn accuracy(scores: &[f64], labels: &[f64]) -> f64 {
    assert!(
        !scores.is_empty() && scores.len() == labels.len(),
        "scalargrad: accuracy of {} scores and {} labels",
        scores.len(),
        labels.len()
    );
    let hits = scores
        .iter()
        .zip(labels)
        .filter(|(&s, &y)| (y > 0.0) == (s > 0.0))
        .count();
    hits as f64 / scores.len() as f64
}

/// micrograd's demo loss, recorded in the graph: the hinge loss of every sample
/// ([`loss::hinge`]) plus [`ALPHA`] times the L2 penalty of `params` ([`loss::l2`]).
/// Returns the total loss node and the accuracy of the scores.
///
/// ```
/// use scalargrad::{nn::moons::{dataset, model, objective, Start, LOSS_STEP_0}, Graph};
/// let g = Graph::new();
/// let mlp = model(&g, Start::InitFile);
/// let d = dataset();
/// let (loss, accuracy) = objective(&mlp, &d.constants(&g), &d.labels, &mlp.parameters());
/// assert!((loss.value() - LOSS_STEP_0).abs() < 1e-15);
/// assert_eq!(accuracy, 0.5);
/// ```
pub fn objective<'g>(
    mlp: &Mlp<'g>,
    inputs: &[Vec<Var<'g>>],
    labels: &[f64],
    params: &[Var<'g>],
) -> (Var<'g>, f64) {
    let scores: Vec<Var<'g>> = inputs.iter().map(|x| mlp.forward(x)[0]).collect();
    let values: Vec<f64> = scores.iter().map(|s| s.value()).collect();
    let total = loss::hinge(&scores, labels) + loss::l2(params, ALPHA);
    (total, accuracy(&values, labels))
}

/// What one training step reports.
///
/// ```
/// use scalargrad::{nn::moons::{Demo, Start, LOSS_STEP_0}, Graph};
/// let g = Graph::new();
/// let mut demo = Demo::new(&g, Start::InitFile);
/// let step = demo.step();
/// assert_eq!((step.k, step.loss), (0, LOSS_STEP_0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The step's index `k`, from 0.
    pub k: usize,
    /// The total loss computed in the step's forward pass (before its update).
    pub loss: f64,
    /// The accuracy of that forward pass.
    pub accuracy: f64,
    /// The learning rate of the step's update.
    pub learning_rate: f64,
}

/// The demo's state: network, inputs as constants, labels, optimizer. Every
/// [`Demo::step`] is one [`train_step`]: the graph holds only parameters and inputs
/// between steps.
///
/// ```
/// use scalargrad::{nn::{moons::{Demo, Start}, optim::Sgd}, Graph};
/// let g = Graph::new();
/// let mut demo = Demo::with_optimizer(&g, Start::Random(7), Sgd::new(0.05));
/// let first = demo.step();
/// let second = demo.step();
/// assert_eq!((first.k, second.k, second.learning_rate), (0, 1, 0.05));
/// assert!(second.loss < first.loss);
/// ```
pub struct Demo<'g, O = Sgd<LinearDecay>> {
    graph: &'g Graph,
    mlp: Mlp<'g>,
    params: Vec<Var<'g>>,
    inputs: Vec<Vec<Var<'g>>>,
    labels: Vec<f64>,
    optimizer: O,
}

impl<'g> Demo<'g> {
    /// micrograd's demo: SGD with `1 − 0.9·k/100` ([`LinearDecay::micrograd`]).
    ///
    /// ```
    /// use scalargrad::{nn::moons::{Demo, Start}, Graph};
    /// let g = Graph::new();
    /// let demo = Demo::new(&g, Start::InitFile);
    /// assert_eq!(demo.mlp().parameters().len(), 337);
    /// ```
    pub fn new(graph: &'g Graph, start: Start) -> Self {
        Demo::with_optimizer(graph, start, Sgd::new(LinearDecay::micrograd()))
    }
}

impl<'g, O: Optimizer> Demo<'g, O> {
    /// The demo's network and data with another optimizer.
    ///
    /// ```
    /// use scalargrad::{nn::{moons::{Demo, Start}, optim::Adam}, Graph};
    /// let g = Graph::new();
    /// let mut demo = Demo::with_optimizer(&g, Start::InitFile, Adam::new(0.01));
    /// assert_eq!(demo.step().learning_rate, 0.01);
    /// ```
    pub fn with_optimizer(graph: &'g Graph, start: Start, optimizer: O) -> Self {
        let mlp = model(graph, start);
        let data = dataset();
        Demo {
            graph,
            params: mlp.parameters(),
            inputs: data.constants(graph),
            labels: data.labels,
            mlp,
            optimizer,
        }
    }

    /// One full-batch step: forward, backward, update, and the step's nodes freed.
    ///
    /// ```
    /// use scalargrad::{nn::moons::{Demo, Start}, Graph};
    /// let g = Graph::new();
    /// let mut demo = Demo::new(&g, Start::InitFile);
    /// let len = g.len();
    /// demo.step();
    /// assert_eq!(g.len(), len);
    /// ```
    pub fn step(&mut self) -> Step {
        let k = self.optimizer.steps();
        let learning_rate = self.optimizer.learning_rate();
        let mut accuracy = 0.0;
        let (mlp, inputs, labels, params) = (&self.mlp, &self.inputs, &self.labels, &self.params);
        let loss = train_step(self.graph, params, &mut self.optimizer, || {
            let (total, acc) = objective(mlp, inputs, labels, params);
            accuracy = acc;
            total
        });
        Step {
            k,
            loss,
            accuracy,
            learning_rate,
        }
    }

    /// The loss and accuracy of the current parameters, with no update.
    ///
    /// ```
    /// use scalargrad::{nn::moons::{Demo, Start}, Graph};
    /// let g = Graph::new();
    /// let mut demo = Demo::new(&g, Start::InitFile);
    /// let before = demo.evaluate();
    /// assert_eq!(demo.step().loss, before.0);
    /// ```
    pub fn evaluate(&self) -> (f64, f64) {
        self.graph.scope(|| {
            let (total, acc) = objective(&self.mlp, &self.inputs, &self.labels, &self.params);
            (total.value(), acc)
        })
    }

    /// The network being trained.
    ///
    /// ```
    /// use scalargrad::{nn::moons::{Demo, Start}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Demo::new(&g, Start::Random(0)).mlp().sizes(), [2, 16, 16, 1]);
    /// ```
    pub fn mlp(&self) -> &Mlp<'g> {
        &self.mlp
    }

    /// The optimizer.
    ///
    /// ```
    /// use scalargrad::{nn::{moons::{Demo, Start}, optim::Optimizer}, Graph};
    /// let g = Graph::new();
    /// let mut demo = Demo::new(&g, Start::InitFile);
    /// demo.step();
    /// assert_eq!(demo.optimizer().steps(), 1);
    /// ```
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }
}

impl<O: std::fmt::Debug> std::fmt::Debug for Demo<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("mlp", &self.mlp)
            .field("samples", &self.labels.len())
            .field("optimizer", &self.optimizer)
            .finish()
    }
}
