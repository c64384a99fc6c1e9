//! Training one model on several threads, with results bit-for-bit independent of how many.
//!
//! ```text
//! cargo run --release --example threads            # 4 threads, 8 shards, 100 steps
//! cargo run --release --example threads -- 2 5 100 # threads, shards, steps
//! ```
//!
//! The model is micrograd's moons demo (workload W1 of `benches/WORKLOADS.md`):
//! an MLP 2-16-16-1 (ReLU, ReLU, linear) from `data/moons_mlp_init.json`, hinge loss on the
//! 100 points of `data/moons.csv`, L2 regularisation 1e-4, SGD with micrograd's decaying
//! learning rate. It is built with engine ops directly (`Graph::affine`, `relu`, `sum`).
//!
//! How the work is split:
//! 1. The batch is cut into a fixed number of *shards* (contiguous runs of samples).
//! 2. Each thread owns a [`Graph`] (a graph is `Send`, its handles are not: they never leave
//!    the thread) and takes shards `t, t + T, t + 2T, …`. For each, it records the shard's
//!    loss with the current parameters, runs backward, and hands back plain numbers: the
//!    shard's loss and its parameter gradient. Then it clears its graph.
//! 3. The main thread adds the shards' gradients **in shard order**, whatever thread
//!    computed them, and takes the SGD step.
//!
//! A shard's numbers depend only on the shard and the parameters, and the reduction order
//! is fixed, so 1, 2, 3 or 8 threads give the same bits (`tests/threads.rs` checks it). The
//! number of shards, on the other hand, changes the summation order and so the last bits.

use std::time::Instant;

use scalargrad::Graph;

/// One sample: inputs and label (±1).
pub type Sample = ([f64; 2], f64);

/// Layer sizes of the network.
pub const SIZES: [usize; 4] = [2, 16, 16, 1];

/// The moons data set, read from `data/moons.csv`.
pub fn moons() -> Vec<Sample> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/moons.csv");
    let text = std::fs::read_to_string(path).expect("data/moons.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let v: Vec<f64> = line
                .split(',')
                .map(|f| f.trim().parse().expect("a number"))
                .collect();
            ([v[0], v[1]], v[2])
        })
        .collect()
}

/// The initial parameters from `data/moons_mlp_init.json`, in micrograd's order (layer by
/// layer, neuron by neuron, its weights then its bias). The file's numbers come in the
/// order `nin`, then per layer all weights row by row and then all biases; read them in
/// sequence and reorder.
pub fn initial_parameters() -> Vec<f64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/moons_mlp_init.json");
    let text = std::fs::read_to_string(path).expect("data/moons_mlp_init.json");
    let numbers: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit() || c == '-'))
        .map(|t| t.parse().expect("a number"))
        .collect();
    let mut file = numbers.into_iter();
    assert_eq!(file.next(), Some(2.0), "nin");
    let mut params = Vec::new();
    for l in 0..SIZES.len() - 1 {
        let (nin, nout) = (SIZES[l], SIZES[l + 1]);
        let weights: Vec<f64> = file.by_ref().take(nin * nout).collect();
        let biases: Vec<f64> = file.by_ref().take(nout).collect();
        for j in 0..nout {
            params.extend_from_slice(&weights[j * nin..(j + 1) * nin]);
            params.push(biases[j]);
        }
    }
    assert_eq!(
        file.next(),
        None,
        "more numbers than a 2-16-16-1 network has"
    );
    params
}

/// One shard's contribution: `0.01 · Σ relu(1 − y·score)` over its samples, recorded in
/// `g` (cleared first), and its gradient with respect to every parameter.
pub fn shard_loss_and_gradient(g: &Graph, params: &[f64], shard: &[Sample]) -> (f64, Vec<f64>) {
    g.clear();
    let p: Vec<_> = params.iter().map(|&v| g.var(v)).collect();
    let mut losses = Vec::with_capacity(shard.len());
    for (x, y) in shard {
        let mut act: Vec<_> = x.iter().map(|&v| g.constant(v)).collect();
        let mut at = 0;
        for l in 0..SIZES.len() - 1 {
            let (nin, nout) = (SIZES[l], SIZES[l + 1]);
            let last = l == SIZES.len() - 2;
            act = (0..nout)
                .map(|_| {
                    let (w, b) = (&p[at..at + nin], p[at + nin]);
                    at += nin + 1;
                    let z = g.affine(b, w, &act); // b + w₀x₀ + w₁x₁ + …, left to right
                    if last {
                        z
                    } else {
                        z.relu()
                    }
                })
                .collect();
        }
        losses.push((act[0] * -*y + 1.0).relu());
    }
    let loss = g.sum(&losses) * 0.01;
    loss.backward();
    (loss.value(), p.iter().map(|v| v.grad()).collect())
}

/// Trains for `steps` steps with the batch cut into `shards` shards, spread over `threads`
/// threads (0: no thread at all, everything on the caller's). Returns the final parameters
/// and each step's total loss (computed in that step's forward pass, before its update).
pub fn train(threads: usize, shards: usize, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let data = moons();
    let chunk = data.len().div_ceil(shards);
    let pieces: Vec<&[Sample]> = data.chunks(chunk).collect();
    let mut params = initial_parameters();
    let mut graphs: Vec<Graph> = (0..threads.max(1)).map(|_| Graph::new()).collect();
    let mut losses = Vec::with_capacity(steps);
    for k in 0..steps {
        // per shard: (loss, gradient), filled by whichever thread took the shard
        let mut results: Vec<Option<(f64, Vec<f64>)>> = vec![None; pieces.len()];
        if threads == 0 {
            for (s, piece) in pieces.iter().enumerate() {
                results[s] = Some(shard_loss_and_gradient(&graphs[0], &params, piece));
            }
        } else {
            let params = &params;
            let pieces = &pieces;
            std::thread::scope(|scope| {
                let workers: Vec<_> = graphs
                    .iter_mut()
                    .enumerate()
                    .map(|(t, g)| {
                        // `&mut Graph` crosses into the thread: fine, `Graph` is `Send`
                        scope.spawn(move || {
                            (t..pieces.len())
                                .step_by(threads)
                                .map(|s| (s, shard_loss_and_gradient(g, params, pieces[s])))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for w in workers {
                    for (s, r) in w.join().expect("a worker panicked") {
                        results[s] = Some(r);
                    }
                }
            });
        }
        // reduce in shard order: the same additions whatever the number of threads
        let mut data_loss = 0.0;
        let mut grad = vec![0.0; params.len()];
        for r in results {
            let (loss, g) = r.expect("every shard computed");
            data_loss += loss;
            grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        // L2 term 1e-4 · Σ p², differentiated by hand: d/dp (p·p·1e-4) = p·1e-4 + p·1e-4
        let reg = params.iter().fold(0.0, |s, p| s + p * p) * 1e-4;
        losses.push(data_loss + reg);
        let lr = 1.0 - 0.9 * k as f64 / 100.0;
        for (p, g) in params.iter_mut().zip(&grad) {
            let d = g + (*p * 1e-4 + *p * 1e-4);
            *p -= lr * d;
        }
    }
    (params, losses)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: threads [THREADS SHARDS STEPS]"))
        .collect();
    let (threads, shards, steps) = (
        args.first().copied().unwrap_or(4),
        args.get(1).copied().unwrap_or(8),
        args.get(2).copied().unwrap_or(100),
    );

    let t = Instant::now();
    let (params, losses) = train(threads, shards, steps);
    let parallel = t.elapsed();
    let t = Instant::now();
    let (params1, losses1) = train(1, shards, steps);
    let single = t.elapsed();

    for (k, loss) in losses.iter().enumerate() {
        if k % 10 == 0 || k + 1 == steps {
            println!("step {k:3}  loss {loss:.17}");
        }
    }
    // micrograd's numbers for this workload (W1): step 0 = 0.8958441028683222,
    // step 99 = 0.010978370135492719
    println!("{threads} threads: {parallel:.2?}; 1 thread: {single:.2?}");
    let same = params
        .iter()
        .zip(&params1)
        .all(|(a, b)| a.to_bits() == b.to_bits())
        && losses
            .iter()
            .zip(&losses1)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "parameters and losses bit-for-bit equal to 1 thread: {}",
        if same { "yes" } else { "NO" }
    );
    assert!(same);
}
