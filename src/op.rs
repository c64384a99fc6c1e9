//! The operations: each one's forward rule and local-derivative rule side by side.
//!
//! An op node stores the *positions* of its inputs on the tape (see [`graph`](crate::graph)),
//! so the reverse pass reads inputs from dense arrays with no lookups. Inputs always sit at
//! lower positions than the node itself: creation order is a topological order.
//!
//! Each rule pair below reads `forward` then `pullback`: the pullback receives the upstream
//! gradient `g = ∂L/∂y` and hands `g · ∂y/∂xᵢ` to every input that wants a gradient. It is
//! generic over [`Scalar`], so the same text runs on `f64` (the reverse pass) and on
//! [`Var`](crate::Var) (the recorded gradient of [`Graph::grad`](crate::Graph::grad)).
//!
//! | op | primitive because | forward | local derivative |
//! |---|---|---|---|
//! | `Add` | design | `a + b` | 1, 1 |
//! | `Sub` | exactness and one node instead of two | `a − b` | 1, −1 |
//! | `Mul` | design | `a · b` | b, a |
//! | `Div` | exactness: `a · b⁻¹` rounds twice | `a / b` | 1/b, −y/b |
//! | `Neg` | one node instead of `−1 · a` | `−a` | −1 |
//! | `Pow` | design (constant `k`) | `aᵏ` | k·aᵏ⁻¹ (0 when k = 0) |
//! | `PowVar` | both derivatives | `aᵇ` | b·aᵇ⁻¹ (0 where a = b = 0), y·ln a (0 where a = 0, b ≥ 0) |
//! | `Exp` | exactness | `eᵃ` | y |
//! | `Ln` | exactness | `ln a` | 1/a |
//! | `Sigmoid` | design, stability | `1/(1+e⁻ᵃ)` | y(1 − y) |
//! | `Tanh` | stability: `(e²ᵃ−1)/(e²ᵃ+1)` overflows | `tanh a` | 1 − y² |
//! | `Relu` | design | `a ≤ 0 ? 0 : a` | `a ≤ 0 ? 0 : 1` |
//! | `Sin` | exactness (libm), higher order | `sin a` | cos a |
//! | `Cos` | exactness (libm), higher order | `cos a` | −sin a |
//! | `Sqrt` | exactness: `a^0.5` differs in the last bit | `√a` | 1/(2y) (+inf at 0, as PyTorch) |
//! | `Abs` | one node instead of three | `\|a\|` | sign a (0 at 0, as PyTorch) |
//! | `Max` | one node instead of a `relu` chain | `a ≥ b ? a : b` (NaN if either is) | 1, 0; ½, ½ on a tie (as PyTorch) |
//! | `Min` | one node instead of a `relu` chain | `a ≤ b ? a : b` (NaN if either is) | 1, 0; ½, ½ on a tie (as PyTorch) |
//! | `Log1p` | stability: `ln(1 + a)` loses `a` below 1e-16 | `ln(1 + a)` | 1/(1 + a) |
//! | `Softplus` | stability: `ln(1 + eᵃ)` overflows | `max(a, 0) + ln(1 + e^−\|a\|)` | σ(a) |
//! | `Custom` | user-defined | [`UnaryFn::value`](crate::UnaryFn::value) | [`UnaryFn::derivative`](crate::UnaryFn::derivative) |
//! | `CustomN` | user-defined, several inputs | [`NaryFn::value`](crate::NaryFn::value) | [`NaryFn::partial`](crate::NaryFn::partial) |
//! | `Sum` | speed: one node for n − 1 adds | `x₀ + x₁ + …` (left to right) | 1 each |
//! | `Dot` | speed: one node for a neuron | `[b] + w₀x₀ + w₁x₁ + …` (left to right) | 1, xᵢ, wᵢ |
//!
//! The n-ary `Sum` and `Dot` round exactly like the chain of binary nodes they replace, so
//! their values are bit-for-bit those of the element-by-element graph, and so are the
//! gradients when each handle appears once among a node's inputs (as in a neuron). A handle
//! repeated inside one `Dot` collects its shares in the opposite order from the chain's, which
//! can change the last bit once it appears three or more times (`tests/fused_bits.rs`).

use std::sync::Arc;

use smallvec::SmallVec;

use crate::custom::ErasedUnary;
use crate::scalar::{self, Scalar};

/// One recorded operation with the tape positions of its inputs: 12 bytes, so that a whole
/// node (value, gradient, op, handle generation and flags) fits in 32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    /// A leaf: [`Graph::var`](crate::Graph::var) or [`Graph::constant`](crate::Graph::constant).
    Leaf,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Neg(u32),
    /// Input position, and where the constant exponent's bits sit in `operands` (two words,
    /// high then low: an `f64` field would make every op 16 bytes).
    Pow(u32, u32),
    PowVar(u32, u32),
    Exp(u32),
    Ln(u32),
    Sigmoid(u32),
    Tanh(u32),
    Relu(u32),
    /// Input position and index into the graph's table of custom ops.
    Custom(u32, u32),
    Sin(u32),
    Cos(u32),
    Sqrt(u32),
    Abs(u32),
    Max(u32, u32),
    Min(u32, u32),
    Log1p(u32),
    Softplus(u32),
    /// `operands[start]` = n, then the n input positions; `f` indexes the custom-op table.
    CustomN {
        start: u32,
        f: u32,
    },
    /// `operands[start..start + len]`, summed left to right.
    Sum {
        start: u32,
        len: u32,
    },
    /// `operands[start..start + 2·pairs (+1)]`: an optional bias first, then `w, x` pairs.
    Dot {
        start: u32,
        pairs: u32,
        bias: bool,
    },
}

/// What a pullback needs from the pass that runs it: input values, and where gradients go.
pub(crate) trait Pull<S: Scalar> {
    /// The input at tape position `p`, as an `S`.
    fn input(&self, p: u32) -> S;
    /// Whether `p` wants a gradient (it depends on a tracked leaf).
    fn wants(&self, p: u32) -> bool;
    /// Accumulate `d` into the gradient of `p`.
    fn give(&mut self, p: u32, d: S);
    /// `f'(x)` of custom op number `index`, given input `x` and output `y`.
    fn custom_derivative(&self, index: u32, x: S, y: S) -> S;
    /// `∂f/∂xᵢ` of n-ary custom op number `index`, given its inputs `xs` and output `y`.
    fn custom_partial(&self, index: u32, i: usize, xs: &[S], y: S) -> S;
}

impl Op {
    /// Short name, as shown in DOT pictures and error messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Add(..) => "+",
            Op::Sub(..) => "-",
            Op::Mul(..) => "*",
            Op::Div(..) => "/",
            Op::Neg(..) => "neg",
            Op::Pow(..) => "pow",
            Op::PowVar(..) => "pow",
            Op::Exp(..) => "exp",
            Op::Ln(..) => "ln",
            Op::Sigmoid(..) => "sigmoid",
            Op::Tanh(..) => "tanh",
            Op::Relu(..) => "relu",
            Op::Custom(..) => "custom",
            Op::Sin(..) => "sin",
            Op::Cos(..) => "cos",
            Op::Sqrt(..) => "sqrt",
            Op::Abs(..) => "abs",
            Op::Max(..) => "max",
            Op::Min(..) => "min",
            Op::Log1p(..) => "log1p",
            Op::Softplus(..) => "softplus",
            Op::CustomN { .. } => "custom",
            Op::Sum { .. } => "sum",
            Op::Dot { .. } => "dot",
        }
    }

    /// Calls `f` on the position of every input, in order.
    #[inline(always)]
    pub(crate) fn for_each_input(&self, operands: &[u32], mut f: impl FnMut(u32)) {
        match *self {
            Op::Leaf => {}
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::PowVar(a, b)
            | Op::Max(a, b)
            | Op::Min(a, b) => {
                f(a);
                f(b)
            }
            Op::Neg(a)
            | Op::Pow(a, _)
            | Op::Exp(a)
            | Op::Ln(a)
            | Op::Sigmoid(a)
            | Op::Tanh(a)
            | Op::Relu(a)
            | Op::Custom(a, _)
            | Op::Sin(a)
            | Op::Cos(a)
            | Op::Sqrt(a)
            | Op::Abs(a)
            | Op::Log1p(a)
            | Op::Softplus(a) => f(a),
            Op::CustomN { start, .. } => custom_inputs(operands, start).iter().for_each(|&p| f(p)),
            Op::Sum { start, len } => span(operands, start, len).iter().for_each(|&p| f(p)),
            Op::Dot { start, pairs, bias } => span(operands, start, 2 * pairs + bias as u32)
                .iter()
                .for_each(|&p| f(p)),
        }
    }

    /// The forward rule: this op's value from its inputs' values (`at(p)` reads position `p`).
    ///
    /// # Panics
    /// On [`Op::Leaf`], whose value is set, not computed.
    #[inline(always)]
    pub(crate) fn eval(
        &self,
        at: impl Fn(u32) -> f64,
        operands: &[u32],
        customs: &[Arc<dyn ErasedUnary>],
    ) -> f64 {
        match *self {
            Op::Leaf => unreachable!("a leaf's value is set, not computed"),
            Op::Add(a, b) => at(a) + at(b),
            Op::Sub(a, b) => at(a) - at(b),
            Op::Mul(a, b) => at(a) * at(b),
            Op::Div(a, b) => at(a) / at(b),
            Op::Neg(a) => -at(a),
            Op::Pow(a, k) => at(a).powf(exponent(operands, k)),
            Op::PowVar(a, b) => at(a).powf(at(b)),
            Op::Exp(a) => at(a).exp(),
            Op::Ln(a) => at(a).ln(),
            Op::Sigmoid(a) => scalar::sigmoid(at(a)),
            Op::Tanh(a) => at(a).tanh(),
            Op::Relu(a) => scalar::relu(at(a)),
            Op::Custom(a, f) => customs[f as usize].value(at(a)),
            Op::Sin(a) => at(a).sin(),
            Op::Cos(a) => at(a).cos(),
            Op::Sqrt(a) => at(a).sqrt(),
            Op::Abs(a) => at(a).abs(),
            Op::Max(a, b) => scalar::max(at(a), at(b)),
            Op::Min(a, b) => scalar::min(at(a), at(b)),
            Op::Log1p(a) => at(a).ln_1p(),
            Op::Softplus(a) => scalar::softplus(at(a)),
            Op::CustomN { start, f } => {
                let xs: SmallVec<[f64; 8]> = custom_inputs(operands, start)
                    .iter()
                    .map(|&p| at(p))
                    .collect();
                customs[f as usize].value_n(&xs)
            }
            Op::Sum { start, len } => {
                let xs = span(operands, start, len);
                let mut acc = at(xs[0]);
                for &p in &xs[1..] {
                    acc += at(p);
                }
                acc
            }
            Op::Dot { start, pairs, bias } => {
                dot(&at, span(operands, start, 2 * pairs + bias as u32), bias)
            }
        }
    }

    /// The local-derivative rule: given output `y` and upstream gradient `g`, give each input
    /// that wants one its share `g · ∂y/∂input`.
    #[inline(always)]
    pub(crate) fn pullback<S: Scalar, P: Pull<S>>(&self, operands: &[u32], y: S, g: S, p: &mut P) {
        match *self {
            Op::Leaf => {}
            // y = a + b: ∂y/∂a = 1, ∂y/∂b = 1
            Op::Add(a, b) => {
                give(p, a, || g);
                give(p, b, || g);
            }
            // y = a − b: ∂y/∂a = 1, ∂y/∂b = −1
            Op::Sub(a, b) => {
                give(p, a, || g);
                give(p, b, || -g);
            }
            // y = a·b: ∂y/∂a = b, ∂y/∂b = a
            Op::Mul(a, b) => {
                let (va, vb) = (p.input(a), p.input(b));
                give(p, a, || g * vb);
                give(p, b, || g * va);
            }
            // y = a/b: ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b
            Op::Div(a, b) => {
                let vb = p.input(b);
                give(p, a, || g / vb);
                give(p, b, || -(g * y) / vb);
            }
            // y = −a: ∂y/∂a = −1
            Op::Neg(a) => give(p, a, || -g),
            // y = aᵏ: ∂y/∂a = k·aᵏ⁻¹, and 0 for k = 0 (as PyTorch: no 0·∞ at a = 0)
            Op::Pow(a, k) => {
                let k = exponent(operands, k);
                let va = p.input(a);
                give(p, a, || {
                    if k == 0.0 {
                        g.lift(0.0)
                    } else {
                        g * va.powf(k - 1.0) * k
                    }
                });
            }
            // y = aᵇ: ∂y/∂a = b·aᵇ⁻¹, taken as 0 where a = b = 0 (y ≡ 1 in a there, instead
            // of 0·0⁻¹ = 0·∞ = NaN; only there, so that ∂²y/∂a∂b = 1/a stays right at b = 0);
            // ∂y/∂b = y·ln a, taken as 0 where a = 0 and b ≥ 0 (the limit, instead of
            // 0·(−∞) = NaN). Both as PyTorch at those points.
            Op::PowVar(a, b) => {
                let (va, vb) = (p.input(a), p.input(b));
                give(p, a, || {
                    if vb.value() == 0.0 && va.value() == 0.0 {
                        g.lift(0.0)
                    } else {
                        g * vb * va.pow_scalar(vb - 1.0)
                    }
                });
                give(p, b, || {
                    if va.value() == 0.0 && vb.value() >= 0.0 {
                        g.lift(0.0)
                    } else {
                        g * y * va.ln()
                    }
                });
            }
            // y = eᵃ: ∂y/∂a = y
            Op::Exp(a) => give(p, a, || g * y),
            // y = ln a: ∂y/∂a = 1/a
            Op::Ln(a) => {
                let va = p.input(a);
                give(p, a, || g / va);
            }
            // y = σ(a): ∂y/∂a = y(1 − y)
            Op::Sigmoid(a) => give(p, a, || g * (y * (y.lift(1.0) - y))),
            // y = tanh a: ∂y/∂a = 1 − y²
            Op::Tanh(a) => give(p, a, || g * (y.lift(1.0) - y * y)),
            // y = relu(a): ∂y/∂a = 0 for a ≤ 0 (relu'(0) = 0, as PyTorch), 1 otherwise
            Op::Relu(a) => {
                let va = p.input(a);
                give(p, a, || if va.value() <= 0.0 { g.lift(0.0) } else { g });
            }
            // y = f(a): ∂y/∂a = f'(a), supplied by the user's UnaryFn
            Op::Custom(a, f) => {
                if p.wants(a) {
                    let d = p.custom_derivative(f, p.input(a), y);
                    p.give(a, g * d);
                }
            }
            // y = sin a: ∂y/∂a = cos a
            Op::Sin(a) => {
                let va = p.input(a);
                give(p, a, || g * va.cos());
            }
            // y = cos a: ∂y/∂a = −sin a
            Op::Cos(a) => {
                let va = p.input(a);
                give(p, a, || -(g * va.sin()));
            }
            // y = √a: ∂y/∂a = 1/(2√a) = 1/(2y), from the output; +inf at a = 0 (as PyTorch)
            Op::Sqrt(a) => give(p, a, || g / (y * 2.0)),
            // y = |a|: ∂y/∂a = sign a, 0 at a = 0 (as PyTorch), NaN for NaN
            Op::Abs(a) => {
                let va = p.input(a);
                give(p, a, || {
                    let v = va.value();
                    if v > 0.0 {
                        g
                    } else if v < 0.0 {
                        -g
                    } else if v == 0.0 {
                        g.lift(0.0)
                    } else {
                        g * va // NaN
                    }
                });
            }
            // y = max(a, b): ∂y/∂a = 1 where a > b, ∂y/∂b = 1 where b > a; on a tie each gets
            // ½ (as PyTorch's `maximum`); if either is NaN, both get NaN (y is NaN)
            Op::Max(a, b) => {
                let (va, vb) = (p.input(a).value(), p.input(b).value());
                pick(p, a, b, g, y, va.partial_cmp(&vb));
            }
            // y = min(a, b): the same with the roles swapped
            Op::Min(a, b) => {
                let (va, vb) = (p.input(a).value(), p.input(b).value());
                pick(p, a, b, g, y, vb.partial_cmp(&va));
            }
            // y = ln(1 + a): ∂y/∂a = 1/(1 + a)
            Op::Log1p(a) => {
                let va = p.input(a);
                give(p, a, || g / (va + 1.0));
            }
            // y = softplus a = ln(1 + eᵃ): ∂y/∂a = σ(a)
            Op::Softplus(a) => {
                let va = p.input(a);
                give(p, a, || g * va.sigmoid());
            }
            // y = f(x₀, x₁, …): ∂y/∂xᵢ supplied by the user's NaryFn
            Op::CustomN { start, f } => {
                let inputs = custom_inputs(operands, start);
                if inputs.iter().any(|&x| p.wants(x)) {
                    let xs: SmallVec<[S; 8]> = inputs.iter().map(|&x| p.input(x)).collect();
                    for (i, &x) in inputs.iter().enumerate() {
                        if p.wants(x) {
                            let d = p.custom_partial(f, i, &xs, y);
                            p.give(x, g * d);
                        }
                    }
                }
            }
            // y = Σ xᵢ: ∂y/∂xᵢ = 1
            Op::Sum { start, len } => {
                for &x in span(operands, start, len) {
                    give(p, x, || g);
                }
            }
            // y = [b] + Σ wᵢxᵢ: ∂y/∂b = 1, ∂y/∂wᵢ = xᵢ, ∂y/∂xᵢ = wᵢ
            Op::Dot { start, pairs, bias } => {
                let ops = span(operands, start, 2 * pairs + bias as u32);
                let wx = if bias {
                    give(p, ops[0], || g);
                    &ops[1..]
                } else {
                    ops
                };
                for pair in wx.chunks_exact(2) {
                    let (w, x) = (pair[0], pair[1]);
                    if p.wants(w) {
                        let vx = p.input(x);
                        p.give(w, g * vx);
                    }
                    if p.wants(x) {
                        let vw = p.input(w);
                        p.give(x, g * vw);
                    }
                }
            }
        }
    }
}

/// `[b] + w₀x₀ + w₁x₁ + …` left to right over `ops = [b,] w₀, x₀, w₁, x₁, …` (out of line:
/// inlined into the recording code, the running sum was kept in memory).
#[inline(never)]
fn dot(at: &impl Fn(u32) -> f64, ops: &[u32], bias: bool) -> f64 {
    let (mut acc, wx) = if bias {
        (at(ops[0]), &ops[1..])
    } else {
        (at(ops[0]) * at(ops[1]), &ops[2..])
    };
    for p in wx.chunks_exact(2) {
        acc += at(p[0]) * at(p[1]);
    }
    acc
}

/// The pullback of `max` (and of `min`, with `order` reversed): `order` compares the kept
/// input `a` with `b`. The winner gets `g`, a tie gives each `g/2`, NaN gives each `g·y`
/// (NaN).
#[inline(always)]
fn pick<S: Scalar, P: Pull<S>>(
    p: &mut P,
    a: u32,
    b: u32,
    g: S,
    y: S,
    order: Option<std::cmp::Ordering>,
) {
    use std::cmp::Ordering::*;
    match order {
        Some(Greater) => give(p, a, || g),
        Some(Less) => give(p, b, || g),
        Some(Equal) => {
            give(p, a, || g * 0.5);
            give(p, b, || g * 0.5);
        }
        None => {
            give(p, a, || g * y);
            give(p, b, || g * y);
        }
    }
}

/// The input positions of an [`Op::CustomN`] whose count sits at `operands[start]`.
#[inline(always)]
pub(crate) fn custom_inputs(operands: &[u32], start: u32) -> &[u32] {
    let n = operands[start as usize];
    span(operands, start + 1, n)
}

/// Gives `d()` to input `to` if it wants a gradient; `d` is not evaluated otherwise, so no
/// node is recorded for an input that is a constant.
#[inline(always)]
fn give<S: Scalar, P: Pull<S>>(p: &mut P, to: u32, d: impl FnOnce() -> S) {
    if p.wants(to) {
        let d = d();
        p.give(to, d);
    }
}

#[inline(always)]
fn span(operands: &[u32], start: u32, len: u32) -> &[u32] {
    &operands[start as usize..(start + len) as usize]
}

/// The constant exponent of an [`Op::Pow`], from its two words in `operands`.
#[inline(always)]
pub(crate) fn exponent(operands: &[u32], at: u32) -> f64 {
    let at = at as usize;
    f64::from_bits(u64::from(operands[at]) << 32 | u64::from(operands[at + 1]))
}

/// The two words [`exponent`] reads back, for recording an [`Op::Pow`].
#[inline(always)]
pub(crate) fn exponent_words(k: f64) -> [u32; 2] {
    let bits = k.to_bits();
    [(bits >> 32) as u32, bits as u32]
}
