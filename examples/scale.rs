//! How big can a graph get? Builds one workload in a fresh process, runs forward and
//! backward, and prints time, nodes, peak memory and bytes per node.
//!
//! ```text
//! cargo run --release --example scale                 # W2 chain, N = 2·10⁶: 10,000,001 nodes
//! cargo run --release --example scale -- chain 1      # the same process at N = 1 (baseline)
//! cargo run --release --example scale -- wide 2500000 # W3: 9,999,999 nodes
//! cargo run --release --example scale -- chain 2000000 reserve  # Graph::with_capacity
//! ```
//!
//! Peak memory is the kernel's high-water mark of this process's resident set (`VmHWM` in
//! `/proc/self/status`), read before the graph is built and after backward; bytes per node
//! is their difference over the node count, so it includes the arena's spare capacity
//! (vectors grow by doubling) and the reverse pass's scratch, but not the `Vec` of leaf
//! handles the program itself keeps (16 bytes per handle, also counted: it is part of what
//! a real program holds).

use std::time::Instant;

use scalargrad::{Graph, Var};

/// A line of `/proc/self/status` in kB (`VmHWM`, `VmRSS`), or 0 where there is no `/proc`.
fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

const USAGE: &str = "usage: scale [chain|wide] [N ≥ 1] [reserve]";

/// The command line: `[chain|wide] [N] [reserve]`, each checked, with the defaults above.
fn parse_args(args: &[String]) -> Result<(&str, usize, bool), String> {
    let workload = args.first().map_or("chain", String::as_str);
    if workload != "chain" && workload != "wide" {
        return Err(format!(
            "unknown workload `{workload}`: use `chain` or `wide`"
        ));
    }
    let n = match args.get(1) {
        None => 2_000_000,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(format!("N must be a whole number ≥ 1, not `{s}`")),
        },
    };
    let reserve = match args.get(2).map(String::as_str) {
        None => false,
        Some("reserve") => true,
        Some(other) => return Err(format!("unknown option `{other}`: only `reserve`")),
    };
    if args.len() > 3 {
        return Err(format!("unexpected argument `{}`", args[3]));
    }
    Ok((workload, n, reserve))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (workload, n, reserve) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(problem) => {
            eprintln!("scale: {problem}\n{USAGE}");
            std::process::exit(2);
        }
    };

    let before = status_kb("VmHWM:");
    let t0 = Instant::now();
    let expected_nodes = if workload == "chain" {
        5 * n + 1
    } else {
        4 * n - 1
    };
    let g = if reserve {
        Graph::with_capacity(expected_nodes)
    } else {
        Graph::new()
    };
    let mut leaves: Vec<Var<'_>> = Vec::new();
    let root = if workload == "chain" {
        // W2: x = tanh(x·w + b), N times
        let mut x = g.var(0.5);
        leaves.push(x);
        for k in 0..n {
            let w = g.var(0.5 + 0.001 * (k % 7) as f64);
            let b = g.var(0.01 * (k % 5) as f64);
            x = (x * w + b).tanh();
            leaves.push(w);
            leaves.push(b);
        }
        x
    } else {
        // W3: a₀b₀ + a₁b₁ + … as a left-deep chain of binary adds
        let mut acc: Option<Var<'_>> = None;
        for i in 0..n {
            let a = g.var((i % 10) as f64 * 0.1);
            let b = g.var(1.0 - (i % 3) as f64 * 0.2);
            let p = a * b;
            acc = Some(acc.map_or(p, |s| s + p));
            leaves.push(a);
            leaves.push(b);
        }
        acc.expect("N ≥ 1")
    };
    let forward = t0.elapsed();
    let t1 = Instant::now();
    root.backward();
    let backward = t1.elapsed();

    // checksums, as in benches/WORKLOADS.md
    let (mut even, mut odd) = (0.0, 0.0);
    for (i, l) in leaves
        .iter()
        .enumerate()
        .skip(usize::from(workload == "chain"))
    {
        let which = if workload == "chain" { i - 1 } else { i };
        if which % 2 == 0 {
            even += l.grad();
        } else {
            odd += l.grad();
        }
    }
    let nodes = g.len();
    assert_eq!(nodes, expected_nodes);
    let after = status_kb("VmHWM:");
    let grown = after.saturating_sub(before) * 1024;

    println!("workload {workload}, N = {n}, reserve = {reserve}");
    println!("nodes                {nodes}");
    println!("root value           {:.17}", root.value());
    println!("checksums            {even:.17} {odd:.17}");
    println!(
        "forward              {forward:.2?} ({:.1} ns/node)",
        forward.as_nanos() as f64 / nodes as f64
    );
    println!(
        "backward             {backward:.2?} ({:.1} ns/node)",
        backward.as_nanos() as f64 / nodes as f64
    );
    println!("peak RSS before      {:.1} MiB", before as f64 / 1024.0);
    println!("peak RSS after       {:.1} MiB", after as f64 / 1024.0);
    println!(
        "bytes per node       {:.1} (incl. {:.1} for the program's Vec of leaf handles)",
        grown as f64 / nodes as f64,
        (leaves.capacity() * std::mem::size_of::<Var<'_>>()) as f64 / nodes as f64
    );
}
