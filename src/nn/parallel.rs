//! Data-parallel training whose numbers do not depend on the number of workers: one
//! reduction shared by the thread example (`examples/threads.rs`) and the MPI one
//! (`examples/mpi_moons.rs`), so the two cannot drift apart.
//!
//! # Why the bits do not depend on the number of workers
//! Floating-point addition is not associative: summing gradients "per worker, then across
//! workers" gives results that change in the last bits with the number of workers. So the
//! summation order here is fixed by the *data*, never by the workers:
//!
//! 1. A [`Plan`] cuts the `n` samples into blocks of a fixed size `B` (a training
//!    parameter, like a micro-batch; `B = 1` is per-sample). Blocks never straddle workers:
//!    worker `w` of `W` gets a contiguous run of whole blocks ([`Plan::worker_blocks`]).
//! 2. Each worker computes, for each of its blocks, that block's gradient with one reverse
//!    pass over the block alone, and each sample's loss value ([`Shard::contribute`]). A
//!    block's numbers depend only on the block and the parameters.
//! 3. The contributions are concatenated in worker order, which is block order (an MPI
//!    `gatherv` does exactly that), and [`reduce`] adds the block gradients one after the
//!    other in block order, and the sample losses in sample order (as micrograd's
//!    `sum(losses)` does).
//!
//! Every addition therefore happens in the same order with the same operands whatever
//! the number of workers: 1, 2 or 7 workers, threads or MPI ranks, give the same bits.
//! Changing `B` regroups the sums and so may change the last bits (not the training).
//!
//! ```
//! use scalargrad::nn::parallel::{reduce, Contribution, Plan};
//! let plan = Plan::new(5, 2); // blocks [0, 2), [2, 4), [4, 5)
//! assert_eq!((plan.blocks(), plan.worker_blocks(0, 2), plan.worker_blocks(1, 2)), (3, 0..1, 1..3));
//! // two parameters; block gradients (0.1, 1) from worker 0, (0.2, 2), (0.3, 3) from worker 1
//! let mut all = Contribution { losses: vec![1.0, 2.0], gradients: vec![0.1, 1.0] };
//! all.append(Contribution { losses: vec![3.0, 4.0, 5.0], gradients: vec![0.2, 2.0, 0.3, 3.0] });
//! let r = reduce(&plan, &all, 2);
//! assert_eq!(r.loss, 15.0);
//! assert_eq!(r.gradient, [(0.1 + 0.2) + 0.3, 6.0]); // block order, left to right
//! ```

use std::ops::Range;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Dataset, Error, Mlp, MlpSpec};
use crate::{Graph, Var};

/// How `samples` samples are cut into blocks of `block` samples (the last may be shorter)
/// and the blocks into contiguous runs, one per worker.
///
/// ```
/// use scalargrad::nn::parallel::Plan;
/// let plan = Plan::new(100, 1);
/// assert_eq!((plan.worker_samples(0, 2), plan.worker_samples(1, 2)), (0..50, 50..100));
/// assert_eq!(Plan::new(10, 4).block(2), 8..10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plan {
    samples: usize,
    block: usize,
}

impl Plan {
    /// `samples` samples in blocks of `block`.
    ///
    /// # Panics
    /// If either is 0.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!(Plan::new(7, 3).blocks(), 3);
    /// ```
    pub fn new(samples: usize, block: usize) -> Self {
        assert!(
            samples > 0 && block > 0,
            "scalargrad: a plan needs samples > 0 and a block size > 0 (got {samples}, {block})"
        );
        Plan { samples, block }
    }

    /// The number of samples.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!(Plan::new(7, 3).samples(), 7);
    /// ```
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The number of samples per block (the last block may have fewer).
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!(Plan::new(7, 3).block_size(), 3);
    /// ```
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// The number of blocks.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!((Plan::new(6, 3).blocks(), Plan::new(7, 3).blocks()), (2, 3));
    /// ```
    pub fn blocks(&self) -> usize {
        self.samples.div_ceil(self.block)
    }

    /// The samples of block `b`.
    ///
    /// # Panics
    /// If `b` is not a block of the plan.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!(Plan::new(7, 3).block(1), 3..6);
    /// ```
    pub fn block(&self, b: usize) -> Range<usize> {
        assert!(
            b < self.blocks(),
            "scalargrad: block {b} of a plan of {} blocks",
            self.blocks()
        );
        b * self.block..((b + 1) * self.block).min(self.samples)
    }

    /// The blocks of worker `worker` of `workers`: a contiguous run, the runs in worker
    /// order covering every block once, their lengths differing by at most one (a worker
    /// may get none when there are more workers than blocks).
    ///
    /// # Panics
    /// If `worker >= workers`.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// let plan = Plan::new(10, 1);
    /// let runs: Vec<_> = (0..3).map(|w| plan.worker_blocks(w, 3)).collect();
    /// assert_eq!(runs, [0..3, 3..6, 6..10]);
    /// ```
    pub fn worker_blocks(&self, worker: usize, workers: usize) -> Range<usize> {
        assert!(worker < workers, "scalargrad: worker {worker} of {workers}");
        let n = self.blocks();
        worker * n / workers..(worker + 1) * n / workers
    }

    /// The samples of worker `worker` of `workers` (those of its blocks).
    ///
    /// # Panics
    /// If `worker >= workers`.
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Plan;
    /// assert_eq!(Plan::new(10, 4).worker_samples(1, 2), 4..10); // blocks 0 | 1, 2
    /// ```
    pub fn worker_samples(&self, worker: usize, workers: usize) -> Range<usize> {
        let blocks = self.worker_blocks(worker, workers);
        if blocks.is_empty() {
            let at = (blocks.start * self.block).min(self.samples);
            return at..at;
        }
        self.block(blocks.start).start..self.block(blocks.end - 1).end
    }
}

/// What workers computed, as plain numbers: each sample's loss (in sample order) and each
/// block's gradient (block after block, one number per parameter).
///
/// ```
/// use scalargrad::nn::parallel::Contribution;
/// let mut a = Contribution { losses: vec![1.0], gradients: vec![0.5, 0.5] };
/// a.append(Contribution { losses: vec![2.0], gradients: vec![0.25, 0.0] });
/// assert_eq!((a.losses.len(), a.gradients.len()), (2, 4));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contribution {
    /// One loss value per sample, in sample order.
    pub losses: Vec<f64>,
    /// One gradient per block, in block order, each as long as the parameter list.
    pub gradients: Vec<f64>,
}

impl Contribution {
    /// Appends the contribution of the next worker (the one holding the following blocks).
    ///
    /// ```
    /// # use scalargrad::nn::parallel::Contribution;
    /// let mut a = Contribution::default();
    /// a.append(Contribution { losses: vec![3.0], gradients: vec![1.0] });
    /// assert_eq!(a.losses, [3.0]);
    /// ```
    pub fn append(&mut self, mut next: Contribution) {
        self.losses.append(&mut next.losses);
        self.gradients.append(&mut next.gradients);
    }
}

/// The reduced numbers of one step.
///
/// ```
/// use scalargrad::nn::parallel::{reduce, Contribution, Plan};
/// let all = Contribution { losses: vec![0.5], gradients: vec![2.0] };
/// assert_eq!(reduce(&Plan::new(1, 1), &all, 1).gradient, [2.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Reduced {
    /// The sum of the samples' losses, added in sample order.
    pub loss: f64,
    /// The sum of the blocks' gradients, added in block order.
    pub gradient: Vec<f64>,
}

/// Adds every worker's contribution (concatenated in worker order, see [`Contribution`])
/// in the one fixed order that makes the result independent of the number of workers:
/// sample losses left to right, block gradients left to right.
///
/// # Panics
/// If `all` does not hold one loss per sample and one gradient of `params` numbers per
/// block of `plan` (a worker's contribution is missing or doubled).
///
/// ```
/// use scalargrad::nn::parallel::{reduce, Contribution, Plan};
/// let all = Contribution { losses: vec![0.0; 3], gradients: vec![1.0, 1e16, -1e16] };
/// // (1 + 1e16) − 1e16 = 0 in f64, while 1 + (1e16 − 1e16) = 1: the order is the result
/// assert_eq!(reduce(&Plan::new(3, 1), &all, 1).gradient, [0.0]);
/// ```
#[track_caller]
pub fn reduce(plan: &Plan, all: &Contribution, params: usize) -> Reduced {
    assert!(
        all.losses.len() == plan.samples() && all.gradients.len() == plan.blocks() * params,
        "scalargrad: reduce expects {} losses and {} blocks × {params} gradients, got {} and \
         {} numbers (a worker's contribution is missing or doubled)",
        plan.samples(),
        plan.blocks(),
        all.losses.len(),
        all.gradients.len()
    );
    let loss = all.losses.iter().fold(0.0, |s, l| s + l);
    let mut gradient = vec![0.0; params];
    for block in all.gradients.chunks_exact(params.max(1)) {
        for (g, b) in gradient.iter_mut().zip(block) {
            *g += b;
        }
    }
    Reduced { loss, gradient }
}

/// One worker's part of the data set, with its own copy of the network in its own graph:
/// micrograd's max-margin loss `relu(1 − y·score)` per sample, averaged over the whole
/// data set (`scale = 1/n`).
///
/// ```
/// use scalargrad::{nn::{moons, parallel::{reduce, Plan, Shard}}, Graph};
/// let (data, spec) = (moons::dataset(), moons::initial_spec());
/// let plan = Plan::new(data.len(), 1);
/// let g = Graph::new();
/// let shard = Shard::new(&g, &spec, &data, plan.worker_samples(0, 1))?;
/// let all = shard.contribute(&spec.parameters(), &plan, plan.worker_blocks(0, 1));
/// let r = reduce(&plan, &all, spec.parameter_count());
/// let loss = r.loss * (1.0 / 100.0) + scalargrad::nn::parallel::l2(&spec.parameters(), moons::ALPHA);
/// assert_eq!(loss, moons::LOSS_STEP_0); // micrograd's step 0, to the bit
/// # Ok::<(), scalargrad::nn::Error>(())
/// ```
pub struct Shard<'g> {
    graph: &'g Graph,
    mlp: Mlp<'g>,
    params: Vec<Var<'g>>,
    inputs: Vec<Vec<f64>>,
    labels: Vec<f64>,
    samples: Range<usize>,
    scale: f64,
}

impl<'g> Shard<'g> {
    /// Keeps samples `samples` of `data`, and in `graph` a network of `spec`'s
    /// shape whose parameters [`Shard::contribute`] sets each step.
    ///
    /// # Errors
    /// [`Error::Shape`] if `spec` does not fit together or its inputs differ from the
    /// data's.
    ///
    /// # Panics
    /// If `samples` is not within `data`.
    ///
    /// ```
    /// use scalargrad::{nn::{moons, parallel::Shard}, Graph};
    /// let g = Graph::new();
    /// let shard = Shard::new(&g, &moons::initial_spec(), &moons::dataset(), 50..100)?;
    /// assert_eq!(shard.samples(), 50..100);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn new(
        graph: &'g Graph,
        spec: &MlpSpec,
        data: &Dataset,
        samples: Range<usize>,
    ) -> Result<Self, Error> {
        let mlp = Mlp::from_spec(graph, spec)?;
        if data.inputs.first().is_some_and(|x| x.len() != spec.nin) {
            return Err(Error::Shape(format!(
                "the network takes {} inputs but the data has {}",
                spec.nin,
                data.inputs[0].len()
            )));
        }
        let inputs = data.inputs[samples.clone()].to_vec();
        Ok(Shard {
            graph,
            params: mlp.parameters(),
            mlp,
            inputs,
            labels: data.labels[samples.clone()].to_vec(),
            samples,
            scale: 1.0 / data.len() as f64,
        })
    }

    /// The samples this shard holds (indices into the whole data set).
    ///
    /// ```
    /// use scalargrad::{nn::{moons, parallel::Shard}, Graph};
    /// let g = Graph::new();
    /// let shard = Shard::new(&g, &moons::initial_spec(), &moons::dataset(), 0..10)?;
    /// assert_eq!(shard.samples().len(), 10);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn samples(&self) -> Range<usize> {
        self.samples.clone()
    }

    /// With parameters `params` (in [`Mlp::parameters`] order), each sample's loss and each
    /// of `blocks`' gradient of `scale · Σ loss` over the block: one reverse pass per block,
    /// the block's nodes freed after it.
    ///
    /// # Panics
    /// If `params` has the wrong length or a block of `blocks` is not within the shard.
    ///
    /// ```
    /// use scalargrad::{nn::{moons, parallel::{Plan, Shard}}, Graph};
    /// let (data, spec) = (moons::dataset(), moons::initial_spec());
    /// let plan = Plan::new(100, 10);
    /// let g = Graph::new();
    /// let shard = Shard::new(&g, &spec, &data, plan.worker_samples(1, 2))?;
    /// let c = shard.contribute(&spec.parameters(), &plan, plan.worker_blocks(1, 2));
    /// assert_eq!((c.losses.len(), c.gradients.len()), (50, 5 * 337));
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    #[track_caller]
    pub fn contribute(&self, params: &[f64], plan: &Plan, blocks: Range<usize>) -> Contribution {
        self.mlp.set_parameter_values(params);
        let mut out = Contribution {
            losses: Vec::with_capacity(blocks.len() * plan.block_size()),
            gradients: Vec::with_capacity(blocks.len() * params.len()),
        };
        for b in blocks {
            let samples = plan.block(b);
            assert!(
                self.samples.start <= samples.start && samples.end <= self.samples.end,
                "scalargrad: block {b} (samples {samples:?}) is not in this shard \
                 ({:?})",
                self.samples
            );
            // The graph holds only the network: a reverse pass walks the tape below its
            // root, so the inputs are recorded with each block, not kept in the graph.
            self.graph.zero_grad();
            let (mlp, inputs, labels, offset) =
                (&self.mlp, &self.inputs, &self.labels, self.samples.start);
            let scale = self.scale;
            let losses = &mut out.losses;
            self.graph.scope(|| {
                let terms: Vec<Var<'_>> = samples
                    .map(|i| {
                        let x: Vec<Var<'_>> = inputs[i - offset]
                            .iter()
                            .map(|&v| self.graph.constant(v))
                            .collect();
                        let score = mlp.forward(&x)[0];
                        (score * -labels[i - offset] + 1.0).relu()
                    })
                    .collect();
                losses.extend(terms.iter().map(|t| t.value()));
                (self.graph.sum(&terms) * scale).backward();
            });
            out.gradients.extend(self.params.iter().map(|p| p.grad()));
        }
        out
    }
}

impl std::fmt::Debug for Shard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("samples", &self.samples)
            .field("mlp", &self.mlp)
            .finish()
    }
}

/// The L2 penalty `α Σ p²` of plain numbers, summed left to right as
/// [`loss::l2`](super::loss::l2) and micrograd do.
///
/// ```
/// assert_eq!(scalargrad::nn::parallel::l2(&[3.0, -4.0], 0.5), 12.5);
/// ```
pub fn l2(params: &[f64], alpha: f64) -> f64 {
    params.iter().fold(0.0, |s, p| s + p * p) * alpha
}

/// One step of micrograd's training on reduced numbers: returns the total loss
/// `reduced.loss / n + α Σ p²` of the current parameters, then updates them with
/// `p ← p − lr · (g + (αp + αp))`, the penalty's gradient added as its graph would
/// (`p·p` gives `αp` through each factor).
///
/// ```
/// use scalargrad::nn::parallel::{sgd_step, Plan, Reduced};
/// let mut p = vec![1.0];
/// let r = Reduced { loss: 2.0, gradient: vec![0.5] };
/// let loss = sgd_step(&mut p, &r, &Plan::new(4, 1), 0.25, 0.1);
/// assert_eq!((loss, p[0]), (2.0 / 4.0 + 0.25, 1.0 - 0.1 * (0.5 + 0.5)));
/// ```
///
/// # Panics
/// If the gradient and the parameters differ in length.
pub fn sgd_step(
    params: &mut [f64],
    reduced: &Reduced,
    plan: &Plan,
    alpha: f64,
    learning_rate: f64,
) -> f64 {
    assert_eq!(
        params.len(),
        reduced.gradient.len(),
        "scalargrad: {} parameters but a gradient of {}",
        params.len(),
        reduced.gradient.len()
    );
    let loss = reduced.loss * (1.0 / plan.samples() as f64) + l2(params, alpha);
    for (p, g) in params.iter_mut().zip(&reduced.gradient) {
        *p -= learning_rate * (g + (*p * alpha + *p * alpha));
    }
    loss
}

/// A two-moons data set of `n` points like `data/moons.csv` (scikit-learn's `make_moons`
/// with Gaussian noise 0.1), labels ±1 alternating, drawn from `seed`: for showing the
/// speed-up on more data than micrograd's 100 points.
///
/// # Panics
/// If `n` is 0.
///
/// ```
/// let d = scalargrad::nn::parallel::moons_like(1000, 7);
/// assert_eq!((d.len(), d.labels[0], d.labels[1]), (1000, 1.0, -1.0));
/// assert_eq!(d, scalargrad::nn::parallel::moons_like(1000, 7)); // same seed, same data
/// ```
pub fn moons_like(n: usize, seed: u64) -> Dataset {
    assert!(n > 0, "scalargrad: a data set of 0 points");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = |rng: &mut ChaCha8Rng| {
        // Box–Muller: two uniforms in (0, 1] and [0, 1) give one standard normal
        let u: f64 = 1.0 - rng.random::<f64>();
        let v: f64 = rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let mut inputs = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let t = std::f64::consts::PI * rng.random::<f64>();
        let (x, y, label) = if i % 2 == 0 {
            (t.cos(), t.sin(), 1.0)
        } else {
            (1.0 - t.cos(), 0.5 - t.sin(), -1.0)
        };
        inputs.push(vec![x + 0.1 * normal(&mut rng), y + 0.1 * normal(&mut rng)]);
        labels.push(label);
    }
    Dataset { inputs, labels }
}
