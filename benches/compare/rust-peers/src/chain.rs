//! `--chain`: what a value read back right after it was stored costs. Two loops over a
//! tape-like array behind a `RefCell` (as `Graph` keeps its tape): each step stores a value
//! at the next position and bumps the length; in the first the value is the one stored the
//! step before plus one (micrograd-style recording's `act = act + w·x`: the op waits for the
//! store-to-load forward), in the second it is not read back. Prints ns a step for each.

use std::cell::RefCell;
use std::hint::black_box;

use crate::clock::Instant;

/// A tape's length and values, as `Graph` keeps them behind its `RefCell`.
struct Tape {
    len: usize,
    values: Vec<f64>,
}

/// `n` steps from position 1: store a value at the next position and bump the length; the
/// value is the one stored the step before plus one if `read_back`, else the step's number
/// plus one. Returns the last position.
#[inline(never)]
fn steps(t: &RefCell<Tape>, n: usize, read_back: bool) -> usize {
    let mut last = 0;
    for i in 0..n {
        let mut t = t.borrow_mut();
        let pos = t.len;
        let v = if read_back { t.values[last] } else { i as f64 } + 1.0;
        t.values[pos] = v;
        t.len = pos + 1;
        last = pos;
    }
    last
}

/// Times 50 × 60,000 steps each way, five times, and prints ns a step.
pub fn run() {
    let n = 60_000;
    for _ in 0..5 {
        let mut line = String::new();
        for read_back in [true, false] {
            let t = RefCell::new(Tape {
                len: 1,
                values: vec![0.0; n + 2],
            });
            let t0 = Instant::now();
            for _ in 0..50 {
                t.borrow_mut().len = 1;
                black_box(steps(&t, n, black_box(read_back)));
            }
            let ns = t0.elapsed().as_secs_f64() / (50.0 * n as f64) * 1e9;
            line += &format!("read back {read_back}: {ns:.2} ns a step   ");
        }
        println!("{line}");
    }
}
