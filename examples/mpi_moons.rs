//! micrograd's moons demo trained data-parallel over MPI, bit-identical for any number of
//! ranks (and to `examples/threads.rs`).
//!
//! ```text
//! cargo build --release --features mpi --example mpi_moons
//! mpirun --allow-run-as-root --oversubscribe -np 2 target/release/examples/mpi_moons
//! mpirun … -np 2 target/release/examples/mpi_moons --samples 20000 --block 10 --steps 20
//! ```
//!
//! Every rank is one process with its own `Graph`. What happens each step:
//! 1. Rank 0 broadcasts the parameters (337 `f64`, 2.7 kB).
//! 2. Each rank holds a `Shard`, the contiguous run of whole blocks of `--block` samples that
//!    `Plan::worker_blocks` gives it; it computes each block's gradient (one reverse pass per
//!    block) and each sample's loss: plain numbers.
//! 3. One `MPI_Gatherv` concatenates them at rank 0 in rank order, which is block order, and
//!    rank 0 adds them in that one fixed order (`nn::parallel::reduce`, the same function the
//!    thread example calls), takes the SGD step and logs `step K loss X`.
//!
//! The additions are the same whatever the number of ranks, so the losses printed with 1, 2
//! or 5 ranks are the same bits. A rank that panics aborts the whole job (`MPI_Abort` from
//! the panic hook): `mpirun` exits non-zero with the message instead of hanging at the next
//! collective (`--fail-rank 1` shows it).

use std::time::{Duration, Instant};

use clap::Parser;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use scalargrad::nn::moons;
use scalargrad::nn::optim::{LinearDecay, Schedule};
use scalargrad::nn::parallel::{moons_like, reduce, sgd_step, Contribution, Plan, Shard};
use scalargrad::Graph;

/// micrograd's moons demo, data-parallel over MPI ranks.
#[derive(Parser, Debug)]
struct Args {
    /// Samples per block: the unit whose gradient is computed in one reverse pass and sent
    /// (1: per sample; larger blocks send less and change the last bits, not the training).
    #[arg(long, default_value_t = 1)]
    block: usize,
    /// Training steps, at most 112 (the learning rate 1 − 0.9·k/100 of step k turns
    /// negative at k = 112).
    #[arg(long, default_value_t = moons::STEPS, value_parser = moons::parse_steps)]
    steps: usize,
    /// Train on this many generated two-moons points instead of micrograd's 100 (shows the
    /// speed-up: more work per step for the same messages per block).
    #[arg(long)]
    samples: Option<usize>,
    /// Seed of the generated points.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Make this rank panic at step 3 (to check that the job fails instead of hanging).
    #[arg(long)]
    fail_rank: Option<i32>,
}

fn main() {
    // Flags first: a bad one (e.g. `--steps 200`) stops every rank with clap's message
    // before MPI starts.
    let args = Args::parse();
    let universe = mpi::initialize().expect("MPI initialises once");
    let world = universe.world();
    let (rank, ranks) = (world.rank(), world.size());

    // A panicking rank would leave the others waiting in a collective for ever: abort the
    // whole job instead (mpirun then exits non-zero), after printing the panic's message.
    let print_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        print_panic(info);
        eprintln!("mpi_moons: rank {rank} of {ranks} failed; aborting the job");
        SimpleCommunicator::world().abort(1);
    }));

    // Every rank makes (or reads) the same data and keeps only its own shard in its graph.
    let data = match args.samples {
        Some(n) => moons_like(n, args.seed),
        None => moons::dataset(),
    };
    let spec = moons::initial_spec();
    let plan = Plan::new(data.len(), args.block);
    let (me, all_ranks) = (rank as usize, ranks as usize);
    let g = Graph::new();
    let shard = Shard::new(&g, &spec, &data, plan.worker_samples(me, all_ranks))
        .expect("the demo's network fits the data");
    let nparams = spec.parameter_count();

    // What each rank sends: its samples' losses, and its blocks' gradients; gathered at
    // rank 0 straight into one `Contribution` (rank order = block order).
    let layout = |per_rank: &dyn Fn(usize) -> usize| {
        let counts: Vec<mpi::Count> = (0..all_ranks)
            .map(|r| mpi::Count::try_from(per_rank(r)).expect("a message fits an MPI count"))
            .collect();
        let displs: Vec<mpi::Count> = counts
            .iter()
            .scan(0, |at, &c| {
                let d = *at;
                *at += c;
                Some(d)
            })
            .collect();
        (counts, displs)
    };
    let losses = layout(&|r| plan.worker_samples(r, all_ranks).len());
    let gradients = layout(&|r| plan.worker_blocks(r, all_ranks).len() * nparams);
    let mut all = Contribution::default();
    if me == 0 {
        all.losses = vec![0.0; plan.samples()];
        all.gradients = vec![0.0; plan.blocks() * nparams];
    }

    if me == 0 {
        println!(
            "{ranks} rank(s), {} samples in {} blocks of {}, {nparams} parameters; per step: \
             broadcast {} B, gather {} B",
            data.len(),
            plan.blocks(),
            args.block,
            nparams * 8,
            (all.losses.len() + all.gradients.len()) * 8
        );
    }

    let schedule = LinearDecay::micrograd();
    let mut params = spec.parameters();
    let root = world.process_at_rank(0);
    let mut in_collectives = Duration::ZERO;
    let (mut computing, mut computing_cpu) = (Duration::ZERO, 0.0);
    let start = Instant::now();
    for k in 0..args.steps {
        let t = Instant::now();
        root.broadcast_into(&mut params[..]);
        in_collectives += t.elapsed();

        if args.fail_rank == Some(rank) && k == 3 {
            panic!("rank {rank}: failing at step {k} on purpose (--fail-rank)");
        }
        let (t, cpu) = (Instant::now(), cpu_time());
        let mine = shard.contribute(&params, &plan, plan.worker_blocks(me, all_ranks));
        computing += t.elapsed();
        computing_cpu += cpu_time()
            .zip(cpu)
            .map_or(f64::NAN, |(end, start)| end - start);

        let t = Instant::now();
        if me == 0 {
            let (counts, displs) = &losses;
            let mut into = PartitionMut::new(&mut all.losses[..], &counts[..], &displs[..]);
            root.gather_varcount_into_root(&mine.losses[..], &mut into);
            let (counts, displs) = &gradients;
            let mut into = PartitionMut::new(&mut all.gradients[..], &counts[..], &displs[..]);
            root.gather_varcount_into_root(&mine.gradients[..], &mut into);
        } else {
            root.gather_varcount_into(&mine.losses[..]);
            root.gather_varcount_into(&mine.gradients[..]);
        }
        in_collectives += t.elapsed();

        if me == 0 {
            let reduced = reduce(&plan, &all, nparams);
            let loss = sgd_step(&mut params, &reduced, &plan, moons::ALPHA, schedule.rate(k));
            if k % 10 == 0 || k + 1 == args.steps {
                println!("step {k} loss {loss:?}");
            }
        }
    }
    let elapsed = start.elapsed();
    // Each rank's compute per step: wall time, and CPU time (what the split divides even
    // when the machine is too busy to run the ranks side by side).
    let per_step = |seconds: f64| seconds * 1e3 / args.steps.max(1) as f64;
    let mine = [per_step(computing.as_secs_f64()), per_step(computing_cpu)];
    if me == 0 {
        let mut all = vec![0.0; 2 * all_ranks];
        root.gather_into_root(&mine[..], &mut all[..]);
        for (r, m) in all.chunks(2).enumerate() {
            println!(
                "rank {r}: blocks {:?}, compute {:.3} ms/step wall, {:.3} ms/step CPU",
                plan.worker_blocks(r, all_ranks),
                m[0],
                m[1]
            );
        }
        println!(
            "{ranks} rank(s): {:.3} ms/step, of which rank 0 spent {:.3} ms in broadcast + gather",
            per_step(elapsed.as_secs_f64()),
            per_step(in_collectives.as_secs_f64())
        );
    } else {
        root.gather_into(&mine[..]);
    }
}

/// CPU time of this thread so far, in seconds (Linux: `/proc/thread-self/schedstat`), if known.
fn cpu_time() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds * 1e-9)
}
