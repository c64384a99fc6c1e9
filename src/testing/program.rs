//! Random programs over every op: a list of instructions, each applying an op to earlier
//! results, evaluated on a [`Graph`] (for the engine) or on plain `f64` (for finite
//! differences).

use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;

use super::values::Domain;
use crate::{Graph, NaryFn, Scalar, UnaryFn, Var};

type OnF64 = Arc<dyn Fn(&[f64], f64) -> f64 + Send + Sync>;
type OnGraph = Arc<dyn for<'g> Fn(&'g Graph, &[Var<'g>], f64) -> Var<'g> + Send + Sync>;
type Switch = Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// In a [`Program`], an argument whose [`Domain`] has an edge `l` (`ln`, `sqrt`, the base of
/// `pow`) receives `(l + GUARD) + v²` instead of the register `v` itself, so that random
/// programs stay inside the domain (and a margin of `GUARD` from its edge). `Debug` of a
/// program shows the guard, as in `ln(0.25 + v3²)`.
///
/// ```
/// assert_eq!(scalargrad::testing::GUARD, 0.25);
/// ```
pub const GUARD: f64 = 0.25;

/// How far (relative to `1 + |v|`) a finite-difference step may move any register of a
/// program before the step counts as not small (see [`FiniteDiff`](super::FiniteDiff)).
pub(crate) const STEP_LIMIT: f64 = 0.01;

/// A program's evaluation at one point: which smooth piece each op ran on, and every
/// register.
pub(crate) struct Branch {
    pieces: Vec<u64>,
    registers: Vec<f64>,
}

/// An operation a [`Program`] can apply: how to evaluate it on `f64` and on a graph, and
/// where it is smooth.
///
/// [`builtin_ops`] lists every op of the engine; [`Op::custom`] wraps a user's [`UnaryFn`];
/// [`Op::new`] wraps any function of several inputs (a user's composite op or
/// transformation), given once on `f64` and once on a graph.
///
/// ```
/// use scalargrad::testing::{builtin_ops, Op};
/// let ops = builtin_ops();
/// let ln = ops.iter().find(|op| op.name() == "ln").unwrap();
/// assert_eq!(ln.arity(), 1);
/// assert_eq!(ln.eval(&[1.0], 0.0), 0.0);
/// assert!(ln.domain(0).distance(-1.0) < 0.0);
/// ```
#[derive(Clone)]
pub struct Op {
    name: String,
    arity: usize,
    domains: Vec<Domain>,
    switch: Option<Switch>,
    constant: Option<(f64, f64)>,
    on_f64: OnF64,
    on_graph: OnGraph,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Op({:?}, arity {})", self.name, self.arity)
    }
}

/// One line of the built-in op table: the body is written once, generic over [`Scalar`], and
/// runs on `f64` (finite differences) and on handles (the engine).
macro_rules! scalar_op {
    ($name:expr, $arity:expr, |$x:ident, $k:ident| $body:expr) => {{
        #[allow(unused_variables)]
        fn on<S: Scalar>($x: &[S], $k: f64) -> S {
            $body
        }
        fn on_graph<'g>(_: &'g Graph, x: &[Var<'g>], k: f64) -> Var<'g> {
            on(x, k)
        }
        Op::from_parts($name, $arity, Arc::new(on::<f64>), Arc::new(on_graph))
    }};
}

/// The catalogue's lines for the op list ([`unary_ops!`](crate::unary_ops)), each with the
/// domain the list gives it (an open one for `at_least`: finite differences need room).
macro_rules! catalogue {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$dom:ident $($at:literal)?] |$x:ident| $f64:expr;)*) => {
        [$(scalar_op!(stringify!($name), 1, |x, k| x[0].$name()).with_domain(0, domain!($dom $($at)?))),*]
    };
}

/// A [`Domain`] from the op list's words.
macro_rules! domain {
    (everywhere) => {
        Domain::everywhere()
    };
    (kink $at:literal) => {
        Domain::everywhere().with_kink($at)
    };
    (above $at:literal) => {
        Domain::above($at)
    };
    (at_least $at:literal) => {
        Domain::above($at)
    };
}

/// Every op of the engine, one line each: arithmetic, `pow` with a constant exponent,
/// `pow_var`, `exp`, `ln`, `sigmoid`, `tanh`, `relu`, `abs`, `sin`, `cos`, `sqrt`, `log1p`,
/// `softplus`, `max`, `min` (kink where the arguments are equal), the n-ary `sum` (3 terms) and
/// `affine` (`b + w₀x₀ + w₁x₁`), and multiplication by a constant (`scale`), each with the
/// [`Domain`] of its arguments.
///
/// ```
/// let names: Vec<String> = scalargrad::testing::builtin_ops().iter().map(|op| op.name().to_string()).collect();
/// assert!(names.iter().any(|n| n == "relu") && names.iter().any(|n| n == "affine2"));
/// ```
pub fn builtin_ops() -> Vec<Op> {
    let kink_at_0 = || Domain::everywhere().with_kink(0.0);
    let positive = || Domain::above(0.0);
    let mut ops = vec![
        scalar_op!("add", 2, |x, k| x[0] + x[1]),
        scalar_op!("sub", 2, |x, k| x[0] - x[1]),
        scalar_op!("mul", 2, |x, k| x[0] * x[1]),
        scalar_op!("div", 2, |x, k| x[0] / x[1]).with_domain(1, kink_at_0()),
        scalar_op!("neg", 1, |x, k| -x[0]),
        scalar_op!("scale", 1, |x, k| x[0] * k).with_constant(-2.5, 2.5),
        scalar_op!("pow", 1, |x, k| x[0].powf(k))
            .with_constant(-2.5, 2.5)
            .with_domain(0, positive()),
        scalar_op!("pow_var", 2, |x, k| x[0].pow_scalar(x[1])).with_domain(0, positive()),
        scalar_op!("max", 2, |x, k| x[0].max(x[1])).with_kink_where(|x| x[0] - x[1]),
        scalar_op!("min", 2, |x, k| x[0].min(x[1])).with_kink_where(|x| x[0] - x[1]),
        Op::new(
            "clamp",
            1,
            |x| x[0].clamp(-1.0, 1.0),
            |_, x| x[0].clamp(-1.0, 1.0),
        )
        .with_domain(0, Domain::everywhere().with_kink(-1.0).with_kink(1.0)),
        Op::new("sum3", 3, |x| x[0] + x[1] + x[2], |g, x| g.sum(x)),
        Op::new(
            "logsumexp3",
            3,
            |x| {
                let m = x[0].max(x[1]).max(x[2]);
                m + ((x[0] - m).exp() + (x[1] - m).exp() + (x[2] - m).exp()).ln()
            },
            |g, x| g.logsumexp(x),
        ),
        Op::new(
            "affine2",
            5,
            |x| x[0] + x[1] * x[2] + x[3] * x[4],
            |g, x| g.affine(x[0], &[x[1], x[3]], &[x[2], x[4]]),
        ),
    ];
    ops.extend(crate::unary_ops!(catalogue));
    ops
}

/// A [`UnaryFn`] shared between graphs: each evaluation registers it in a fresh graph.
struct Shared<U>(Arc<U>);

impl<U: UnaryFn> UnaryFn for Shared<U> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn value(&self, x: f64) -> f64 {
        self.0.value(x)
    }
    fn derivative<S: Scalar>(&self, x: S, y: S) -> S {
        self.0.derivative(x, y)
    }
}

impl<U: NaryFn> NaryFn for Shared<U> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn arity(&self) -> usize {
        self.0.arity()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.0.value(x)
    }
    fn partial<S: Scalar>(&self, i: usize, x: &[S], y: S) -> S {
        self.0.partial(i, x, y)
    }
}

impl Op {
    fn from_parts(name: &str, arity: usize, on_f64: OnF64, on_graph: OnGraph) -> Op {
        assert!(arity >= 1, "Op {name:?}: an op takes at least one input");
        Op {
            name: name.to_string(),
            arity,
            domains: vec![Domain::everywhere(); arity],
            switch: None,
            constant: None,
            on_f64,
            on_graph,
        }
    }

    /// An op of `arity` inputs given twice: on plain numbers (`on_f64`, the reference for
    /// finite differences) and on a graph (`on_graph`, what the engine differentiates). The
    /// two must compute the same function; every argument's domain starts as
    /// [`Domain::everywhere`].
    ///
    /// # Panics
    /// If `arity` is 0.
    ///
    /// ```
    /// use scalargrad::testing::Op;
    /// // a user's composite: the squared distance of two points' first coordinates
    /// let sq = Op::new("sqdiff", 2, |x| (x[0] - x[1]) * (x[0] - x[1]), |_, x| (x[0] - x[1]).pow(2.0));
    /// assert_eq!(sq.eval(&[3.0, 1.0], 0.0), 4.0);
    /// ```
    pub fn new<A, B>(name: &str, arity: usize, on_f64: A, on_graph: B) -> Op
    where
        A: Fn(&[f64]) -> f64 + Send + Sync + 'static,
        B: for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g> + Send + Sync + 'static,
    {
        Op::from_parts(
            name,
            arity,
            Arc::new(move |x, _| on_f64(x)),
            Arc::new(move |g, x, _| on_graph(g, x)),
        )
    }

    /// A user-defined [`UnaryFn`] as an op, smooth on `domain`. Its value on `f64` is
    /// [`UnaryFn::value`]; on a graph it is registered with [`Graph::custom`] and applied, so
    /// the engine uses its [`UnaryFn::derivative`].
    ///
    /// ```
    /// use scalargrad::custom::Softplus;
    /// use scalargrad::testing::{Domain, Op};
    /// let op = Op::custom(Softplus, Domain::everywhere());
    /// assert_eq!(op.name(), "softplus");
    /// assert_eq!(op.eval(&[0.0], 0.0), 2f64.ln());
    /// ```
    pub fn custom<U: UnaryFn>(f: U, domain: Domain) -> Op {
        let f = Arc::new(f);
        let (a, b) = (f.clone(), f.clone());
        Op::from_parts(
            f.name(),
            1,
            Arc::new(move |x, _| a.value(x[0])),
            Arc::new(move |g, x, _| g.custom(Shared(b.clone())).apply(x[0])),
        )
        .with_domain(0, domain)
    }

    /// A user-defined [`NaryFn`] (a custom op of several inputs) as an op, smooth everywhere
    /// until [`Op::with_domain`] or [`Op::with_kink_where`] says otherwise. On a graph it is
    /// registered with [`Graph::custom_nary`] and applied, so the engine uses its
    /// [`NaryFn::partial`]s.
    ///
    /// ```
    /// use scalargrad::{NaryFn, Scalar};
    /// use scalargrad::testing::Op;
    /// /// hypot(a, b) = √(a² + b²)
    /// struct Hypot;
    /// impl NaryFn for Hypot {
    ///     fn name(&self) -> &str { "hypot" }
    ///     fn arity(&self) -> usize { 2 }
    ///     fn value(&self, x: &[f64]) -> f64 { x[0].hypot(x[1]) }
    ///     fn partial<S: Scalar>(&self, i: usize, x: &[S], y: S) -> S { x[i] / y }
    /// }
    /// let op = Op::custom_nary(Hypot);
    /// assert_eq!((op.name(), op.arity(), op.eval(&[3.0, 4.0], 0.0)), ("hypot", 2, 5.0));
    /// ```
    pub fn custom_nary<U: NaryFn>(f: U) -> Op {
        let f = Arc::new(f);
        let (a, b) = (f.clone(), f.clone());
        Op::from_parts(
            f.name(),
            f.arity(),
            Arc::new(move |x, _| a.value(x)),
            Arc::new(move |g, x, _| g.custom_nary(Shared(b.clone())).apply(x)),
        )
    }

    /// The same op with argument `arg` smooth only on `domain`.
    ///
    /// # Panics
    /// If `arg` is not below the op's arity.
    ///
    /// ```
    /// use scalargrad::testing::{Domain, Op};
    /// let inv = Op::new("inv", 1, |x| 1.0 / x[0], |_, x| 1.0 / x[0])
    ///     .with_domain(0, Domain::everywhere().with_kink(0.0));
    /// assert_eq!(inv.domain(0).kinks, [0.0]);
    /// ```
    pub fn with_domain(mut self, arg: usize, domain: Domain) -> Op {
        assert!(
            arg < self.arity,
            "Op {:?} has {} argument(s); there is no argument {arg}",
            self.name,
            self.arity
        );
        self.domains[arg] = domain;
        self
    }

    /// The same op with a kink where `switch(args)` changes sign (for kinks that involve
    /// several arguments, like `max(a, b)` at `a = b`: `switch = a − b`). The distance to
    /// the kink is taken as `|switch(args)|`.
    ///
    /// ```
    /// use scalargrad::testing::Op;
    /// let max = Op::new("max", 2, |x| x[0].max(x[1]), |_, x| (x[0] - x[1]).relu() + x[1])
    ///     .with_kink_where(|x| x[0] - x[1]);
    /// assert_eq!(max.eval(&[1.0, 2.0], 0.0), 2.0);
    /// ```
    pub fn with_kink_where(mut self, switch: impl Fn(&[f64]) -> f64 + Send + Sync + 'static) -> Op {
        self.switch = Some(Arc::new(switch));
        self
    }

    /// The same op taking a constant parameter (the exponent of `pow`, the factor of
    /// `scale`): programs draw it from the quarter-integers in `[lo, hi]`.
    fn with_constant(mut self, lo: f64, hi: f64) -> Op {
        self.constant = Some((lo, hi));
        self
    }

    /// The op's name.
    ///
    /// ```
    /// assert_eq!(scalargrad::testing::builtin_ops()[0].name(), "add");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many inputs the op takes.
    ///
    /// ```
    /// assert_eq!(scalargrad::testing::builtin_ops()[0].arity(), 2);
    /// ```
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Where argument `arg` is smooth.
    ///
    /// # Panics
    /// If `arg` is not below the op's arity.
    ///
    /// ```
    /// let ops = scalargrad::testing::builtin_ops();
    /// let div = ops.iter().find(|op| op.name() == "div").unwrap();
    /// assert_eq!(div.domain(1).kinks, [0.0]); // the pole of a / b at b = 0
    /// ```
    pub fn domain(&self, arg: usize) -> &Domain {
        &self.domains[arg]
    }

    /// The op's value on plain numbers; `constant` is its constant parameter (`pow`'s
    /// exponent, `scale`'s factor), ignored by ops without one.
    ///
    /// ```
    /// let ops = scalargrad::testing::builtin_ops();
    /// let pow = ops.iter().find(|op| op.name() == "pow").unwrap();
    /// assert_eq!(pow.eval(&[3.0], 2.0), 9.0);
    /// ```
    pub fn eval(&self, args: &[f64], constant: f64) -> f64 {
        (self.on_f64)(args, constant)
    }

    /// The op applied to handles of a graph.
    ///
    /// ```
    /// let ops = scalargrad::testing::builtin_ops();
    /// let g = scalargrad::Graph::new();
    /// let y = ops[2].apply(&g, &[g.var(3.0), g.var(4.0)], 0.0); // mul
    /// assert_eq!(y.value(), 12.0);
    /// ```
    pub fn apply<'g>(&self, g: &'g Graph, args: &[Var<'g>], constant: f64) -> Var<'g> {
        (self.on_graph)(g, args, constant)
    }

    /// How far `args` are from the op's kinks, poles and edges (see [`Domain::distance`]).
    fn distance(&self, args: &[f64]) -> f64 {
        let d = self
            .domains
            .iter()
            .zip(args)
            .fold(f64::INFINITY, |d, (dom, &v)| d.min(dom.distance(v)));
        match &self.switch {
            Some(s) => d.min(s(args).abs()),
            None => d,
        }
    }

    /// Which smooth piece `args` lie in, as a number (`u64::MAX` outside the domain).
    fn piece(&self, args: &[f64]) -> u64 {
        let mut code = 0u64;
        for (dom, &v) in self.domains.iter().zip(args) {
            match dom.piece(v) {
                Some(p) => code = code.wrapping_mul(31).wrapping_add(p as u64),
                None => return u64::MAX,
            }
        }
        if let Some(s) = &self.switch {
            code = code.wrapping_mul(3).wrapping_add(u64::from(s(args) > 0.0));
        }
        code
    }
}

/// Argument vectors for `op`: each argument in `[lo, hi]` and at least `margin` inside its
/// [`Domain`] (see [`away_from_kinks`](super::away_from_kinks)); for an op with a kink
/// across arguments ([`Op::with_kink_where`], like `max`), vectors closer than `margin` to it
/// are filtered out.
///
/// # Panics
/// As [`away_from_kinks`](super::away_from_kinks), for any argument.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use scalargrad::testing::{builtin_ops, inputs_for};
/// let ops = builtin_ops();
/// let div = ops.iter().find(|op| op.name() == "div").unwrap();
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..50 {
///     let x = inputs_for(div, -2.0, 2.0, 0.1).new_tree(&mut runner).unwrap().current();
///     assert!(x[1].abs() >= 0.1); // the divisor stays off the pole
/// }
/// ```
pub fn inputs_for(op: &Op, lo: f64, hi: f64, margin: f64) -> impl Strategy<Value = Vec<f64>> {
    let args: Vec<_> = op
        .domains
        .iter()
        .map(|d| super::away_from_kinks(d, lo, hi, margin).boxed())
        .collect();
    let switch = op.switch.clone();
    args.prop_filter("too close to the op's kink across arguments", move |x| {
        switch.as_ref().is_none_or(|s| s(x).abs() >= margin)
    })
}

/// One instruction of a [`Program`]: an op applied to earlier registers.
///
/// ```
/// use scalargrad::testing::{builtin_ops, Instr};
/// let add = builtin_ops()[0].clone();
/// let i = Instr::new(add, vec![0, 0], 0.0);
/// assert_eq!((i.op().name(), i.args()), ("add", &[0, 0][..]));
/// ```
#[derive(Clone, Debug)]
pub struct Instr {
    op: Op,
    args: Vec<usize>,
    constant: f64,
}

impl Instr {
    /// `op` applied to the registers `args` (with `constant` for ops that take one).
    ///
    /// # Panics
    /// If `args` does not have the op's arity.
    ///
    /// ```
    /// use scalargrad::testing::{builtin_ops, Instr};
    /// let i = Instr::new(builtin_ops()[4].clone(), vec![1], 0.0); // neg(v1)
    /// assert_eq!(i.args(), [1]);
    /// ```
    pub fn new(op: Op, args: Vec<usize>, constant: f64) -> Instr {
        assert_eq!(
            args.len(),
            op.arity,
            "Instr: op {:?} takes {} argument(s), {} were given",
            op.name,
            op.arity,
            args.len()
        );
        Instr { op, args, constant }
    }

    /// The op.
    ///
    /// ```
    /// use scalargrad::testing::{builtin_ops, Instr};
    /// assert_eq!(Instr::new(builtin_ops()[4].clone(), vec![0], 0.0).op().name(), "neg");
    /// ```
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// The registers read.
    ///
    /// ```
    /// use scalargrad::testing::{builtin_ops, Instr};
    /// assert_eq!(Instr::new(builtin_ops()[0].clone(), vec![2, 1], 0.0).args(), [2, 1]);
    /// ```
    pub fn args(&self) -> &[usize] {
        &self.args
    }

    /// The constant parameter (0 for ops without one).
    ///
    /// ```
    /// use scalargrad::testing::{builtin_ops, Instr};
    /// assert_eq!(Instr::new(builtin_ops()[4].clone(), vec![0], 0.0).constant(), 0.0);
    /// ```
    pub fn constant(&self) -> f64 {
        self.constant
    }
}

/// A straight-line program: registers `v0 … v(inputs−1)` hold the inputs, instruction `i`
/// writes register `inputs + i` from earlier registers, the last register is the output.
/// Registers may be read many times (reuse) and by several later instructions that meet
/// again (diamonds).
///
/// The same program runs on plain `f64` ([`Program::eval`]: the reference for finite
/// differences, independent of the engine) and on a graph ([`Program::on_graph`]: what the
/// engine differentiates). An argument whose domain has an edge is guarded (see [`GUARD`]).
/// `Debug` prints one instruction per line:
///
/// ```
/// use scalargrad::testing::{builtin_ops, Instr, Program};
/// let op = |name: &str| builtin_ops().into_iter().find(|op| op.name() == name).unwrap();
/// let p = Program::new(2, vec![
///     Instr::new(op("mul"), vec![0, 1], 0.0),   // v2 = v0·v1
///     Instr::new(op("ln"), vec![2], 0.0),       // v3 = ln(0.25 + v2²)
///     Instr::new(op("add"), vec![3, 2], 0.0),   // v4 = v3 + v2: a diamond from v2
/// ]);
/// let x = [1.5, 2.0];
/// assert_eq!(p.eval(&x), (0.25f64 + 9.0).ln() + 3.0);
/// let g = scalargrad::Graph::new();
/// let v: Vec<_> = x.iter().map(|&x| g.var(x)).collect();
/// assert_eq!(p.on_graph(&g, &v).value(), p.eval(&x));
/// assert_eq!(format!("{p:?}"), "Program(2 inputs) {\n    v2 = mul(v0, v1)\n    v3 = ln(0.25 + v2²)\n    v4 = add(v3, v2)\n    return v4\n}");
/// ```
#[derive(Clone)]
pub struct Program {
    inputs: usize,
    instrs: Vec<Instr>,
}

impl Program {
    /// A program over `inputs` inputs.
    ///
    /// # Panics
    /// If `inputs` is 0 or an instruction reads a register that is not yet written.
    ///
    /// ```
    /// use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let p = Program::new(1, vec![Instr::new(builtin_ops()[2].clone(), vec![0, 0], 0.0)]);
    /// assert_eq!((p.inputs(), p.len(), p.eval(&[3.0])), (1, 1, 9.0));
    /// ```
    pub fn new(inputs: usize, instrs: Vec<Instr>) -> Program {
        assert!(
            inputs > 0,
            "Program::new: a program needs at least one input"
        );
        for (i, ins) in instrs.iter().enumerate() {
            for &a in &ins.args {
                assert!(
                    a < inputs + i,
                    "Program::new: instruction {i} (writing v{}) reads v{a}, which is not written yet",
                    inputs + i
                );
            }
        }
        Program { inputs, instrs }
    }

    /// The number of inputs.
    ///
    /// ```
    /// # use scalargrad::testing::Program;
    /// assert_eq!(Program::new(3, vec![]).inputs(), 3);
    /// ```
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// The number of instructions.
    ///
    /// ```
    /// # use scalargrad::testing::Program;
    /// assert_eq!(Program::new(3, vec![]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    /// Whether the program has no instructions (its output is then its last input).
    ///
    /// ```
    /// # use scalargrad::testing::Program;
    /// let p = Program::new(2, vec![]);
    /// assert!(p.is_empty());
    /// assert_eq!(p.eval(&[1.0, 7.0]), 7.0);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    /// The instructions, in order.
    ///
    /// ```
    /// # use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let p = Program::new(1, vec![Instr::new(builtin_ops()[4].clone(), vec![0], 0.0)]);
    /// assert_eq!(p.instructions()[0].op().name(), "neg");
    /// ```
    pub fn instructions(&self) -> &[Instr] {
        &self.instrs
    }

    /// Every register's value on plain `f64`: the inputs, then one per instruction.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Program::inputs`].
    ///
    /// ```
    /// # use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let p = Program::new(1, vec![Instr::new(builtin_ops()[4].clone(), vec![0], 0.0)]);
    /// assert_eq!(p.registers(&[2.0]), [2.0, -2.0]);
    /// ```
    pub fn registers(&self, x: &[f64]) -> Vec<f64> {
        self.run(x, |_, _| {})
    }

    /// The output on plain `f64`.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Program::inputs`].
    ///
    /// ```
    /// # use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let p = Program::new(2, vec![Instr::new(builtin_ops()[1].clone(), vec![0, 1], 0.0)]);
    /// assert_eq!(p.eval(&[5.0, 3.0]), 2.0);
    /// ```
    pub fn eval(&self, x: &[f64]) -> f64 {
        *self
            .registers(x)
            .last()
            .expect("a program has at least one input")
    }

    /// Runs on `f64`, calling `visit(instruction, guarded arguments)` for each instruction.
    fn run(&self, x: &[f64], mut visit: impl FnMut(&Instr, &[f64])) -> Vec<f64> {
        assert_eq!(
            x.len(),
            self.inputs,
            "the program has {} inputs, {} values were given",
            self.inputs,
            x.len()
        );
        let mut regs = x.to_vec();
        let mut args = Vec::new();
        for ins in &self.instrs {
            args.clear();
            for (a, dom) in ins.args.iter().zip(&ins.op.domains) {
                args.push(guard(regs[*a], dom));
            }
            visit(ins, &args);
            regs.push(ins.op.eval(&args, ins.constant));
        }
        regs
    }

    /// The program applied to handles `x` of a graph; returns the output's handle.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Program::inputs`].
    ///
    /// ```
    /// # use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let p = Program::new(1, vec![Instr::new(builtin_ops()[2].clone(), vec![0, 0], 0.0)]);
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// p.on_graph(&g, &[x]).backward();
    /// assert_eq!(x.grad(), 6.0);
    /// ```
    pub fn on_graph<'g>(&self, g: &'g Graph, x: &[Var<'g>]) -> Var<'g> {
        assert_eq!(
            x.len(),
            self.inputs,
            "the program has {} inputs, {} handles were given",
            self.inputs,
            x.len()
        );
        let mut regs = x.to_vec();
        let mut args = Vec::new();
        for ins in &self.instrs {
            args.clear();
            for (a, dom) in ins.args.iter().zip(&ins.op.domains) {
                args.push(guard(regs[*a], dom));
            }
            let y = ins.op.apply(g, &args, ins.constant);
            regs.push(y);
        }
        *regs.last().expect("a program has at least one input")
    }

    /// Where the program is not safely smooth at `x`: the first instruction whose (guarded)
    /// arguments are within `margin` of a kink, pole or edge of its op, or whose result is
    /// not finite. `Ok` holds the largest register magnitude (a scale for rounding errors).
    ///
    /// ```
    /// # use scalargrad::testing::{builtin_ops, Instr, Program};
    /// let relu = builtin_ops().into_iter().find(|op| op.name() == "relu").unwrap();
    /// let p = Program::new(1, vec![Instr::new(relu, vec![0], 0.0)]);
    /// assert!(p.check_smooth(&[0.5], 1e-3).is_ok());
    /// let err = p.check_smooth(&[1e-4], 1e-3).unwrap_err();
    /// assert!(err.contains("v1 = relu(v0)"), "{err}");
    /// ```
    pub fn check_smooth(&self, x: &[f64], margin: f64) -> Result<f64, String> {
        let mut problem = None;
        let mut index = 0;
        let regs = self.run(x, |ins, args| {
            let d = ins.op.distance(args);
            if problem.is_none() && (d.is_nan() || d < margin) {
                problem = Some(format!(
                    "{} is {d:e} from a kink, pole or edge of {} (margin {margin:e})",
                    self.line(index),
                    ins.op.name
                ));
            }
            index += 1;
        });
        if let Some(p) = problem {
            return Err(p);
        }
        if let Some(i) = regs.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "v{i} = {} is not finite{}",
                regs[i],
                if i >= self.inputs {
                    format!(" ({})", self.line(i - self.inputs))
                } else {
                    String::new()
                }
            ));
        }
        Ok(regs.iter().fold(0.0f64, |m, v| m.max(v.abs())))
    }

    /// The smooth piece of every op the evaluation at `x` runs through, and every register:
    /// what a finite-difference step from `x` is compared against (see [`Program::nearby`]).
    pub(crate) fn branch(&self, x: &[f64]) -> Branch {
        let mut pieces = Vec::with_capacity(self.instrs.len());
        let registers = self.run(x, |ins, args| pieces.push(ins.op.piece(args)));
        Branch { pieces, registers }
    }

    /// The output at `at`, a finite-difference step away from the point whose [`Branch`] is
    /// `base`, if the step stayed on the same smooth piece of every op and moved no register
    /// by more than `STEP_LIMIT·(1 + |v|)`: a step that crosses a kink, or that is not small
    /// for this program (a register with a huge derivative, where an oscillating op like
    /// `sin` would alias), gives `None`.
    pub(crate) fn nearby(&self, base: &Branch, at: &[f64]) -> Option<f64> {
        let b = self.branch(at);
        let small = b
            .registers
            .iter()
            .zip(&base.registers)
            .all(|(v, v0)| (v - v0).abs() <= STEP_LIMIT * (1.0 + v0.abs()));
        (small && b.pieces == base.pieces).then(|| *b.registers.last().expect("inputs"))
    }

    /// Instruction `i` as a line of `Debug` output.
    fn line(&self, i: usize) -> String {
        let ins = &self.instrs[i];
        let args: Vec<String> = ins
            .args
            .iter()
            .zip(&ins.op.domains)
            .map(|(a, dom)| match dom.above {
                Some(l) => format!("{} + v{a}²", l + GUARD),
                None => format!("v{a}"),
            })
            .chain(ins.op.constant.map(|_| format!("{}", ins.constant)))
            .collect();
        format!(
            "v{} = {}({})",
            self.inputs + i,
            ins.op.name,
            args.join(", ")
        )
    }
}

/// An argument as a program passes it: `(l + GUARD) + v²` when its domain has edge `l`.
fn guard<S: Scalar>(v: S, dom: &Domain) -> S {
    match dom.above {
        Some(l) => v * v + (l + GUARD),
        None => v,
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Program({} inputs) {{", self.inputs)?;
        for i in 0..self.instrs.len() {
            writeln!(f, "    {}", self.line(i))?;
        }
        writeln!(f, "    return v{}", self.inputs + self.instrs.len() - 1)?;
        write!(f, "}}")
    }
}

/// Random programs over `ops` with `inputs` inputs and 1 to `max_len` instructions.
///
/// Each argument reads a register chosen uniformly among those already written, so values
/// are reused and paths split and meet again (diamonds). Ops are chosen uniformly from
/// `ops`: list an op several times to draw it more often. Constants (`pow`'s exponent,
/// `scale`'s factor) are quarter-integers in the op's range. Shrinking removes instructions,
/// moves arguments to the most recent register, and constants towards 0; the shrunk program
/// prints readably with `Debug`.
///
/// # Panics
/// If `ops` is empty, `inputs` is 0 or `max_len` is 0.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use scalargrad::testing::{builtin_ops, programs};
/// let mut runner = TestRunner::deterministic();
/// let p = programs(&builtin_ops(), 2, 8).new_tree(&mut runner).unwrap().current();
/// assert_eq!(p.inputs(), 2);
/// assert!((1..=8).contains(&p.len()));
/// ```
pub fn programs(ops: &[Op], inputs: usize, max_len: usize) -> impl Strategy<Value = Program> {
    assert!(max_len > 0, "programs: max_len must be at least 1");
    raw_program(ops, inputs, 1..=max_len)
        .prop_map(move |(ops, raw)| build(&ops, inputs, &raw, None))
}

/// Random programs whose last instruction applies `op` to the results of a random program
/// over `ops` (0 to `max_len` instructions): every program exercises `op` on the path to the
/// output, composed with everything else by the chain rule. The way to test one op (a
/// user's custom op) inside many contexts.
///
/// # Panics
/// If `ops` is empty or `inputs` is 0.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use scalargrad::custom::Softplus;
/// use scalargrad::testing::{builtin_ops, programs_through, Domain, Op};
/// let mut runner = TestRunner::deterministic();
/// let softplus = Op::custom(Softplus, Domain::everywhere());
/// let p = programs_through(&softplus, &builtin_ops(), 2, 6).new_tree(&mut runner).unwrap().current();
/// assert_eq!(p.instructions().last().unwrap().op().name(), "softplus");
/// ```
pub fn programs_through(
    op: &Op,
    ops: &[Op],
    inputs: usize,
    max_len: usize,
) -> impl Strategy<Value = Program> {
    let last = op.clone();
    (
        raw_program(ops, inputs, 0..=max_len),
        raw_instr(1, last.arity),
    )
        .prop_map(move |((ops, raw), tail)| build(&ops, inputs, &raw, Some((&last, &tail))))
}

/// An instruction as drawn: op index, arguments as "how many registers back", constant in
/// quarters.
type RawInstr = (usize, Vec<usize>, i32);

/// How many registers back an argument may reach (taken modulo the registers written).
const REACH: usize = 1 << 16;

fn raw_instr(ops: usize, arity: usize) -> impl Strategy<Value = RawInstr> {
    (
        0..ops,
        proptest::collection::vec(0..REACH, arity),
        -40i32..=40,
    )
}

fn raw_program(
    ops: &[Op],
    inputs: usize,
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = (Arc<[Op]>, Vec<RawInstr>)> {
    assert!(!ops.is_empty(), "programs: the list of ops is empty");
    assert!(inputs > 0, "programs: a program needs at least one input");
    let ops: Arc<[Op]> = ops.to_vec().into();
    let arity = ops.iter().map(|op| op.arity).max().unwrap_or(1);
    let n = ops.len();
    proptest::collection::vec(raw_instr(n, arity), len).prop_map(move |raw| (ops.clone(), raw))
}

fn build(ops: &[Op], inputs: usize, raw: &[RawInstr], last: Option<(&Op, &RawInstr)>) -> Program {
    let mut instrs = Vec::with_capacity(raw.len() + 1);
    let resolve = |op: &Op, (_, back, q): &RawInstr, written: usize| {
        let mut args: Vec<usize> = back[..op.arity]
            .iter()
            .map(|b| written - 1 - b % written)
            .collect();
        // max(v, v) sits on its own kink at every point: give such ops distinct registers
        if op.switch.is_some() && written > 1 && args.windows(2).all(|w| w[0] == w[1]) {
            let last = args.len() - 1;
            args[last] = (args[last] + written - 1) % written;
        }
        let constant = op
            .constant
            .map_or(0.0, |(lo, hi)| (f64::from(*q) / 4.0).clamp(lo, hi));
        Instr::new(op.clone(), args, constant)
    };
    for (i, r) in raw.iter().enumerate() {
        instrs.push(resolve(&ops[r.0], r, inputs + i));
    }
    if let Some((op, r)) = last {
        instrs.push(resolve(op, r, inputs + raw.len()));
    }
    Program::new(inputs, instrs)
}
