//! Training one model on several threads, with results bit-for-bit independent of how many.
//!
//! ```text
//! cargo run --release --example threads                       # 2 threads, the 100 moons
//! cargo run --release --example threads -- --threads 4 --block 10 --samples 20000
//! ```
//!
//! The model is micrograd's moons demo (workload W1 of `benches/WORKLOADS.md`): the
//! MLP 2-16-16-1 (ReLU, ReLU, linear) of `data/moons_mlp_init.json`, hinge loss on the 100
//! points of `data/moons.csv` (or `--samples N` generated ones), L2 regularisation 1e-4, SGD
//! with micrograd's decaying learning rate.
//!
//! How the work is split (`scalargrad::nn::parallel`, the very code `examples/mpi_moons.rs`
//! runs over MPI, so threads and ranks give the same bits):
//! 1. A `Plan` cuts the samples into blocks of `--block` samples (default 1: per sample).
//! 2. Each worker thread owns a `Graph` (a graph is `Send`, its handles are not: they never
//!    leave the thread) holding a `Shard`: a contiguous run of whole blocks and a copy of
//!    the network. Each step it receives the parameters, computes every one of its blocks'
//!    gradients (one reverse pass per block) and each sample's loss, and sends back plain
//!    numbers.
//! 3. The main thread puts the contributions in worker order (= block order), `reduce`s
//!    them in that one fixed order, and takes the SGD step.
//!
//! So 0 (no thread at all), 1, 2, 3 or 8 threads give the same bits (`tests/threads.rs`
//! checks it), and so do 1 or 2 MPI ranks (`.ci/interop.sh` diffs the printed losses).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use clap::Parser;
use scalargrad::nn::optim::{LinearDecay, Schedule};
use scalargrad::nn::parallel::{moons_like, reduce, sgd_step, Contribution, Plan, Shard};
use scalargrad::nn::{moons, Dataset};
use scalargrad::Graph;

/// Trains on `data` for `steps` steps in blocks of `block` samples spread over `threads`
/// worker threads (0: everything on the caller's thread). Returns the final parameters and
/// each step's total loss (computed in that step's forward pass, before its update).
pub fn train_on(
    data: &Dataset,
    threads: usize,
    block: usize,
    steps: usize,
) -> (Vec<f64>, Vec<f64>) {
    train_with(data, threads, block, steps, None)
}

/// [`train_on`], with worker thread `fail` (if any) panicking at step 3: the training then
/// stops with a panic that names the worker and its message, instead of hanging.
pub fn train_with(
    data: &Dataset,
    threads: usize,
    block: usize,
    steps: usize,
    fail: Option<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let spec = moons::initial_spec();
    let plan = Plan::new(data.len(), block);
    let schedule = LinearDecay::micrograd();
    let mut params = spec.parameters();
    let mut losses = Vec::with_capacity(steps);
    if threads == 0 {
        let g = Graph::new();
        let shard = Shard::new(&g, &spec, data, 0..data.len()).expect("the demo's network fits");
        for k in 0..steps {
            let all = shard.contribute(&params, &plan, 0..plan.blocks());
            let reduced = reduce(&plan, &all, params.len());
            losses.push(sgd_step(
                &mut params,
                &reduced,
                &plan,
                moons::ALPHA,
                schedule.rate(k),
            ));
        }
        return (params, losses);
    }
    std::thread::scope(|scope| {
        let (to_main, from_workers) = mpsc::channel::<(usize, Result<Contribution, String>)>();
        let to_workers: Vec<mpsc::Sender<Arc<Vec<f64>>>> = (0..threads)
            .map(|t| {
                let (send_params, params_in) = mpsc::channel::<Arc<Vec<f64>>>();
                let to_main = to_main.clone();
                let (spec, plan) = (&spec, &plan);
                scope.spawn(move || {
                    // A panic anywhere in the worker goes to the main thread as a message,
                    // so the main thread never waits for an answer that cannot come.
                    let run = catch_unwind(AssertUnwindSafe(|| {
                        let g = Graph::new(); // this thread's graph: its handles never leave it
                        let shard = Shard::new(&g, spec, data, plan.worker_samples(t, threads))
                            .expect("the demo's network fits");
                        // until the main thread hangs up: parameters in, numbers out
                        for (k, params) in params_in.iter().enumerate() {
                            if fail == Some(t) && k == 3 {
                                panic!(
                                    "worker {t}: failing at step {k} on purpose (--fail-thread)"
                                );
                            }
                            let c = shard.contribute(&params, plan, plan.worker_blocks(t, threads));
                            if to_main.send((t, Ok(c))).is_err() {
                                break;
                            }
                        }
                    }));
                    if let Err(e) = run {
                        let _ = to_main.send((t, Err(panic_message(&*e))));
                    }
                });
                send_params
            })
            .collect();
        drop(to_main);
        for k in 0..steps {
            let shared = Arc::new(params.clone());
            for send in &to_workers {
                send.send(Arc::clone(&shared))
                    .expect("a worker thread has stopped");
            }
            let mut parts: Vec<Option<Contribution>> = vec![None; threads];
            for _ in 0..threads {
                match from_workers.recv().expect("a worker thread has stopped") {
                    (t, Ok(c)) => parts[t] = Some(c),
                    (t, Err(message)) => panic!("worker thread {t} failed: {message}"),
                }
            }
            // worker order is block order: the one fixed summation order
            let mut all = Contribution::default();
            for part in parts {
                all.append(part.expect("every worker answered once"));
            }
            let reduced = reduce(&plan, &all, params.len());
            losses.push(sgd_step(
                &mut params,
                &reduced,
                &plan,
                moons::ALPHA,
                schedule.rate(k),
            ));
        }
        drop(to_workers); // the workers' loops end
    });
    (params, losses)
}

/// [`train_on`] micrograd's 100 moons.
pub fn train(threads: usize, block: usize, steps: usize) -> (Vec<f64>, Vec<f64>) {
    train_on(&moons::dataset(), threads, block, steps)
}

/// The parameters of `data/moons_mlp_init.json` in micrograd's order.
pub fn initial_parameters() -> Vec<f64> {
    moons::initial_spec().parameters()
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// micrograd's moons demo on worker threads, bit-identical for any number of threads.
#[derive(Parser, Debug)]
struct Args {
    /// Worker threads (0: none, all on the main thread).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Samples per block: the unit whose gradient is computed in one reverse pass and sent.
    #[arg(long, default_value_t = 1)]
    block: usize,
    /// Training steps, at most 112 (the learning rate 1 − 0.9·k/100 of step k turns
    /// negative at k = 112).
    #[arg(long, default_value_t = moons::STEPS, value_parser = moons::parse_steps)]
    steps: usize,
    /// Train on this many generated two-moons points instead of micrograd's 100.
    #[arg(long)]
    samples: Option<usize>,
    /// Seed of the generated points.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Make this worker thread panic at step 3 (the run then stops with its message).
    #[arg(long)]
    fail_thread: Option<usize>,
}

fn main() {
    let args = Args::parse();
    let data = match args.samples {
        Some(n) => moons_like(n, args.seed),
        None => moons::dataset(),
    };

    let t = Instant::now();
    let (params, losses) = train_with(
        &data,
        args.threads,
        args.block,
        args.steps,
        args.fail_thread,
    );
    let parallel = t.elapsed();
    for (k, loss) in losses.iter().enumerate() {
        if k % 10 == 0 || k + 1 == args.steps {
            println!("step {k} loss {loss:?}");
        }
    }
    // micrograd's numbers for the 100 moons: step 0 = 0.8958441028683222,
    // step 99 = 0.010978370135492719
    let t = Instant::now();
    let (params0, losses0) = train_on(&data, 0, args.block, args.steps);
    let single = t.elapsed();
    let per_step = |d: std::time::Duration| d.as_secs_f64() * 1e3 / args.steps.max(1) as f64;
    println!(
        "{} samples, blocks of {}: {} threads {:.3} ms/step; main thread alone {:.3} ms/step",
        data.len(),
        args.block,
        args.threads,
        per_step(parallel),
        per_step(single)
    );
    let same = params
        .iter()
        .zip(&params0)
        .all(|(a, b)| a.to_bits() == b.to_bits())
        && losses
            .iter()
            .zip(&losses0)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "parameters and losses bit-for-bit equal to no threads: {}",
        if same { "yes" } else { "NO" }
    );
    assert!(same);
}
