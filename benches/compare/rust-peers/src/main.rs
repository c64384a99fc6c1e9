//! Runs W1/W2/W3 on the hand-written floor, scalargrad and the Rust tape crates, interleaved
//! within each repetition, and prints one JSON line per measurement (see ../report.py).
//!
//! `scalargrad-compare [--reps R] [--rep0 K] [--n 100000,1000000] [--w1-steps 100]
//!   [--w1-rounds 3] [--only w1|w2|w3] [--engine PREFIX | --engine 'NAME$' | --engine 'A$|B']`
//! `scalargrad-compare --cold ENGINE W2|W3 N [--rep K]` times the first graph of the process.
//! `scalargrad-compare --mem ENGINE N` runs W2 only and prints the process's peak RSS.
//! `scalargrad-compare --probe [--fused-only | --element-only] [--dense]` prints scalargrad's
//! W1 eager phase times (record, backward, update + rewind), for profiling with `perf record`;
//! `--probe --micrograd-style` those of W1 micrograd-style (new graph, record, backward,
//! update + drop).
//! `scalargrad-compare --chain` times a value read back right after it was stored (chain.rs).

// The loops spell out WORKLOADS.md's formulas (`act = act + w·x`, index loops over layers);
// the peer crates' handles do not all implement `+=`.
#![allow(clippy::assign_op_pattern, clippy::needless_range_loop)]

mod chain;
mod clock;
mod data;
mod floor;
mod peers;
mod sg;
mod sg_value;

use serde_json::json;

/// A W1 result.
pub struct Moons {
    pub step_s: f64,
    pub loss0: f64,
    pub loss99: f64,
}

/// A W2/W3 result: timings, the output value and two gradient sums.
pub struct Chain {
    pub fwd_s: f64,
    pub bwd_s: f64,
    pub out: f64,
    pub s1: f64,
    pub s2: f64,
}

fn emit_moons(
    engine: &str,
    rep: usize,
    round: usize,
    steps: usize,
    m: &Moons,
    nodes: Option<usize>,
) {
    println!(
        "{}",
        json!({"w": "W1", "engine": engine, "n": steps, "rep": rep, "round": round,
               "step_s": m.step_s, "clock": clock::name(), "loss0": m.loss0,
               "loss99": if steps >= 100 { Some(m.loss99) } else { None }, "nodes": nodes})
    );
}

fn emit_chain(w: &str, engine: &str, n: usize, rep: usize, cold: bool, c: &Chain) {
    println!(
        "{}",
        json!({"w": w, "engine": engine, "n": n, "rep": rep, "cold": cold,
               "clock": clock::name(), "fwd_s": c.fwd_s,
               "bwd_s": c.bwd_s, "out": c.out, "s1": c.s1, "s2": c.s2})
    );
}

type ChainFn = fn(usize) -> Chain;

/// The W2/W3 engines, in the order they run within a repetition.
const CHAIN_ENGINES: [(&str, ChainFn, ChainFn); 7] = [
    ("floor", floor::w2, floor::w3),
    ("scalargrad", sg::w2, sg::w3),
    (
        "scalargrad, drop timed",
        sg::w2_drop_timed,
        sg::w3_drop_timed,
    ),
    ("scalargrad Value", sg_value::w2, sg_value::w3),
    ("reverse", peers::rev::w2, peers::rev::w3),
    ("RustQuant_autodiff", peers::rq::w2, peers::rq::w3),
    ("easy-ml", peers::em::w2, peers::em::w3),
];

/// A size from this process's `/proc/self/status` (`field`: `"VmHWM:"`, …), in bytes.
fn status_bytes(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Peak resident set size of this process, in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

fn mem(engine: &str, n: usize) {
    let out = match engine {
        "scalargrad" => sg::w2(n).out,
        "scalargrad (no handles kept)" => sg::w2_mem(n),
        "scalargrad Value" => sg_value::w2(n).out,
        "floor" => floor::w2(n).out,
        "reverse" => peers::rev::w2(n).out,
        "RustQuant_autodiff" => peers::rq::w2(n).out,
        "easy-ml" => peers::em::w2(n).out,
        _ => panic!("unknown engine {engine}"),
    };
    println!(
        "{}",
        json!({"w": "W2-mem", "engine": engine, "n": n, "out": out, "peak_rss": peak_rss(),
               // file-backed pages (the program's code and libraries) now: they are never
               // given back, so peak RSS less these is the peak of the rest
               "rss_file": status_bytes("RssFile:")})
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    if let Some(i) = args.iter().position(|a| a == "--mem") {
        mem(&args[i + 1], args[i + 2].parse().unwrap());
        return;
    }
    // `--hog GIB`: writes GIB GiB of fresh memory and exits (cold.sh runs it before each
    // cold graph: the host then has just backed, and will take back, that much memory).
    if let Some(i) = args.iter().position(|a| a == "--hog") {
        let gib: usize = args[i + 1].parse().unwrap();
        let mut v = vec![0u8; gib << 30];
        for b in v.iter_mut().step_by(4096) {
            *b = 1;
        }
        std::hint::black_box(&v);
        return;
    }
    if args.iter().any(|a| a == "--chain") {
        chain::run();
        return;
    }
    if args.iter().any(|a| a == "--probe") {
        let (samples, init) = (data::moons(), data::init());
        if args.iter().any(|a| a == "--micrograd-style") {
            for _ in 0..5 {
                let m = sg::probe_micrograd_style(&samples, &init);
                println!("micrograd-style new graph/record/backward/update+drop µs {m:.1?}");
            }
            return;
        }
        for _ in 0..5 {
            let e = if args.iter().any(|a| a == "--fused-only") {
                [0.0; 3]
            } else {
                sg::probe(&samples, &init, sg::Path::Element)
            };
            let f = if args.iter().any(|a| a == "--element-only") {
                [0.0; 3]
            } else {
                sg::probe(&samples, &init, sg::Path::Fused)
            };
            if args.iter().any(|a| a == "--dense") {
                let d = sg::probe(&samples, &init, sg::Path::Dense);
                println!("dense record/backward/rest µs {d:.1?}");
                continue;
            }
            println!("element record/backward/rest µs {e:.1?}  fused {f:.1?}");
        }
        return;
    }
    // `--cold ENGINE W N [--rep K]`: the first graph of this process, timed (run once per
    // engine in a fresh process by run.sh).
    if let Some(i) = args.iter().position(|a| a == "--cold") {
        let (name, w, n) = (&args[i + 1], &args[i + 2], args[i + 3].parse().unwrap());
        let rep: usize = arg("--rep").map_or(0, |s| s.parse().unwrap());
        let (_, w2, w3) = CHAIN_ENGINES
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("unknown engine {name}"));
        let c = if w == "W2" { w2(n) } else { w3(n) };
        emit_chain(w, name, n, rep, true, &c);
        return;
    }
    let reps: usize = arg("--reps").map_or(5, |s| s.parse().unwrap());
    let rep0: usize = arg("--rep0").map_or(0, |s| s.parse().unwrap());
    let steps: usize = arg("--w1-steps").map_or(100, |s| s.parse().unwrap());
    // W1 runs `rounds` times per repetition (all engines interleaved in every round).
    let rounds: usize = arg("--w1-rounds").map_or(3, |s| s.parse().unwrap());
    let ns: Vec<usize> = arg("--n")
        .unwrap_or_else(|| "100000,1000000".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let only = arg("--only");
    let run = |w: &str| only.as_deref().is_none_or(|o| o == w);
    // `--engine NAME`: only the floors and engines whose name starts with NAME (for profiling).
    let engine = arg("--engine");
    // a trailing `$` asks for that engine exactly (`--engine 'scalargrad replay$'`); `|`
    // separates several (`--engine 'scalargrad micrograd-style$|reverse$'`)
    let on = |e: &str| {
        e.starts_with("floor")
            || engine.as_deref().is_none_or(|x| {
                x.split('|').any(|x| match x.strip_suffix('$') {
                    Some(exact) => e == exact,
                    None => e.starts_with(x),
                })
            })
    };

    let samples = data::moons();
    let init = data::init();
    type W1Fn<'a> = Box<dyn Fn() -> (Moons, Option<usize>) + 'a>;
    let (s, i) = (&samples[..], &init[..]);
    let w1_engines: Vec<(&str, W1Fn)> = vec![
        ("floor", Box::new(move || (floor::w1(s, i, steps), None))),
        (
            "floor fixed",
            Box::new(move || (floor::w1_fixed::<false>(s, i, steps), None)),
        ),
        (
            "floor fixed sparse",
            Box::new(move || (floor::w1_fixed::<true>(s, i, steps), None)),
        ),
        (
            "scalargrad idiomatic",
            Box::new(move || (sg::w1_idiomatic(steps), None)),
        ),
        (
            "scalargrad replay",
            Box::new(move || (sg::w1_replay_nn(steps), None)),
        ),
        (
            "scalargrad replay element",
            Box::new(move || (sg::w1_replay(s, i, steps, sg::Path::Element), None)),
        ),
        (
            "scalargrad replay fused",
            Box::new(move || (sg::w1_replay(s, i, steps, sg::Path::Fused), None)),
        ),
        (
            "scalargrad micrograd-style",
            Box::new(move || (sg::w1_micrograd_style(s, i, steps), None)),
        ),
        (
            "scalargrad Value micrograd-style",
            Box::new(move || (sg_value::w1_micrograd_style(s, i, steps), None)),
        ),
        (
            "scalargrad eager dense",
            Box::new(move || {
                let (m, n) = sg::w1_eager(s, i, steps, sg::Path::Dense);
                (m, Some(n))
            }),
        ),
        (
            "scalargrad eager",
            Box::new(move || {
                let (m, n) = sg::w1_eager(s, i, steps, sg::Path::Element);
                (m, Some(n))
            }),
        ),
        (
            "scalargrad eager fused",
            Box::new(move || {
                let (m, n) = sg::w1_eager(s, i, steps, sg::Path::Fused);
                (m, Some(n))
            }),
        ),
        (
            "reverse",
            Box::new(move || (peers::rev::w1(s, i, steps), None)),
        ),
        (
            "RustQuant_autodiff",
            Box::new(move || (peers::rq::w1(s, i, steps), None)),
        ),
        (
            "easy-ml",
            Box::new(move || (peers::em::w1(s, i, steps), None)),
        ),
    ];
    for rep in rep0..rep0 + reps {
        if run("w1") {
            for round in 0..rounds {
                for (name, f) in &w1_engines {
                    if on(name) {
                        let (m, nodes) = f();
                        emit_moons(name, rep, round, steps, &m, nodes);
                    }
                }
            }
        }
        for &n in &ns {
            // Each timed run follows an untimed one of the same engine and size ("warm": the
            // process has just built and dropped the same graph); the first graph of a fresh
            // process is timed by `--cold`.
            for (name, w2, w3) in CHAIN_ENGINES {
                if on(name) && run("w2") {
                    std::hint::black_box(w2(n).out);
                    emit_chain("W2", name, n, rep, false, &w2(n));
                }
                if on(name) && run("w3") {
                    std::hint::black_box(w3(n).out);
                    emit_chain("W3", name, n, rep, false, &w3(n));
                }
            }
        }
    }
}
