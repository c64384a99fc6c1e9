//! micrograd's moons model with the page's controls: hidden sizes, learning rate, L2
//! weight, and the data set (micrograd's 100 points, or two moons drawn with a noise level
//! and a seed). With the defaults it is [`scalargrad::nn::moons::Demo`] step for step, bit
//! for bit (a test holds it to that).
//!
//! Every step is one [`train_step`]: forward, `backward`, SGD update with the rate
//! `lr·(1 − 0.9·k/100)` (micrograd's schedule scaled by `lr`).

use scalargrad::nn::moons::{self, Start};
use scalargrad::nn::optim::{LinearDecay, Optimizer, Sgd};
use scalargrad::nn::{loss, train_step, Dataset, Mlp, MlpConfig};
use scalargrad::{Graph, Var};

/// The largest hidden layer the page draws.
pub const MAX_WIDTH: usize = 32;

/// The most hidden layers the page draws.
pub const MAX_LAYERS: usize = 4;

/// Where the points come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Data {
    /// micrograd's 100 points ([`moons::CSV`]).
    File,
    /// 100 points on two half circles with Gaussian noise of this standard deviation, from a
    /// seed (scikit-learn's `make_moons` recipe, this crate's own random numbers).
    Generated {
        /// The noise's standard deviation.
        noise: f64,
        /// The seed.
        seed: u64,
    },
}

/// The page's controls.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Hidden layer sizes (micrograd: `[16, 16]`).
    pub hidden: Vec<usize>,
    /// The learning rate at step 0 (micrograd: 1.0), decaying to a tenth of it by step 100.
    pub learning_rate: f64,
    /// The L2 penalty's weight α (micrograd: 1e-4).
    pub l2: f64,
    /// The points.
    pub data: Data,
    /// The initial weights: micrograd's file (only for `[16, 16]`), or a seed.
    pub start: Start,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hidden: vec![16, 16],
            learning_rate: 1.0,
            l2: moons::ALPHA,
            data: Data::File,
            start: Start::InitFile,
        }
    }
}

impl Settings {
    /// Checks the settings, with a sentence for the first problem.
    ///
    /// # Errors
    /// Hidden sizes outside 1..=[`MAX_WIDTH`] or more than [`MAX_LAYERS`] layers, a learning
    /// rate outside (0, 10], an L2 weight outside [0, 1], a noise outside [0, 1].
    pub fn check(&self) -> Result<(), String> {
        if self.hidden.len() > MAX_LAYERS {
            return Err(format!("at most {MAX_LAYERS} hidden layers"));
        }
        if let Some(&w) = self.hidden.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
            return Err(format!(
                "a hidden layer of {w} neurons: each has 1 to {MAX_WIDTH}"
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return Err(format!(
                "learning rate {}: use a number above 0 and at most 10",
                self.learning_rate
            ));
        }
        if !(0.0..=1.0).contains(&self.l2) {
            return Err(format!("L2 weight {}: use 0 to 1", self.l2));
        }
        if let Data::Generated { noise, .. } = self.data {
            if !(0.0..=1.0).contains(&noise) {
                return Err(format!("noise {noise}: use 0 to 1"));
            }
        }
        Ok(())
    }

    /// Whether micrograd's initial weights fit (they are for `[16, 16]`).
    pub fn init_file_fits(&self) -> bool {
        self.hidden == moons::SIZES[..2]
    }
}

/// splitmix64: a small, good 64-bit generator, so a seed gives the same points everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Two interleaved half circles, `n` points, labels −1 (upper) and +1 (lower), with Gaussian
/// noise of standard deviation `noise`.
pub fn make_moons(n: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = Rng(seed);
    let outer = n / 2;
    let inner = n - outer;
    let at = |i: usize, m: usize| {
        if m <= 1 {
            0.0
        } else {
            std::f64::consts::PI * i as f64 / (m - 1) as f64
        }
    };
    let mut inputs = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..outer {
        let t = at(i, outer);
        inputs.push(vec![t.cos(), t.sin()]);
        labels.push(-1.0);
    }
    for i in 0..inner {
        let t = at(i, inner);
        inputs.push(vec![1.0 - t.cos(), 0.5 - t.sin()]);
        labels.push(1.0);
    }
    for x in &mut inputs {
        x[0] += noise * rng.normal();
        x[1] += noise * rng.normal();
    }
    Dataset { inputs, labels }
}

/// What one step reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The step's index, from 0.
    pub k: usize,
    /// The loss of the step's forward pass (before its update).
    pub loss: f64,
    /// Its accuracy.
    pub accuracy: f64,
    /// The step's learning rate.
    pub learning_rate: f64,
}

/// The network, its data and its optimizer.
pub struct Trainer<'g> {
    graph: &'g Graph,
    mlp: Mlp<'g>,
    params: Vec<Var<'g>>,
    inputs: Vec<Vec<Var<'g>>>,
    /// The points.
    pub data: Dataset,
    optimizer: Sgd<LinearDecay>,
    l2: f64,
    /// Where the initial weights came from.
    pub start: Start,
}

impl<'g> Trainer<'g> {
    /// A fresh network in `graph` (which it fills with parameters and inputs).
    ///
    /// # Panics
    /// If the settings fail [`Settings::check`].
    pub fn new(graph: &'g Graph, s: &Settings) -> Self {
        s.check().expect("settings are checked before training");
        let start = match s.start {
            Start::InitFile if !s.init_file_fits() => Start::Random(1),
            start => start,
        };
        let mlp = match start {
            Start::InitFile => moons::model(graph, Start::InitFile),
            Start::Random(seed) => {
                let mut sizes = s.hidden.clone();
                sizes.push(1);
                Mlp::new(graph, moons::NIN, &sizes, MlpConfig::new(seed))
            }
        };
        let data = match s.data {
            Data::File => moons::dataset(),
            Data::Generated { noise, seed } => make_moons(100, noise, seed),
        };
        let lr = s.learning_rate;
        Trainer {
            graph,
            params: mlp.parameters(),
            inputs: data.constants(graph),
            mlp,
            data,
            optimizer: Sgd::new(LinearDecay {
                start: lr,
                drop: 0.9 * lr,
                steps: 100.0,
            }),
            l2: s.l2,
            start,
        }
    }

    fn objective(&self) -> (Var<'g>, f64) {
        let scores: Vec<Var<'g>> = self.inputs.iter().map(|x| self.mlp.forward(x)[0]).collect();
        let values: Vec<f64> = scores.iter().map(|s| s.value()).collect();
        let total = loss::hinge(&scores, &self.data.labels) + loss::l2(&self.params, self.l2);
        (total, moons::accuracy(&values, &self.data.labels))
    }

    /// One full-batch step.
    pub fn step(&mut self) -> Step {
        let k = self.optimizer.steps();
        let learning_rate = self.optimizer.learning_rate();
        let mut accuracy = 0.0;
        let this = &*self;
        let (graph, params) = (this.graph, this.params.clone());
        let mut optimizer = self.optimizer.clone();
        let loss = train_step(graph, &params, &mut optimizer, || {
            let (total, acc) = this.objective();
            accuracy = acc;
            total
        });
        self.optimizer = optimizer;
        Step {
            k,
            loss,
            accuracy,
            learning_rate,
        }
    }

    /// The loss and accuracy now, with no update.
    pub fn evaluate(&self) -> (f64, f64) {
        self.graph.scope(|| {
            let (total, acc) = self.objective();
            (total.value(), acc)
        })
    }

    /// The network.
    pub fn mlp(&self) -> &Mlp<'g> {
        &self.mlp
    }

    /// Every neuron's output (hidden layers, then the output neuron) at each point of an
    /// `n × n` grid over `[x0, x1] × [y0, y1]`, row by row from `y0`: neuron `j`'s `n²`
    /// numbers start at `j·n²`.
    pub fn neuron_grid(&self, n: usize, x0: f64, x1: f64, y0: f64, y1: f64) -> Vec<f64> {
        let layers = self.mlp.layers();
        let count: usize = layers.iter().map(|l| l.nout()).sum();
        let mut out = vec![0.0; count * n * n];
        let at = |lo: f64, hi: f64, i: usize| {
            if n <= 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (n - 1) as f64
            }
        };
        let weights: Vec<Vec<(Vec<f64>, f64, scalargrad::nn::Activation)>> = layers
            .iter()
            .map(|l| {
                l.neurons()
                    .iter()
                    .map(|nr| {
                        let w = nr.weights().iter().map(|w| w.value()).collect();
                        (w, nr.bias().map_or(0.0, |b| b.value()), nr.activation())
                    })
                    .collect()
            })
            .collect();
        for r in 0..n {
            for c in 0..n {
                let mut a = vec![at(x0, x1, c), at(y0, y1, r)];
                let mut j = 0;
                for layer in &weights {
                    a = layer
                        .iter()
                        .map(|(w, b, act)| {
                            let z = w.iter().zip(&a).fold(*b, |s, (w, x)| s + w * x);
                            act.apply(z)
                        })
                        .collect();
                    for &v in &a {
                        out[j * n * n + r * n + c] = v;
                        j += 1;
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalargrad::nn::moons::Demo;

    #[test]
    fn the_defaults_are_micrograds_demo_bit_for_bit() {
        let (g1, g2) = (Graph::new(), Graph::new());
        let mut t = Trainer::new(&g1, &Settings::default());
        let mut demo = Demo::new(&g2, Start::InitFile);
        assert_eq!(t.evaluate(), demo.evaluate());
        for _ in 0..moons::STEPS {
            let (a, b) = (t.step(), demo.step());
            assert_eq!(
                (a.k, a.loss, a.accuracy, a.learning_rate),
                (b.k, b.loss, b.accuracy, b.learning_rate)
            );
        }
        assert_eq!(t.mlp().parameter_values(), demo.mlp().parameter_values());
    }

    #[test]
    fn controls_change_the_network_and_the_data() {
        let g = Graph::new();
        let s = Settings {
            hidden: vec![4],
            learning_rate: 0.5,
            l2: 0.0,
            data: Data::Generated {
                noise: 0.2,
                seed: 7,
            },
            start: Start::InitFile, // does not fit [4]: a random start instead
        };
        let mut t = Trainer::new(&g, &s);
        assert_eq!(t.mlp().sizes(), [2, 4, 1]);
        assert_eq!(t.start, Start::Random(1));
        assert_eq!(t.step().learning_rate, 0.5);
        let d = make_moons(100, 0.2, 7);
        assert_eq!(t.data, d);
        assert_ne!(d, make_moons(100, 0.2, 8));
        assert_eq!(make_moons(100, 0.0, 1).inputs[0], vec![1.0, 0.0]);
        let grid = t.neuron_grid(3, -1.0, 1.0, -1.0, 1.0);
        assert_eq!(grid.len(), 5 * 9);
        // the last neuron is the network's score
        assert_eq!(grid[4 * 9 + 5], t.mlp().predict(&[1.0, 0.0])[0]);
        assert!(Settings {
            hidden: vec![0],
            ..Settings::default()
        }
        .check()
        .is_err());
        assert!(Settings {
            learning_rate: f64::NAN,
            ..Settings::default()
        }
        .check()
        .is_err());
    }
}
