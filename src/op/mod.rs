//! The operations: each one's forward rule and local-derivative rule side by side.
//!
//! An op node stores the *positions* of its inputs on the tape (see [`tape`](crate::tape)),
//! so the reverse pass reads inputs from dense arrays with no lookups. Inputs always sit at
//! lower positions than the node itself: creation order is a topological order. On the tape
//! the common ops are packed into one 8-byte word (see `tape/word.rs`); the rest sit whole
//! in a side table.
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
//! | `Square` | one node instead of `a · a` (same bits) | `a · a` | 2a |
//! | `Clamp` | one node instead of a `max` and a `min` | `a` limited to `[lo, hi]` | 1 inside (bounds included), else 0 |
//! | `Detach` | a value with no gradient | `a` | none (recorded untracked) |
//! | `Custom` | user-defined | [`UnaryFn::value`](crate::UnaryFn::value) | [`UnaryFn::derivative`](crate::UnaryFn::derivative) |
//! | `CustomN` | user-defined, several inputs | [`NaryFn::value`](crate::NaryFn::value) | [`NaryFn::partial`](crate::NaryFn::partial) |
//! | `Sum` | speed: one node for n − 1 adds | `x₀ + x₁ + …` (left to right) | 1 each |
//! | `Dot` | speed: one node for a neuron | `[b] + w₀x₀ + w₁x₁ + …` (left to right) | 1, xᵢ, wᵢ |
//!
//! The n-ary `Sum` and `Dot` round exactly like the chain of binary nodes they replace, so
//! their values are bit-for-bit those of the element-by-element graph, and so are the
//! gradients when each handle appears once among a node's inputs (as in a neuron). A handle
//! repeated inside one `Dot` collects its shares in the opposite order from the chain's, which
//! can change the last bit once it appears three or more times (`tests/fused_bits.rs`). Their
//! inputs are `Span`s: a run of consecutive tape positions (a neuron's weights, a layer's
//! outputs) or a list in the operand table. Over runs, the forward rule is a loop over two
//! slices and the reverse pass two `axpy` loops the compiler vectorises.
//!
//! A layer's rows are one `Dot` each as far as every rule here is concerned; how they are
//! stored and computed a block at a time is the fast path [`fast`](crate::fast) `rows`.
//!
//! The elementwise ops of one input are also listed once in `list.rs` ([`unary_ops!`](crate::unary_ops)),
//! which generates their methods on `Var`, `Value` and `Scalar`; so are the four arithmetic
//! operators (`arithmetic_ops!`), whose impls on `Var` and `Value` it generates.

mod list;
pub(crate) use list::arithmetic_ops;

use std::sync::Arc;

use smallvec::SmallVec;

use crate::custom::ErasedUnary;
use crate::scalar::{self, Scalar};

/// One recorded operation with the tape positions of its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    /// A leaf: [`Graph::var`](crate::Graph::var) or [`Graph::constant`](crate::Graph::constant).
    Leaf,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Neg(u32),
    /// Input position and the constant exponent.
    Pow(u32, f64),
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
    Square(u32),
    /// The input's value, passing no gradient back (recorded untracked).
    Detach(u32),
    /// Input position, lower and upper bound.
    Clamp(u32, f64, f64),
    /// `operands[start]` = n, then the n input positions; `f` indexes the custom-op table.
    CustomN {
        start: u32,
        f: u32,
    },
    /// `len` inputs, summed left to right.
    Sum {
        xs: Span,
        len: u32,
    },
    /// `[b] + w₀x₀ + w₁x₁ + …` over `len` pairs; `wants` says which inputs want a gradient
    /// (see [`Wants`]), so the reverse pass over runs needs no per-input test.
    Dot {
        w: Span,
        x: Span,
        len: u32,
        bias: Option<u32>,
        wants: Wants,
    },
}

/// Where an n-ary op's inputs are: `len` consecutive tape positions from a start (a run),
/// or the positions listed in the operand table from an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    Run(u32),
    List(u32),
}

/// Which inputs of a [`Op::Dot`] depend on a tracked leaf: bits `W_ALL`, `W_ANY`, `X_ALL`,
/// `X_ANY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Wants(pub(crate) u8);

impl Wants {
    pub(crate) const W_ALL: u8 = 1;
    pub(crate) const W_ANY: u8 = 2;
    pub(crate) const X_ALL: u8 = 4;
    pub(crate) const X_ANY: u8 = 8;

    /// The bits for one side (`all`, `any` shifted to `W_*` or `X_*`).
    #[inline(always)]
    pub(crate) fn side(all: bool, any: bool, x_side: bool) -> u8 {
        (u8::from(all) | u8::from(any) << 1) << (2 * u8::from(x_side))
    }

    #[inline(always)]
    pub(crate) fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// A [`Span`] resolved against the operand table: the positions of an n-ary op's inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seq<'a> {
    /// Positions `start, start + 1, …, start + len − 1`.
    Run(u32, u32),
    List(&'a [u32]),
}

impl<'a> Seq<'a> {
    #[inline(always)]
    pub(crate) fn new(operands: &'a [u32], span: Span, len: u32) -> Self {
        match span {
            Span::Run(start) => Seq::Run(start, len),
            Span::List(start) => Seq::List(self::span(operands, start, len)),
        }
    }

    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        match *self {
            Seq::Run(_, len) => len as usize,
            Seq::List(xs) => xs.len(),
        }
    }

    /// The `i`-th position.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> u32 {
        match *self {
            Seq::Run(start, _) => start + i as u32,
            Seq::List(xs) => xs[i],
        }
    }
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
    /// A dot product's shares: `g·xᵢ` to each `wᵢ`, `g·wᵢ` to each `xᵢ`, pair by pair. A pass
    /// on numbers overrides this with two contiguous loops over runs (same sums, same order
    /// per input: see `backward`).
    #[inline(always)]
    fn give_dot(&mut self, w: Seq<'_>, x: Seq<'_>, g: S, _wants: Wants) {
        for i in 0..w.len() {
            let (wi, xi) = (w.at(i), x.at(i));
            if self.wants(wi) {
                let vx = self.input(xi);
                self.give(wi, g * vx);
            }
            if self.wants(xi) {
                let vw = self.input(wi);
                self.give(xi, g * vw);
            }
        }
    }
}

impl Op {
    /// Whether every local derivative of the op is finite wherever its inputs' values and
    /// its own value are finite (the derivatives are those values, constants, or products
    /// and sums of them: `Mul`'s `b, a`, `Tanh`'s `1 − y²`, `Dot`'s `xᵢ, wᵢ`, …), so that a
    /// zero gradient through it gives its inputs only ±0 shares. Not so for `Div` (`1/b`
    /// overflows for a tiny `b`), `Ln`, `Log1p`, `Sqrt` (`1/(2y)` at 0), `Pow`, `PowVar` and
    /// user ops. See `backward::reverse_pass`, "Zero gradients".
    pub(crate) fn is_tame(&self) -> bool {
        match self {
            Op::Leaf
            | Op::Add(..)
            | Op::Sub(..)
            | Op::Mul(..)
            | Op::Neg(..)
            | Op::Exp(..)
            | Op::Sigmoid(..)
            | Op::Tanh(..)
            | Op::Relu(..)
            | Op::Sin(..)
            | Op::Cos(..)
            | Op::Abs(..)
            | Op::Max(..)
            | Op::Min(..)
            | Op::Softplus(..)
            | Op::Square(..)
            | Op::Detach(..)
            | Op::Clamp(..)
            | Op::Sum { .. }
            | Op::Dot { .. } => true,
            Op::Div(..)
            | Op::Pow(..)
            | Op::PowVar(..)
            | Op::Ln(..)
            | Op::Sqrt(..)
            | Op::Log1p(..)
            | Op::Custom(..)
            | Op::CustomN { .. } => false,
        }
    }

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
            Op::Square(..) => "square",
            Op::Detach(..) => "detach",
            Op::Clamp(..) => "clamp",
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
            | Op::Softplus(a)
            | Op::Square(a)
            | Op::Detach(a)
            | Op::Clamp(a, ..) => f(a),
            Op::CustomN { start, .. } => custom_inputs(operands, start).iter().for_each(|&p| f(p)),
            Op::Sum { xs, len } => {
                let xs = Seq::new(operands, xs, len);
                (0..xs.len()).for_each(|i| f(xs.at(i)))
            }
            Op::Dot {
                w, x, len, bias, ..
            } => {
                if let Some(b) = bias {
                    f(b);
                }
                let (w, x) = (Seq::new(operands, w, len), Seq::new(operands, x, len));
                for i in 0..w.len() {
                    f(w.at(i));
                    f(x.at(i));
                }
            }
        }
    }

    /// The first index of the operand table this op reads (its lists are there from that
    /// index on), if it reads any.
    pub(crate) fn operand_start(&self) -> Option<u32> {
        let list = |s: Span| match s {
            Span::List(start) => Some(start),
            Span::Run(_) => None,
        };
        match *self {
            Op::CustomN { start, .. } => Some(start),
            Op::Sum { xs, .. } => list(xs),
            Op::Dot { w, x, .. } => match (list(w), list(x)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            _ => None,
        }
    }

    /// Where the last of the op's operand lists ends in `operands` (the inverse of
    /// [`Op::operand_start`]'s question), if it has a list.
    pub(crate) fn operand_end(&self, operands: &[u32]) -> Option<u32> {
        let list = |s: Span, len: u32| match s {
            Span::List(start) => Some(start + len),
            Span::Run(_) => None,
        };
        match *self {
            Op::CustomN { start, .. } => Some(start + 1 + operands[start as usize]),
            Op::Sum { xs, len } => list(xs, len),
            Op::Dot { w, x, len, .. } => list(w, len).max(list(x, len)),
            _ => None,
        }
    }

    /// The op with its operand lists copied to the start of `local` (for a pass that records
    /// new nodes, and so appends to the graph's operand table, while it reads them).
    pub(crate) fn localize(self, operands: &[u32], local: &mut SmallVec<[u32; 16]>) -> Op {
        let mut copy = |span: Span, len: u32| match span {
            Span::Run(_) => span,
            Span::List(start) => {
                let at = local.len() as u32;
                local.extend_from_slice(self::span(operands, start, len));
                Span::List(at)
            }
        };
        match self {
            Op::Sum { xs, len } => Op::Sum {
                xs: copy(xs, len),
                len,
            },
            Op::Dot {
                w,
                x,
                len,
                bias,
                wants,
            } => Op::Dot {
                w: copy(w, len),
                x: copy(x, len),
                len,
                bias,
                wants,
            },
            Op::CustomN { start, f } => {
                let inputs = custom_inputs(operands, start);
                local.push(inputs.len() as u32);
                local.extend_from_slice(inputs);
                Op::CustomN { start: 0, f }
            }
            op => op,
        }
    }

    /// The forward rule: this op's value from its inputs' values (`values[p]` is position `p`).
    ///
    /// # Panics
    /// On [`Op::Leaf`], whose value is set, not computed.
    #[inline(always)]
    pub(crate) fn eval(
        &self,
        values: &[f64],
        operands: &[u32],
        customs: &[Arc<dyn ErasedUnary>],
    ) -> f64 {
        let at = |p: u32| values[p as usize];
        match *self {
            Op::Leaf => unreachable!("a leaf's value is set, not computed"),
            Op::Add(a, b) => at(a) + at(b),
            Op::Sub(a, b) => at(a) - at(b),
            Op::Mul(a, b) => at(a) * at(b),
            Op::Div(a, b) => at(a) / at(b),
            Op::Neg(a) => -at(a),
            Op::Pow(a, k) => at(a).powf(k),
            Op::PowVar(a, b) => at(a).powf(at(b)),
            Op::Exp(a) => Scalar::exp(at(a)),
            Op::Ln(a) => Scalar::ln(at(a)),
            Op::Sigmoid(a) => Scalar::sigmoid(at(a)),
            Op::Tanh(a) => Scalar::tanh(at(a)),
            Op::Relu(a) => Scalar::relu(at(a)),
            Op::Custom(a, f) => customs[f as usize].value(at(a)),
            Op::Sin(a) => Scalar::sin(at(a)),
            Op::Cos(a) => Scalar::cos(at(a)),
            Op::Sqrt(a) => Scalar::sqrt(at(a)),
            Op::Abs(a) => Scalar::abs(at(a)),
            Op::Max(a, b) => scalar::max(at(a), at(b)),
            Op::Min(a, b) => scalar::min(at(a), at(b)),
            Op::Log1p(a) => Scalar::log1p(at(a)),
            Op::Softplus(a) => Scalar::softplus(at(a)),
            Op::Square(a) => Scalar::square(at(a)),
            Op::Detach(a) => at(a),
            Op::Clamp(a, lo, hi) => scalar::clamp(at(a), lo, hi),
            Op::CustomN { start, f } => {
                let xs: SmallVec<[f64; 8]> = custom_inputs(operands, start)
                    .iter()
                    .map(|&p| at(p))
                    .collect();
                customs[f as usize].value_n(&xs)
            }
            Op::Sum { xs, len } => sum(values, Seq::new(operands, xs, len)),
            Op::Dot {
                w, x, len, bias, ..
            } => dot(
                values,
                bias,
                Seq::new(operands, w, len),
                Seq::new(operands, x, len),
            ),
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
            // y = relu(a): ∂y/∂a = 1 for a > 0, else 0 (relu'(0) = 0, and 0 at NaN: the
            // mask `a > 0` is false there, as in PyTorch, JAX and micrograd)
            Op::Relu(a) => {
                let va = p.input(a);
                give(p, a, || if va.value() > 0.0 { g } else { g.lift(0.0) });
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
            // y = a²: ∂y/∂a = 2a (the same bits as `a · a`'s two shares `g·a + g·a`)
            Op::Square(a) => {
                let va = p.input(a);
                give(p, a, || g * va * 2.0);
            }
            // y = a, but no gradient flows back: the node is recorded untracked, so the
            // reverse pass never reaches it
            Op::Detach(_) => {}
            // y = clamp(a, lo, hi): ∂y/∂a = 1 for lo ≤ a ≤ hi (bounds included, as PyTorch),
            // else 0 (and 0 at NaN)
            Op::Clamp(a, lo, hi) => {
                let va = p.input(a);
                let v = va.value();
                give(p, a, || if v >= lo && v <= hi { g } else { g.lift(0.0) });
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
            Op::Sum { xs, len } => {
                let xs = Seq::new(operands, xs, len);
                for i in 0..xs.len() {
                    give(p, xs.at(i), || g);
                }
            }
            // y = [b] + Σ wᵢxᵢ: ∂y/∂b = 1, ∂y/∂wᵢ = xᵢ, ∂y/∂xᵢ = wᵢ
            Op::Dot {
                w,
                x,
                len,
                bias,
                wants,
            } => {
                if let Some(b) = bias {
                    give(p, b, || g);
                }
                let (w, x) = (Seq::new(operands, w, len), Seq::new(operands, x, len));
                p.give_dot(w, x, g, wants);
            }
        }
    }
}

/// `x₀ + x₁ + …` left to right (out of line, like [`dot`]).
#[inline(never)]
fn sum(values: &[f64], xs: Seq<'_>) -> f64 {
    match xs {
        Seq::Run(start, len) => {
            let xs = &values[start as usize..][..len as usize];
            xs[1..].iter().fold(xs[0], |acc, &x| acc + x)
        }
        Seq::List(xs) => xs[1..]
            .iter()
            .fold(values[xs[0] as usize], |acc, &p| acc + values[p as usize]),
    }
}

/// `[b] + w₀x₀ + w₁x₁ + …` left to right (out of line: inlined into the recording code, the
/// running sum was kept in memory).
#[inline(never)]
pub(crate) fn dot(values: &[f64], bias: Option<u32>, w: Seq<'_>, x: Seq<'_>) -> f64 {
    let (mut acc, from) = match bias {
        Some(b) => (values[b as usize], 0),
        None => (values[w.at(0) as usize] * values[x.at(0) as usize], 1),
    };
    match (w, x) {
        (Seq::Run(w, len), Seq::Run(x, _)) => {
            crate::counts::count(crate::counts::Path::DotRunsComputed, 1);
            let w = &values[w as usize..][..len as usize];
            let x = &values[x as usize..][..len as usize];
            for (w, x) in w[from..].iter().zip(&x[from..]) {
                acc += w * x;
            }
        }
        // weights in a run, inputs listed (a neuron over the outputs of a layer with an
        // activation after each neuron): the weights as a slice
        (Seq::Run(w, len), Seq::List(xs)) => {
            crate::counts::count(crate::counts::Path::DotRunListComputed, 1);
            let w = &values[w as usize..][..len as usize];
            for (w, &x) in w[from..].iter().zip(&xs[from..]) {
                acc += w * values[x as usize];
            }
        }
        _ => {
            for i in from..w.len() {
                acc += values[w.at(i) as usize] * values[x.at(i) as usize];
            }
        }
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
pub(crate) fn span(operands: &[u32], start: u32, len: u32) -> &[u32] {
    &operands[start as usize..(start + len) as usize]
}
