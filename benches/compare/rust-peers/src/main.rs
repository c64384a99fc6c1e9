//! Runs W1/W2/W3 on the hand-written floor, scalargrad and the Rust tape crates, interleaved
//! within each repetition, and prints one JSON line per measurement (see ../report.py).
//!
//! `scalargrad-compare [--reps R] [--rep0 K] [--n 100000,1000000] [--w1-steps 100] [--only w1|w2|w3]`
//! `scalargrad-compare --mem ENGINE N` runs W2 only and prints the process's peak RSS.
//! `scalargrad-compare --probe [--fused-only | --element-only]` prints scalargrad's W1 eager
//! phase times (record, backward, update + rewind), for profiling with `perf record`.

// The loops spell out WORKLOADS.md's formulas (`act = act + w·x`, index loops over layers);
// the peer crates' handles do not all implement `+=`.
#![allow(clippy::assign_op_pattern, clippy::needless_range_loop)]

mod data;
mod floor;
mod peers;
mod sg;

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

fn emit_moons(engine: &str, rep: usize, steps: usize, m: &Moons, nodes: Option<usize>) {
    println!(
        "{}",
        json!({"w": "W1", "engine": engine, "n": steps, "rep": rep, "step_s": m.step_s,
               "loss0": m.loss0, "loss99": if steps >= 100 { Some(m.loss99) } else { None },
               "nodes": nodes})
    );
}

fn emit_chain(w: &str, engine: &str, n: usize, rep: usize, c: &Chain) {
    println!(
        "{}",
        json!({"w": w, "engine": engine, "n": n, "rep": rep, "fwd_s": c.fwd_s, "bwd_s": c.bwd_s,
               "out": c.out, "s1": c.s1, "s2": c.s2})
    );
}

/// Peak resident set size of this process, in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn mem(engine: &str, n: usize) {
    let out = match engine {
        "scalargrad" => sg::w2(n).out,
        "scalargrad (no handles kept)" => sg::w2_mem(n),
        "floor" => floor::w2(n).out,
        "reverse" => peers::rev::w2(n).out,
        "RustQuant_autodiff" => peers::rq::w2(n).out,
        _ => panic!("unknown engine {engine}"),
    };
    println!(
        "{}",
        json!({"w": "W2-mem", "engine": engine, "n": n, "out": out, "peak_rss": peak_rss()})
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
    if args.iter().any(|a| a == "--probe") {
        let (samples, init) = (data::moons(), data::init());
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
            println!("element record/backward/rest µs {e:.1?}  fused {f:.1?}");
        }
        return;
    }
    let reps: usize = arg("--reps").map_or(5, |s| s.parse().unwrap());
    let rep0: usize = arg("--rep0").map_or(0, |s| s.parse().unwrap());
    let steps: usize = arg("--w1-steps").map_or(100, |s| s.parse().unwrap());
    let ns: Vec<usize> = arg("--n")
        .unwrap_or_else(|| "100000,1000000".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let only = arg("--only");
    let run = |w: &str| only.as_deref().is_none_or(|o| o == w);
    // `--engine NAME`: only the floor and engines whose name starts with NAME (for profiling).
    let engine = arg("--engine");
    let on = |e: &str| e == "floor" || engine.as_deref().is_none_or(|x| e.starts_with(x));

    let samples = data::moons();
    let init = data::init();
    for rep in rep0..rep0 + reps {
        if run("w1") {
            emit_moons(
                "floor",
                rep,
                steps,
                &floor::w1(&samples, &init, steps),
                None,
            );
            if on("scalargrad") {
                for (name, path) in [("", sg::Path::Element), (" fused", sg::Path::Fused)] {
                    let (m, nodes) = sg::w1_eager(&samples, &init, steps, path);
                    emit_moons(
                        &format!("scalargrad eager{name}"),
                        rep,
                        steps,
                        &m,
                        Some(nodes),
                    );
                    let m = sg::w1_replay(&samples, &init, steps, path);
                    emit_moons(&format!("scalargrad replay{name}"), rep, steps, &m, None);
                }
            }
            if on("reverse") {
                emit_moons(
                    "reverse",
                    rep,
                    steps,
                    &peers::rev::w1(&samples, &init, steps),
                    None,
                );
            }
            if on("RustQuant_autodiff") {
                let m = peers::rq::w1(&samples, &init, steps);
                emit_moons("RustQuant_autodiff", rep, steps, &m, None);
            }
        }
        for &n in &ns {
            type Engine = (&'static str, fn(usize) -> Chain, fn(usize) -> Chain);
            let engines: [Engine; 4] = [
                ("floor", floor::w2, floor::w3),
                ("scalargrad", sg::w2, sg::w3),
                ("reverse", peers::rev::w2, peers::rev::w3),
                ("RustQuant_autodiff", peers::rq::w2, peers::rq::w3),
            ];
            // Each timed run follows an untimed one of the same engine and size, so that every
            // engine finds the allocator as its own previous run left it (below glibc's mmap
            // threshold, freed memory is reused without page faults; at 10^6 nodes every run
            // maps fresh pages, whatever ran before).
            for (name, w2, w3) in engines {
                if on(name) && run("w2") {
                    std::hint::black_box(w2(n).out);
                    emit_chain("W2", name, n, rep, &w2(n));
                }
                if on(name) && run("w3") {
                    std::hint::black_box(w3(n).out);
                    emit_chain("W3", name, n, rep, &w3(n));
                }
            }
        }
    }
}
