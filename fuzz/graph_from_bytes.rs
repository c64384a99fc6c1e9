//! Arbitrary bytes → a graph of random ops, and the invariants every such graph must keep.
//!
//! Shared, as a plain source file, by the `cargo fuzz` target (`fuzz/fuzz_targets/graph.rs`)
//! and by the proptest that runs in CI (`tests/fuzz_invariants.rs`).
//!
//! # The byte format
//! Byte 0 picks the mode (even: *wild*, odd: *tame*) and byte 1 the number of leaves (1–4);
//! then one value per leaf; then instructions until the bytes run out (at most
//! [`MAX_INSTRUCTIONS`]): an opcode byte, operand bytes (an index, modulo the number of live
//! nodes, into the list of live nodes), and constants where the op takes one. Missing bytes
//! read as 0, so every byte string is a program.
//!
//! - **Wild** values come from a table of edge points (±0, ±inf, NaN, 1e±300, 709/710,
//!   subnormals, …) or from 8 raw bytes, and ops are the bare engine ops.
//! - **Tame** values lie in [−2, 2], and every op is wrapped so that inputs in [−2, 2] give an
//!   output in [−2, 2] and the op's partial derivatives sum to at most 1 in absolute value
//!   (`a·b/4`, `0.4·a/(b²+1)`, `ln(a²+1)`, `(a²/4+1)ᵏ/2`, `eᵃ/8`, `tanh(affine/(1+4n))`, …),
//!   even when both operands are the same node. So no node's derivative with respect to a
//!   leaf exceeds 1 however deep the program: a well-conditioned smooth function (except at
//!   `relu` kinks, which are detected) whose gradient must match central differences.
//!
//! # The invariants ([`check`])
//! 1. Building, `backward`, `grad`, `recompute` and `check_finite` never panic (rewinds only
//!    drop handles that are not used again).
//! 2. A stale handle (to a node freed by a rewind) panics with the documented message, and
//!    never reads the node that reused its slot.
//! 3. `recompute` reproduces every value bit for bit.
//! 4. A second `backward` doubles every gradient exactly.
//! 5. `Graph::grad` (the gradient recorded as nodes) equals the numbers of `backward`.
//! 6. In anomaly mode the same program panics (with a message starting `scalargrad anomaly`)
//!    exactly when `check_finite` reports a non-finite value or gradient without it.
//! 7. Tame programs away from relu kinks pass [`gradcheck`] against central differences,
//!    and so does their recorded gradient (`Graph::grad`, i.e. second derivatives).

use std::panic::{catch_unwind, AssertUnwindSafe};

use scalargrad::check::{gradcheck, Tolerance};
use scalargrad::{Graph, Scalar, UnaryFn, Var};

/// Instructions read from one input at most (keeps a fuzz execution short).
pub const MAX_INSTRUCTIONS: usize = 48;

/// Edge points used by wild programs.
const WILD: [f64; 28] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    -2.0,
    3.0,
    1.0 / 3.0,
    100.0,
    -100.0,
    709.0,
    710.0,
    -745.5,
    1e-300,
    -1e-300,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e-8,
    0.1,
    -3.7,
];

/// Exponents for `pow` in tame programs.
const TAME_EXPONENTS: [f64; 6] = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0];

/// Which semantics a program's ops have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bare ops on edge-point values: IEEE propagation, no finite-difference check.
    Wild,
    /// Bounded, smooth wrappers on values in [−2, 2]: finite differences must agree.
    Tame,
}

/// One instruction. Operands are indices into the list of live nodes (taken modulo its
/// length when the program runs).
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// A constant leaf.
    Constant(f64),
    /// `a + b`.
    Add(u8, u8),
    /// `a − b`.
    Sub(u8, u8),
    /// `a · b`.
    Mul(u8, u8),
    /// `a / b`.
    Div(u8, u8),
    /// `−a`.
    Neg(u8),
    /// `aᵏ`.
    Pow(u8, f64),
    /// `aᵇ`.
    PowVar(u8, u8),
    /// `eᵃ`.
    Exp(u8),
    /// `ln a`.
    Ln(u8),
    /// `σ(a)`.
    Sigmoid(u8),
    /// `tanh a`.
    Tanh(u8),
    /// `relu a`.
    Relu(u8),
    /// The custom op `a²`.
    Square(u8),
    /// `a + c` with an `f64` on the right.
    AddConst(u8, f64),
    /// `c / a` with an `f64` on the left.
    ConstDiv(f64, u8),
    /// `Graph::sum` of 1–4 nodes.
    Sum(Vec<u8>),
    /// `Graph::dot` of 1–3 pairs.
    Dot(Vec<u8>, Vec<u8>),
    /// `Graph::affine` with a bias and 0–3 pairs.
    Affine(u8, Vec<u8>, Vec<u8>),
    /// `Graph::mark`, remembered on a stack.
    Mark,
    /// `Graph::rewind` to the last mark: the handles created since are dropped from the list.
    Rewind,
}

/// A program: mode, leaf values, instructions.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The semantics of the ops.
    pub mode: Mode,
    /// Values of the tracked leaves, created first.
    pub leaves: Vec<f64>,
    /// The instructions, in order.
    pub instrs: Vec<Instr>,
}

/// Reads bytes, giving 0 past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
    fn value(&mut self, mode: Mode) -> f64 {
        let b = self.byte();
        match mode {
            Mode::Tame => b as f64 / 255.0 * 4.0 - 2.0,
            Mode::Wild if (b as usize) < WILD.len() => WILD[b as usize],
            Mode::Wild if b == 255 => {
                let mut raw = [0u8; 8];
                raw.iter_mut().for_each(|r| *r = self.byte());
                f64::from_le_bytes(raw)
            }
            Mode::Wild => (b as f64 - 128.0) / 16.0,
        }
    }
    fn exponent(&mut self, mode: Mode) -> f64 {
        match mode {
            Mode::Tame => TAME_EXPONENTS[self.byte() as usize % TAME_EXPONENTS.len()],
            Mode::Wild => self.value(mode),
        }
    }
    fn operands(&mut self, min: usize, max: usize) -> Vec<u8> {
        let n = min + self.byte() as usize % (max - min + 1);
        (0..n).map(|_| self.byte()).collect()
    }
}

impl Program {
    /// Parses any byte string into a program.
    pub fn from_bytes(bytes: &[u8]) -> Program {
        let mut r = Reader { bytes, at: 0 };
        let mode = if r.byte() & 1 == 0 {
            Mode::Wild
        } else {
            Mode::Tame
        };
        let leaves = (0..1 + r.byte() % 4).map(|_| r.value(mode)).collect();
        let mut instrs = Vec::new();
        while !r.done() && instrs.len() < MAX_INSTRUCTIONS {
            let op = r.byte() % 21;
            instrs.push(match op {
                0 => Instr::Constant(r.value(mode)),
                1 => Instr::Add(r.byte(), r.byte()),
                2 => Instr::Sub(r.byte(), r.byte()),
                3 => Instr::Mul(r.byte(), r.byte()),
                4 => Instr::Div(r.byte(), r.byte()),
                5 => Instr::Neg(r.byte()),
                6 => Instr::Pow(r.byte(), r.exponent(mode)),
                7 => Instr::PowVar(r.byte(), r.byte()),
                8 => Instr::Exp(r.byte()),
                9 => Instr::Ln(r.byte()),
                10 => Instr::Sigmoid(r.byte()),
                11 => Instr::Tanh(r.byte()),
                12 => Instr::Relu(r.byte()),
                13 => Instr::Square(r.byte()),
                14 => Instr::AddConst(r.byte(), r.value(mode)),
                15 => Instr::ConstDiv(r.value(mode), r.byte()),
                16 => Instr::Sum(r.operands(1, 4)),
                17 => {
                    let w = r.operands(1, 3);
                    let x = w.iter().map(|_| r.byte()).collect();
                    Instr::Dot(w, x)
                }
                18 => {
                    let b = r.byte();
                    let w = r.operands(0, 3);
                    let x = w.iter().map(|_| r.byte()).collect();
                    Instr::Affine(b, w, x)
                }
                19 => Instr::Mark,
                _ => Instr::Rewind,
            });
        }
        Program {
            mode,
            leaves,
            instrs,
        }
    }
}

/// The custom op of the programs: `x²`, derivative `2x`.
pub struct Square;

impl UnaryFn for Square {
    fn name(&self) -> &str {
        "square"
    }
    fn value(&self, x: f64) -> f64 {
        x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x * 2.0
    }
}

/// What running a program produced besides its root.
#[derive(Debug, Default)]
pub struct Run {
    /// The smallest `|input|` of any relu (∞ if none): the distance to a kink.
    pub relu_margin: f64,
    /// Nodes freed by rewinds: their handles must now panic.
    pub freed: usize,
}

/// Runs `program` on `leaves` (tracked leaves of `g`, one per `program.leaves`) and returns
/// the root: the mean of every live node, so that every node contributes to the gradient.
pub fn build<'g>(g: &'g Graph, program: &Program, leaves: &[Var<'g>]) -> (Var<'g>, Run) {
    build_probing(g, program, leaves, false)
}

fn build_probing<'g>(
    g: &'g Graph,
    program: &Program,
    leaves: &[Var<'g>],
    probe_stale: bool,
) -> (Var<'g>, Run) {
    let tame = program.mode == Mode::Tame;
    let square = g.custom(Square);
    let mut live: Vec<Var<'g>> = leaves.to_vec();
    // Where in `live` each entry's node was created: `sum` of one term and `affine` of no
    // pairs return their input's handle instead of a new node.
    let mut birth: Vec<usize> = (0..live.len()).collect();
    let mut marks = Vec::new();
    let mut run = Run {
        relu_margin: f64::INFINITY,
        freed: 0,
    };
    for instr in &program.instrs {
        let n = live.len();
        let at = |i: u8| live[i as usize % n];
        let born = match instr {
            Instr::Sum(xs) if !tame && xs.len() == 1 => birth[xs[0] as usize % n],
            Instr::Affine(b, w, _) if !tame && w.is_empty() => birth[*b as usize % n],
            _ => n,
        };
        let all = |is: &[u8]| is.iter().map(|&i| at(i)).collect::<Vec<_>>();
        let y = match instr {
            Instr::Constant(c) => g.constant(*c),
            Instr::Add(a, b) if tame => (at(*a) + at(*b)) * 0.5,
            Instr::Add(a, b) => at(*a) + at(*b),
            Instr::Sub(a, b) if tame => (at(*a) - at(*b)) * 0.5,
            Instr::Sub(a, b) => at(*a) - at(*b),
            Instr::Mul(a, b) if tame => at(*a) * at(*b) * 0.25,
            Instr::Mul(a, b) => at(*a) * at(*b),
            Instr::Div(a, b) if tame => at(*a) / (at(*b) * at(*b) + 1.0) * 0.4,
            Instr::Div(a, b) => at(*a) / at(*b),
            Instr::Neg(a) => -at(*a),
            Instr::Pow(a, k) if tame => (at(*a) * at(*a) * 0.25 + 1.0).pow(*k) * 0.5,
            Instr::Pow(a, k) => at(*a).pow(*k),
            Instr::PowVar(a, b) if tame => {
                let base = at(*a) * at(*a) * 0.25 + 1.0;
                base.pow_var(at(*b).sigmoid()) * 0.5
            }
            Instr::PowVar(a, b) => at(*a).pow_var(at(*b)),
            Instr::Exp(a) if tame => at(*a).exp() * 0.125,
            Instr::Exp(a) => at(*a).exp(),
            Instr::Ln(a) if tame => (at(*a) * at(*a) + 1.0).ln(),
            Instr::Ln(a) => at(*a).ln(),
            Instr::Sigmoid(a) => at(*a).sigmoid(),
            Instr::Tanh(a) => at(*a).tanh(),
            Instr::Relu(a) => {
                run.relu_margin = run.relu_margin.min(at(*a).value().abs());
                at(*a).relu()
            }
            Instr::Square(a) if tame => square.apply(at(*a)) * 0.25,
            Instr::Square(a) => square.apply(at(*a)),
            Instr::AddConst(a, c) if tame => (at(*a) + *c) * 0.5,
            Instr::AddConst(a, c) => at(*a) + *c,
            Instr::ConstDiv(c, a) if tame => *c / (at(*a) * at(*a) + 1.0) * 0.25,
            Instr::ConstDiv(c, a) => *c / at(*a),
            Instr::Sum(xs) if tame => g.sum(&all(xs)) * (1.0 / xs.len() as f64),
            Instr::Sum(xs) => g.sum(&all(xs)),
            Instr::Dot(w, x) if tame => g.dot(&all(w), &all(x)) * (0.25 / w.len() as f64),
            Instr::Dot(w, x) => g.dot(&all(w), &all(x)),
            Instr::Affine(b, w, x) if tame => {
                let scale = 1.0 / (1 + 4 * w.len()) as f64;
                (g.affine(at(*b), &all(w), &all(x)) * scale).tanh()
            }
            Instr::Affine(b, w, x) => g.affine(at(*b), &all(w), &all(x)),
            Instr::Mark => {
                if marks.len() < 4 {
                    marks.push((g.mark(), live.len()));
                }
                continue;
            }
            Instr::Rewind => {
                if let Some((mark, keep)) = marks.pop() {
                    let doomed: Vec<Var<'g>> = (keep..live.len())
                        .filter(|&i| birth[i] >= keep)
                        .map(|i| live[i])
                        .collect();
                    g.rewind(mark);
                    live.truncate(keep);
                    birth.truncate(keep);
                    run.freed += doomed.len();
                    if probe_stale {
                        check_stale(g, &doomed, &live);
                    }
                }
                continue;
            }
        };
        live.push(y);
        birth.push(born);
    }
    let root = g.sum(&live) * (1.0 / live.len() as f64);
    (root, run)
}

/// Invariant 2: every freed handle panics with the documented message, even after new nodes
/// have taken the freed slots.
fn check_stale<'g>(g: &'g Graph, doomed: &[Var<'g>], live: &[Var<'g>]) {
    // New nodes at the freed positions.
    let mark = g.mark();
    for _ in 0..doomed.len() {
        let _ = g.constant(f64::from_bits(0x7ff8_dead_beef_0001));
    }
    for stale in doomed {
        let r = quietly(|| stale.value());
        let msg = match r {
            Ok(v) => panic!("a freed handle read the value {v} instead of panicking"),
            Err(e) => message(e),
        };
        assert!(
            msg.contains("this handle points to a node that was freed"),
            "stale handle panicked with {msg:?}"
        );
        if let Some(x) = live.first() {
            let r = quietly(|| *x + *stale);
            assert!(r.is_err(), "a freed handle was combined into a new node");
        }
    }
    g.rewind(mark);
}

/// Runs `f`, catching a panic without printing it (and without the fuzzer's hook, which
/// would abort the process on an expected panic).
pub fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    // One swap at a time, or two threads could restore each other's silent hook.
    static SWAP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    r
}

/// The text of a panic payload.
pub fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// Equal as numbers, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Runs every invariant on the program read from `bytes`; panics (with what broke) if one
/// fails. `unwinding`: whether panics can be caught here (the anomaly and stale-handle
/// checks need it; a fuzz build that aborts on panic passes `false`).
pub fn check(bytes: &[u8], unwinding: bool) {
    let program = Program::from_bytes(bytes);
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = program.leaves.iter().map(|&v| g.var(v)).collect();
    let (root, run) = build_probing(&g, &program, &leaves, unwinding);

    // 3. recompute reproduces every value bit for bit
    let before: Vec<f64> = (0..leaves.len()).map(|i| leaves[i].value()).collect();
    let root_value = root.value();
    g.recompute();
    assert!(same(root.value(), root_value), "recompute changed the root");
    for (l, b) in leaves.iter().zip(&before) {
        assert!(same(l.value(), *b), "recompute changed a leaf");
    }

    // 5. recorded gradient (before any backward, so grads are untouched)
    let recorded: Vec<f64> = g.grad(root, &leaves).iter().map(|d| d.value()).collect();
    assert!(
        leaves.iter().all(|l| l.grad() == 0.0),
        "Graph::grad touched .grad()"
    );

    // 4. backward twice doubles
    root.backward();
    let once: Vec<f64> = leaves.iter().map(|l| l.grad()).collect();
    root.backward();
    for (l, o) in leaves.iter().zip(&once) {
        assert!(
            same(l.grad(), 2.0 * o),
            "second backward: {} vs 2·{o}",
            l.grad()
        );
    }
    for (r, o) in recorded.iter().zip(&once) {
        assert!(same(*r, *o), "Graph::grad gave {r}, backward {o}");
    }

    // 6. anomaly mode panics iff something is non-finite
    if unwinding {
        let fresh = Graph::new();
        let fl: Vec<Var<'_>> = program.leaves.iter().map(|&v| fresh.var(v)).collect();
        let (froot, _) = build(&fresh, &program, &fl);
        froot.backward();
        let finite = fresh.check_finite();

        let watched = Graph::new();
        watched.detect_anomaly(true);
        let r = quietly(|| {
            let wl: Vec<Var<'_>> = program.leaves.iter().map(|&v| watched.var(v)).collect();
            let (wroot, _) = build(&watched, &program, &wl);
            wroot.backward();
        });
        match (r, finite) {
            (Ok(()), Ok(())) => {}
            // A rewound node may have been non-finite: the anomaly fired at its creation,
            // but check_finite no longer sees it.
            (Err(e), Ok(())) if run.freed > 0 => {
                let msg = message(e);
                assert!(msg.starts_with("scalargrad anomaly"), "{msg:?}");
            }
            (Err(e), Err(_)) => {
                let msg = message(e);
                assert!(
                    msg.starts_with("scalargrad anomaly"),
                    "anomaly mode panicked with {msg:?}"
                );
            }
            (Ok(()), Err(bad)) => panic!("anomaly mode missed a non-finite node: {bad}"),
            (Err(e), Ok(())) => panic!("anomaly mode panicked on a finite graph: {:?}", message(e)),
        }
    }

    // 7. tame programs away from kinks match finite differences
    if program.mode == Mode::Tame && run.relu_margin > 1e-3 {
        let tol = Tolerance {
            step: 1e-5,
            abs: 1e-6,
            rel: 1e-5,
        };
        let report = gradcheck(|g, x| build(g, &program, x).0, &program.leaves, tol);
        assert!(report.passed(), "{report}\n{program:?}");
        assert!(
            report.value.abs() <= 2.0,
            "tame value out of bounds: {report}"
        );
        // second derivatives: the recorded gradient ∂root/∂x₀ (Graph::grad), as a function
        // of every leaf, against central differences of itself
        let second = gradcheck(
            |g, x| g.grad(build(g, &program, x).0, &x[..1])[0],
            &program.leaves,
            tol,
        );
        assert!(second.passed(), "second derivatives: {second}\n{program:?}");
    }
}
