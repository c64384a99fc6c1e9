//! A parsed program recorded in a scalargrad [`Graph`], one engine node per drawn node, and
//! the reverse pass replayed edge by edge for the page's step-by-step view.
//!
//! The engine keeps its op structure private, so the picture's structure comes from here:
//! every node this module draws is exactly one node the engine recorded (constants are
//! created with [`Graph::constant`] and combined handle with handle, never with an `f64`
//! that would add a hidden node), which [`Model::build`] asserts by comparing
//! [`Graph::len`]. Values and gradients are always read back from the engine.

use std::collections::HashMap;

use scalargrad::{Graph, Var};

use crate::parse::{parse, quote, Attr, BinOp, Expr, Func, ParseError, Piece, Spec, Stmt};
use crate::pyfmt;

/// The most nodes a typed program may record (the page draws every one).
pub const MAX_NODES: usize = 400;

/// The value a leaf gets when a program uses a name it never assigns.
pub const DEFAULT_LEAF: f64 = 1.0;

/// What a drawn node is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A leaf with a tracked gradient ([`Graph::var`]): the page lets you drag it.
    Var,
    /// A number in the program ([`Graph::constant`]): no gradient.
    Const,
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `-a`
    Neg,
    /// `a ** k` with a constant exponent `k` (no node for `k`)
    Pow(f64),
    /// `a ** b` with a node as exponent
    PowVar,
    /// `exp a`
    Exp,
    /// `ln a`
    Ln,
    /// `sigmoid a`
    Sigmoid,
    /// `tanh a`
    Tanh,
    /// `relu a`
    Relu,
}

impl Kind {
    /// The label the page shows for the op.
    pub fn name(self) -> String {
        match self {
            Kind::Var => "var".into(),
            Kind::Const => "const".into(),
            Kind::Add => "+".into(),
            Kind::Sub => "−".into(),
            Kind::Mul => "×".into(),
            Kind::Div => "÷".into(),
            Kind::Neg => "neg".into(),
            Kind::Pow(k) => format!("pow {k}"),
            Kind::PowVar => "pow".into(),
            Kind::Exp => "exp".into(),
            Kind::Ln => "ln".into(),
            Kind::Sigmoid => "sigmoid".into(),
            Kind::Tanh => "tanh".into(),
            Kind::Relu => "relu".into(),
        }
    }

    /// The local-derivative rule, in words, for the step view.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::Var | Kind::Const => "",
            Kind::Add => "∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1",
            Kind::Sub => "∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1",
            Kind::Mul => "∂(a·b)/∂a = b, ∂(a·b)/∂b = a",
            Kind::Div => "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²",
            Kind::Neg => "∂(−a)/∂a = −1",
            Kind::Pow(_) => "∂(aᵏ)/∂a = k·aᵏ⁻¹",
            Kind::PowVar => "∂(aᵇ)/∂a = b·aᵇ⁻¹, ∂(aᵇ)/∂b = aᵇ·ln a",
            Kind::Exp => "∂(eᵃ)/∂a = eᵃ",
            Kind::Ln => "∂(ln a)/∂a = 1/a",
            Kind::Sigmoid => "∂σ(a)/∂a = σ(a)(1 − σ(a))",
            Kind::Tanh => "∂tanh(a)/∂a = 1 − tanh²(a)",
            Kind::Relu => "∂relu(a)/∂a = 1 if a > 0, else 0",
        }
    }

    /// Records this op on `inputs` in `g`: exactly one new node.
    fn apply<'g>(self, inputs: &[Var<'g>]) -> Var<'g> {
        let a = inputs[0];
        match self {
            Kind::Var | Kind::Const => unreachable!("leaves are not applied"),
            Kind::Add => a + inputs[1],
            Kind::Sub => a - inputs[1],
            Kind::Mul => a * inputs[1],
            Kind::Div => a / inputs[1],
            Kind::Neg => -a,
            Kind::Pow(k) => a.pow(k),
            Kind::PowVar => a.pow_var(inputs[1]),
            Kind::Exp => a.exp(),
            Kind::Ln => a.ln(),
            Kind::Sigmoid => a.sigmoid(),
            Kind::Tanh => a.tanh(),
            Kind::Relu => a.relu(),
        }
    }
}

/// One drawn node.
#[derive(Clone, Debug)]
pub struct Node<'g> {
    /// The name given in the program, or empty.
    pub name: String,
    /// The op, or the kind of leaf.
    pub kind: Kind,
    /// Indices of its inputs in [`Model::nodes`] (always lower than its own).
    pub inputs: Vec<usize>,
    /// The engine's handle.
    pub var: Var<'g>,
    /// Where in the program it was written.
    pub offset: usize,
}

/// One step of the replayed reverse pass: node `node` has its full gradient `grad` and hands
/// `grad · local` down each input edge.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The node whose gradient is complete.
    pub node: usize,
    /// Its gradient ∂root/∂node (the upstream gradient for its edges).
    pub grad: f64,
    /// Its input edges.
    pub edges: Vec<Edge>,
}

/// One input edge of a [`Step`].
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// The input node.
    pub from: usize,
    /// The local derivative ∂node/∂input along this edge, from the engine.
    pub local: f64,
    /// `grad · local`, added into the input's gradient.
    pub product: f64,
    /// Whether the input keeps a gradient (constants do not).
    pub tracked: bool,
}

/// The whole replayed reverse pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Backward {
    /// Steps in reverse topological (creation) order, the root first; one per op node
    /// the root depends on (leaves receive, they do not hand on).
    pub steps: Vec<Step>,
    /// Every node's gradient accumulated from the steps' products.
    pub replayed: Vec<f64>,
    /// Every node's gradient from the engine's own `backward`.
    pub engine: Vec<f64>,
    /// The largest relative difference between the two (0 when they agree exactly).
    pub max_rel_diff: f64,
}

/// One piece of a printed line.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// Text as written (or a number literal, already formatted).
    Text(String),
    /// A node's `.data` or `.grad`, formatted with a spec or as Python's `repr`.
    Num(usize, Attr, Option<Spec>),
    /// A node itself: micrograd's `Value(data=…, grad=…)`.
    Repr(usize),
}

/// A `print(...)` statement, resolved to nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Print {
    /// The arguments, each a list of pieces; printed joined by spaces.
    pub args: Vec<Vec<Out>>,
    /// Whether it comes after the program's `.backward()` (before it, every `.grad` is 0).
    pub after_backward: bool,
}

/// A program recorded in a graph.
#[derive(Debug)]
pub struct Model<'g> {
    graph: &'g Graph,
    /// Every node, in creation order (a topological order).
    pub nodes: Vec<Node<'g>>,
    /// The node `backward` starts from: the receiver of the program's last `.backward()`,
    /// or else the last statement's node.
    pub root: usize,
    /// Whether the program calls `.backward()` (the page then shows gradients at once).
    pub calls_backward: bool,
    /// The program's `print(...)` statements, in order.
    pub prints: Vec<Print>,
}

struct Builder<'g, 's> {
    graph: &'g Graph,
    src: &'s str,
    nodes: Vec<Node<'g>>,
    /// Each name's current node.
    names: HashMap<String, usize>,
    /// Every binding of a name to a node, in program order (for the picture's names).
    bindings: Vec<(String, usize)>,
    backward: Option<usize>,
    prints: Vec<Print>,
}

impl<'g> Builder<'g, '_> {
    fn push(&mut self, kind: Kind, inputs: Vec<usize>, var: Var<'g>, offset: usize) -> usize {
        self.nodes.push(Node {
            name: String::new(),
            kind,
            inputs,
            var,
            offset,
        });
        self.nodes.len() - 1
    }

    fn check_size(&self, offset: usize) -> Result<(), ParseError> {
        if self.nodes.len() >= MAX_NODES {
            Err(ParseError::at(
                self.src,
                offset,
                format!("the program needs more than {MAX_NODES} nodes; the page draws at most that many"),
            ))
        } else {
            Ok(())
        }
    }

    fn op(&mut self, kind: Kind, inputs: Vec<usize>, offset: usize) -> Result<usize, ParseError> {
        self.check_size(offset)?;
        let vars: Vec<Var<'g>> = inputs.iter().map(|&i| self.nodes[i].var).collect();
        let var = kind.apply(&vars);
        Ok(self.push(kind, inputs, var, offset))
    }

    fn leaf(&mut self, value: f64, offset: usize) -> Result<usize, ParseError> {
        self.check_size(offset)?;
        let var = self.graph.var(value);
        Ok(self.push(Kind::Var, vec![], var, offset))
    }

    fn bind(&mut self, name: &str, node: usize) {
        self.names.insert(name.to_string(), node);
        self.bindings.push((name.to_string(), node));
    }

    /// Records `e` and returns its node. Recursive over the expression tree, whose depth
    /// the parser bounds ([`crate::parse::MAX_DEPTH`]).
    fn expr(&mut self, e: &Expr) -> Result<usize, ParseError> {
        match e {
            Expr::Num(v, at) => {
                self.check_size(*at)?;
                let var = self.graph.constant(*v);
                Ok(self.push(Kind::Const, vec![], var, *at))
            }
            Expr::Name(name, at) => match self.names.get(name) {
                Some(&i) => Ok(i),
                None => {
                    let i = self.leaf(DEFAULT_LEAF, *at)?;
                    self.bind(name, i);
                    Ok(i)
                }
            },
            Expr::Value(inner, at) => match inner.literal() {
                Some(v) => self.leaf(v, *at),
                None => Err(ParseError::at(
                    self.src,
                    inner.offset(),
                    "`Value(…)` takes a number, such as `Value(2.0)`",
                )),
            },
            Expr::Attr(_, attr, at) => Err(ParseError::at(
                self.src,
                *at,
                format!(
                    "`.{}` is a plain number, not a node of the graph: read it inside `print(…)`",
                    if *attr == Attr::Data { "data" } else { "grad" }
                ),
            )),
            Expr::Backward(_, at) => Err(ParseError::at(
                self.src,
                *at,
                "`.backward()` is a statement of its own: write `g.backward()` on a line by itself",
            )),
            Expr::Neg(inner, at) => {
                let a = self.expr(inner)?;
                self.op(Kind::Neg, vec![a], *at)
            }
            Expr::Binary(op, lhs, rhs, at) => {
                let a = self.expr(lhs)?;
                if *op == BinOp::Pow {
                    if let Some(k) = rhs.literal() {
                        return self.op(Kind::Pow(k), vec![a], *at);
                    }
                }
                let b = self.expr(rhs)?;
                self.op(binary_kind(*op), vec![a, b], *at)
            }
            Expr::Call(f, x, arg, at) => {
                let a = self.expr(x)?;
                let kind = match f {
                    Func::Relu => Kind::Relu,
                    Func::Tanh => Kind::Tanh,
                    Func::Sigmoid => Kind::Sigmoid,
                    Func::Exp => Kind::Exp,
                    Func::Ln => Kind::Ln,
                    Func::Pow => {
                        let arg = arg.as_deref().expect("the parser gives pow its exponent");
                        match arg.literal() {
                            Some(k) => Kind::Pow(k),
                            None => {
                                let b = self.expr(arg)?;
                                return self.op(Kind::PowVar, vec![a, b], *at);
                            }
                        }
                    }
                };
                self.op(kind, vec![a], *at)
            }
        }
    }

    /// Records a statement; returns its node if it is a candidate for the output.
    fn statement(&mut self, s: &Stmt) -> Result<Option<usize>, ParseError> {
        match s {
            Stmt::Assign { name, at, op, expr } => {
                let i = match op {
                    None => match expr.literal() {
                        Some(v) => self.leaf(v, *at)?,
                        None => self.expr(expr)?,
                    },
                    Some(op) => {
                        let Some(&current) = self.names.get(name) else {
                            return Err(ParseError::at(
                                self.src,
                                *at,
                                format!(
                                    "`{}` has no value yet: an update such as `+=` needs an earlier `{} = …`",
                                    quote(name),
                                    quote(name)
                                ),
                            ));
                        };
                        let b = self.expr(expr)?;
                        self.op(binary_kind(*op), vec![current, b], *at)?
                    }
                };
                self.bind(name, i);
                Ok(Some(i))
            }
            Stmt::Expr(Expr::Backward(inner, _)) => {
                let i = self.expr(inner)?;
                self.backward = Some(i);
                Ok(Some(i))
            }
            Stmt::Expr(e) => Ok(Some(self.expr(e)?)),
            Stmt::Print { args, .. } => {
                let mut out = Vec::new();
                for arg in args {
                    let mut pieces = Vec::new();
                    for piece in arg {
                        pieces.push(match piece {
                            Piece::Text(t) => Out::Text(t.clone()),
                            Piece::Field(Expr::Attr(inner, attr, _), spec) => {
                                Out::Num(self.expr(inner)?, *attr, spec.clone())
                            }
                            Piece::Field(e, spec) => match e.literal() {
                                Some(v) => Out::Text(match spec {
                                    Some(spec) => pyfmt::format(v, spec),
                                    None if self.whole_literal(e) => format!("{v}"),
                                    None => pyfmt::repr(v),
                                }),
                                None => Out::Repr(self.expr(e)?),
                            },
                        });
                    }
                    out.push(pieces);
                }
                self.prints.push(Print {
                    args: out,
                    after_backward: self.backward.is_some(),
                });
                Ok(None)
            }
        }
    }

    /// Whether a literal was written without `.` or an exponent (`2`, `-3`): Python's `int`,
    /// which prints without `.0`.
    fn whole_literal(&self, e: &Expr) -> bool {
        let at = match e {
            Expr::Neg(inner, _) => inner.offset(),
            e => e.offset(),
        };
        let digits = self.src[at..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let next = self.src.as_bytes().get(at + digits).copied();
        digits > 0 && !matches!(next, Some(b'.' | b'e' | b'E')) && digits < 16
    }

    /// Names the nodes: each name's latest binding keeps the plain name, earlier ones get a
    /// subscript (`c₁`, `c₂`, …, `c`). A node bound to several names keeps the first.
    fn name_nodes(&mut self) {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for (name, _) in &self.bindings {
            *count.entry(name.as_str()).or_default() += 1;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (name, node) in &self.bindings {
            let k = seen.entry(name.as_str()).or_default();
            *k += 1;
            let n = &mut self.nodes[*node];
            if !n.name.is_empty() {
                continue;
            }
            n.name = if *k == count[name.as_str()] {
                name.clone()
            } else {
                format!("{name}{}", subscript(*k))
            };
            n.var.named(&n.name);
        }
    }
}

fn binary_kind(op: BinOp) -> Kind {
    match op {
        BinOp::Add => Kind::Add,
        BinOp::Sub => Kind::Sub,
        BinOp::Mul => Kind::Mul,
        BinOp::Div => Kind::Div,
        BinOp::Pow => Kind::PowVar,
    }
}

/// `12` as `₁₂`.
fn subscript(k: usize) -> String {
    k.to_string()
        .chars()
        .map(|d| char::from_u32(0x2080 + d.to_digit(10).unwrap_or(0)).unwrap_or('?'))
        .collect()
}

impl<'g> Model<'g> {
    /// Parses `src` and records it in `graph` (which should be empty: node positions are
    /// compared with the engine's).
    ///
    /// # Errors
    /// A syntax error, a name assigned twice, or more than [`MAX_NODES`] nodes.
    pub fn build(graph: &'g Graph, src: &str) -> Result<Self, ParseError> {
        let stmts = parse(src)?;
        let before = graph.len();
        let mut b = Builder {
            graph,
            src,
            nodes: Vec::new(),
            names: HashMap::new(),
            bindings: Vec::new(),
            backward: None,
            prints: Vec::new(),
        };
        let mut root = 0;
        for s in &stmts {
            if let Some(i) = b.statement(s)? {
                root = i;
            }
        }
        b.name_nodes();
        assert_eq!(
            graph.len() - before,
            b.nodes.len(),
            "every drawn node is exactly one engine node"
        );
        Ok(Model {
            graph,
            nodes: b.nodes,
            root: b.backward.unwrap_or(root),
            calls_backward: b.backward.is_some(),
            prints: b.prints,
        })
    }

    /// The lines the program's `print(...)` statements write, with today's values: as
    /// Python would print them running the program top to bottom (a `.grad` printed before
    /// the `.backward()` is 0; after it, the engine's gradient as it stands).
    pub fn printed(&self) -> Vec<String> {
        self.prints
            .iter()
            .map(|p| {
                let grad = |i: usize| {
                    if p.after_backward {
                        self.nodes[i].var.grad()
                    } else {
                        0.0
                    }
                };
                let args: Vec<String> = p
                    .args
                    .iter()
                    .map(|pieces| {
                        pieces
                            .iter()
                            .map(|piece| match piece {
                                Out::Text(t) => t.clone(),
                                Out::Num(i, attr, spec) => {
                                    let v = match attr {
                                        Attr::Data => self.nodes[*i].var.value(),
                                        Attr::Grad => grad(*i),
                                    };
                                    match spec {
                                        Some(spec) => pyfmt::format(v, spec),
                                        None => pyfmt::repr(v),
                                    }
                                }
                                Out::Repr(i) => format!(
                                    "Value(data={}, grad={})",
                                    pyfmt::repr(self.nodes[*i].var.value()),
                                    match grad(*i) {
                                        0.0 => "0".to_string(),
                                        g => pyfmt::repr(g),
                                    }
                                ),
                            })
                            .collect()
                    })
                    .collect();
                args.join(" ")
            })
            .collect()
    }

    /// The graph the model lives in.
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// Which nodes the root was computed from (the root included): one backwards sweep,
    /// since inputs always come before the nodes that use them.
    pub fn ancestors(&self) -> Vec<bool> {
        let mut reached = vec![false; self.nodes.len()];
        reached[self.root] = true;
        for i in (0..=self.root).rev() {
            if reached[i] {
                for &j in &self.nodes[i].inputs {
                    debug_assert!(j < i, "inputs come before outputs");
                    reached[j] = true;
                }
            }
        }
        reached
    }

    /// The indices of leaves with a gradient (the ones the page lets you drag).
    pub fn leaves(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].kind == Kind::Var)
            .collect()
    }

    /// Sets a tracked leaf's value and recomputes every value in the graph (gradients are
    /// left as they are: run [`Model::engine_backward`] again).
    ///
    /// # Panics
    /// If `leaf` is not a [`Kind::Var`] node.
    pub fn set_leaf(&self, leaf: usize, value: f64) {
        assert_eq!(
            self.nodes[leaf].kind,
            Kind::Var,
            "node {leaf} is not a leaf"
        );
        self.nodes[leaf].var.set_value(value);
        self.graph.recompute();
    }

    /// The engine's reverse pass from the root, from zeroed gradients.
    pub fn engine_backward(&self) {
        self.graph.zero_grad();
        self.nodes[self.root].var.backward();
    }

    /// The local derivatives ∂node/∂input, one per input edge, computed by the engine: the
    /// same op recorded in `scratch` on fresh leaves holding the inputs' values, and its
    /// `backward`. (A node using one input twice, `x * x`, has two edges, `x` on each.)
    pub fn local_derivatives(&self, scratch: &Graph, node: usize) -> Vec<f64> {
        let n = &self.nodes[node];
        scratch.clear();
        let leaves: Vec<Var<'_>> = n
            .inputs
            .iter()
            .map(|&i| scratch.var(self.nodes[i].var.value()))
            .collect();
        if leaves.is_empty() {
            return Vec::new();
        }
        n.kind.apply(&leaves).backward();
        let d = leaves.iter().map(|v| v.grad()).collect();
        scratch.clear();
        d
    }

    /// Runs the engine's `backward`, and replays it edge by edge: for each node from the root
    /// down in reverse creation order, its gradient times each edge's local derivative,
    /// accumulated into the inputs. The replayed gradients are compared with the engine's.
    pub fn backward(&self, scratch: &Graph) -> Backward {
        self.engine_backward();
        let n = self.nodes.len();
        let engine: Vec<f64> = self.nodes.iter().map(|n| n.var.grad()).collect();
        let reached = self.ancestors();
        let mut replayed = vec![0.0; n];
        let mut steps = Vec::new();
        if self.nodes[self.root].var.is_tracked() {
            replayed[self.root] = 1.0;
            for i in (0..=self.root).rev() {
                if !reached[i] || !self.nodes[i].var.is_tracked() || self.nodes[i].inputs.is_empty()
                {
                    continue;
                }
                let grad = replayed[i];
                let locals = self.local_derivatives(scratch, i);
                let edges = self.nodes[i]
                    .inputs
                    .iter()
                    .zip(locals)
                    .map(|(&from, local)| {
                        let tracked = self.nodes[from].var.is_tracked();
                        let product = grad * local;
                        if tracked {
                            replayed[from] += product;
                        }
                        Edge {
                            from,
                            local,
                            product,
                            tracked,
                        }
                    })
                    .collect();
                steps.push(Step {
                    node: i,
                    grad,
                    edges,
                });
            }
        }
        let max_rel_diff = replayed
            .iter()
            .zip(&engine)
            .map(|(&r, &e)| rel_diff(r, e))
            .fold(0.0, f64::max);
        Backward {
            steps,
            replayed,
            engine,
            max_rel_diff,
        }
    }
}

/// Where a NaN or ∞ first appears, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct NonFinite {
    /// The node whose value (or gradient) is the first non-finite one.
    pub node: usize,
    /// Whether it is the gradient (else the value).
    pub gradient: bool,
    /// What happened, in a sentence: the op, its inputs, and the cause (domain, overflow,
    /// division by zero, 0·∞).
    pub message: String,
}

/// `NaN`, `∞` or `−∞`.
fn word(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "∞"
    } else {
        "−∞"
    }
}

const OVERFLOW: &str = "beyond the largest f64, about 1.8e308 (overflow)";

impl Model<'_> {
    fn label(&self, i: usize) -> String {
        match self.nodes[i].name.as_str() {
            "" => format!("v{i}"),
            name => quote(name),
        }
    }

    /// The first node, in creation order, whose value is NaN or ±∞: since its inputs come
    /// earlier, they are all finite, and its op made it. `None` if every value is finite.
    pub fn first_non_finite_value(&self) -> Option<NonFinite> {
        let i = self.nodes.iter().position(|n| !n.var.value().is_finite())?;
        let n = &self.nodes[i];
        let v = n.var.value();
        let x: Vec<f64> = n
            .inputs
            .iter()
            .map(|&j| self.nodes[j].var.value())
            .collect();
        let a = x.first().copied().unwrap_or(v);
        let b = x.get(1).copied().unwrap_or(f64::NAN);
        let power = |k: f64| {
            if a < 0.0 && k.fract() != 0.0 {
                format!("a negative number ({a}) to a fractional power ({k}) is not a real number (outside the domain)")
            } else if a == 0.0 && k < 0.0 {
                format!("0 to a negative power ({k}) divides by zero")
            } else {
                format!("{a} ** {k} is {OVERFLOW}")
            }
        };
        let why = match n.kind {
            Kind::Var | Kind::Const => format!("the number is {OVERFLOW}"),
            Kind::Div if b == 0.0 && a == 0.0 => "0/0 is undefined (division by zero)".into(),
            Kind::Div if b == 0.0 => format!("division by zero: {a} / 0"),
            Kind::Ln if a < 0.0 => {
                format!("ln of a negative number ({a}) is undefined: ln's domain is a > 0")
            }
            Kind::Ln if a == 0.0 => "ln(0) = −∞: the edge of ln's domain (a > 0)".into(),
            Kind::Pow(k) => power(k),
            Kind::PowVar => power(b),
            Kind::Exp => format!("exp({a}) is {OVERFLOW} (exp overflows past a ≈ 709.78)"),
            _ => {
                let shown: Vec<String> = x.iter().map(|v| v.to_string()).collect();
                format!("{}({}) is {OVERFLOW}", n.kind.name(), shown.join(", "))
            }
        };
        Some(NonFinite {
            node: i,
            gradient: false,
            message: format!(
                "`{}` ({}) is {} — the first value that is not finite: {why}.",
                self.label(i),
                n.kind.name(),
                word(v)
            ),
        })
    }

    /// The first gradient, in the reverse pass's order, that is NaN or ±∞, and the edge or
    /// sum that made it (`b` is [`Model::backward`]'s replay). `None` if all are finite.
    pub fn first_non_finite_grad(&self, b: &Backward) -> Option<NonFinite> {
        let found = |node: usize, message: String| {
            Some(NonFinite {
                node,
                gradient: true,
                message,
            })
        };
        for st in &b.steps {
            if !st.grad.is_finite() {
                return found(
                    st.node,
                    format!(
                        "the gradient of `{}` is {}: the finite gradients it receives add up to a number {OVERFLOW}.",
                        self.label(st.node),
                        word(st.grad)
                    ),
                );
            }
            let n = &self.nodes[st.node];
            for (k, e) in st.edges.iter().enumerate() {
                if e.product.is_finite() {
                    continue;
                }
                let x = |j: usize| self.nodes[n.inputs[j]].var.value();
                let why = if !e.local.is_finite() && st.grad == 0.0 {
                    format!(
                        "0·∞: the upstream gradient is 0 and the local derivative is {}, and 0·∞ is NaN",
                        word(e.local)
                    )
                } else if !e.local.is_finite() {
                    let cause = match (n.kind, k) {
                        (Kind::Ln, _) => format!("∂(ln a)/∂a = 1/a at a = {}", x(0)),
                        (Kind::Div, 0) => format!("∂(a/b)/∂a = 1/b at b = {}", x(1)),
                        (Kind::Div, _) => format!("∂(a/b)/∂b = −a/b² at b = {}", x(1)),
                        (Kind::Pow(p), _) => {
                            format!("∂(aᵏ)/∂a = k·aᵏ⁻¹ with k = {p} at a = {}", x(0))
                        }
                        (Kind::PowVar, 1) => format!("∂(aᵇ)/∂b = aᵇ·ln a at a = {}", x(0)),
                        _ => format!("its local derivative ({})", n.kind.rule()),
                    };
                    format!("the local derivative is {}: {cause}", word(e.local))
                } else {
                    format!("upstream {} × local {} is {OVERFLOW}", st.grad, e.local)
                };
                return found(
                    n.inputs[k],
                    format!(
                        "the gradient `{}` hands to `{}` ({}) is {} — the first gradient that is not finite: {why}.",
                        self.label(st.node),
                        self.label(n.inputs[k]),
                        n.kind.name(),
                        word(e.product)
                    ),
                );
            }
        }
        let i = (0..self.nodes.len())
            .rev()
            .find(|&i| !b.replayed[i].is_finite())?;
        found(
            i,
            format!(
                "the gradient of `{}` is {}: the finite gradients it receives add up to a number {OVERFLOW}.",
                self.label(i),
                word(b.replayed[i])
            ),
        )
    }
}

/// `|a − b| / max(1, |a|, |b|)`; 0 when both are the same non-finite number, ∞ when only one
/// of them is not finite.
fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else if !a.is_finite() || !b.is_finite() {
        f64::INFINITY
    } else {
        (a - b).abs() / 1f64.max(a.abs()).max(b.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * 1f64.max(b.abs())
    }

    fn by_name<'a, 'g>(m: &'a Model<'g>, name: &str) -> &'a Node<'g> {
        m.nodes.iter().find(|n| n.name == name).unwrap()
    }

    #[test]
    fn apple_seed_003() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, presets::APPLE).unwrap();
        assert_eq!(m.nodes.len(), 5);
        assert!(close(m.nodes[m.root].var.value(), 220.0));
        let b = m.backward(&s);
        assert_eq!(b.max_rel_diff, 0.0);
        let grad = |name| b.engine[m.nodes.iter().position(|n| n.name == name).unwrap()];
        assert!(close(grad("apple"), 2.2));
        assert!(close(grad("count"), 110.0));
        assert!(close(grad("tax"), 200.0));
        // root first; price = apple_price × tax hands 1·tax and 1·apple_price down
        assert_eq!(b.steps[0].node, m.root);
        assert_eq!(b.steps[0].grad, 1.0);
        assert!(close(b.steps[0].edges[0].local, 1.1));
        assert!(close(b.steps[0].edges[1].local, 200.0));
        assert_eq!(b.steps.len(), 2);
    }

    #[test]
    fn apple_orange_seed_003() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, presets::APPLE_ORANGE).unwrap();
        assert!(close(m.nodes[m.root].var.value(), 715.0));
        let b = m.backward(&s);
        assert!(b.max_rel_diff <= 1e-15);
        for (name, want) in [
            ("apple", 2.2),
            ("apple_count", 110.0),
            ("orange", 3.3),
            ("orange_count", 165.0),
            ("tax", 650.0),
        ] {
            assert!(close(by_name(&m, name).var.grad(), want), "{name}");
        }
    }

    #[test]
    fn network_seed_001() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, presets::NETWORK).unwrap();
        // the seed's printed forward pass
        for (name, want) in [
            ("g1", 2.6),
            ("g2", 2.0),
            ("h1", 0.93086158),
            ("h2", 0.88079708),
            ("z1", 0.5334847),
            ("z2", 1.09700809),
            ("t1", 0.63029549),
            ("t2", 0.74969909),
        ] {
            assert!(
                (by_name(&m, name).var.value() - want).abs() < 5e-8,
                "{name}"
            );
        }
        let b = m.backward(&s);
        assert!(b.max_rel_diff <= 1e-14, "{}", b.max_rel_diff);
        // by hand: ∂C/∂w2_11 = (t1 − y1)·t1(1 − t1)·h1
        let (t1, h1) = (by_name(&m, "t1").var.value(), by_name(&m, "h1").var.value());
        let want = (t1 - 0.8) * t1 * (1.0 - t1) * h1;
        assert!(close(by_name(&m, "w2_11").var.grad(), want));
    }

    #[test]
    fn a_node_using_an_input_twice_has_two_edges() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, "x = 3; y = x * x").unwrap();
        let b = m.backward(&s);
        assert_eq!(b.steps[0].edges.len(), 2);
        assert_eq!(b.steps[0].edges[0].local, 3.0);
        assert_eq!(b.steps[0].edges[1].local, 3.0);
        assert_eq!(b.replayed[0], 6.0);
        assert_eq!(b.engine[0], 6.0);
    }

    #[test]
    fn every_op_replays_like_the_engine_and_matches_finite_differences() {
        let (g, s) = (Graph::new(), Graph::new());
        let src = "a = 0.7; b = -1.3; c = 2.1\n\
                   y = (a*b + c).relu() * (b - a).tanh() / c.exp() + (a/c).sigmoid() \
                   + ln(c) - -a + c ** 1.5 + c.pow(a) + pow(c, 2) * 0.5";
        let m = Model::build(&g, src).unwrap();
        let b = m.backward(&s);
        assert!(b.max_rel_diff <= 1e-14, "{}", b.max_rel_diff);
        for leaf in m.leaves() {
            let x = m.nodes[leaf].var.value();
            let h = 1e-5;
            m.set_leaf(leaf, x + h);
            let up = m.nodes[m.root].var.value();
            m.set_leaf(leaf, x - h);
            let down = m.nodes[m.root].var.value();
            m.set_leaf(leaf, x);
            let fd = (up - down) / (2.0 * h);
            assert!((fd - b.engine[leaf]).abs() < 1e-7, "{}", m.nodes[leaf].name);
        }
    }

    #[test]
    fn dragging_a_leaf_updates_values_and_gradients() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, presets::APPLE).unwrap();
        let apple = by_name(&m, "apple").var;
        m.set_leaf(0, 150.0);
        assert!(close(m.nodes[m.root].var.value(), 150.0 * 2.0 * 1.1));
        m.backward(&s);
        assert!(close(by_name(&m, "count").var.grad(), 150.0 * 1.1));
        assert!(close(apple.grad(), 2.2));
    }

    #[test]
    fn implicit_leaves_constants_and_errors() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, "(a*b + c).relu() * d").unwrap();
        assert_eq!(m.leaves().len(), 4);
        assert_eq!(m.nodes[m.root].var.value(), 2.0);
        let m2 = Model::build(&g, "x = 2; y = 3 * x").unwrap();
        assert_eq!(m2.nodes[1].kind, Kind::Const);
        let b = m2.backward(&s);
        // the constant's edge has a local derivative but keeps no gradient
        let e = &b.steps[0].edges[0];
        assert_eq!((e.local, e.tracked, b.engine[1]), (2.0, false, 0.0));
        assert_eq!(b.engine[0], 3.0);
        let g2 = Graph::new();
        let big = (0..MAX_NODES)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join("+");
        assert!(Model::build(&g2, &big)
            .unwrap_err()
            .message
            .contains("at most"));
    }

    #[test]
    fn a_root_without_leaves_has_no_steps() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, "2 * 3").unwrap();
        let b = m.backward(&s);
        assert!(b.steps.is_empty());
        assert_eq!(m.nodes[m.root].var.value(), 6.0);
    }

    #[test]
    fn micrograds_readme_cell_gives_its_three_numbers() {
        let (g, s) = (Graph::new(), Graph::new());
        let m = Model::build(&g, crate::parse::tests::README).unwrap();
        assert!(m.calls_backward);
        assert_eq!(m.nodes[m.root].name, "g");
        // before backward: the first print shows g; the gradients print as 0
        assert_eq!(m.printed(), ["24.7041", "0.0000", "0.0000"]);
        let b = m.backward(&s);
        assert!(b.max_rel_diff <= 1e-14, "{}", b.max_rel_diff);
        assert_eq!(m.printed(), ["24.7041", "138.8338", "645.5773"]);
        // micrograd's exact numbers (its README, in float64)
        assert!(close(m.nodes[m.root].var.value(), 24.70408163265306));
        assert!(close(by_name(&m, "a").var.grad(), 138.83381924198252));
        assert!(close(by_name(&m, "b").var.grad(), 645.5772594752186));
        assert!(m.first_non_finite_value().is_none());
        assert!(m.first_non_finite_grad(&b).is_none());
    }

    #[test]
    fn reassignment_makes_new_nodes_and_the_latest_keeps_the_name() {
        let g = Graph::new();
        let m = Model::build(&g, "c = Value(1.0)\nc += 2\nc *= c\nc -= 1\nc /= 4\nd = c").unwrap();
        let names: Vec<&str> = m
            .nodes
            .iter()
            .filter(|n| !n.name.is_empty())
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["c₁", "c₂", "c₃", "c₄", "c"]);
        assert_eq!(m.nodes[m.root].name, "c"); // `d = c` names no new node
        assert_eq!(m.nodes[m.root].var.value(), ((1.0 + 2.0) * 3.0 - 1.0) / 4.0);
        assert_eq!(by_name(&m, "c₂").kind, Kind::Add);
        assert_eq!(by_name(&m, "c").kind, Kind::Div);
        // an update of a name with no value is an error at the name
        let e = Model::build(&g, "x = 1\ny += x").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("`y` has no value yet"), "{e}");
        // the page's implicit leaves count as a first binding
        let m = Model::build(&g, "a = a * 2").unwrap();
        assert_eq!(m.nodes[0].name, "a₁");
        assert_eq!(m.nodes[m.root].name, "a");
    }

    #[test]
    fn print_values_and_reprs_at_their_place_in_the_program() {
        let (g, s) = (Graph::new(), Graph::new());
        let src = "x = Value(3.0)\ny = x * x\nprint(y)\nprint('y is', y.data, 2, -3, 2.5, 1e-7)\ny.backward()\n\
                   print(x.grad, f'{x.grad:.2e}|{y.data:6.1f}|{x.grad:.3g}')\nz = y + 1";
        let m = Model::build(&g, src).unwrap();
        assert_eq!(m.nodes[m.root].name, "y"); // backward's receiver, not the last line
        m.backward(&s);
        assert_eq!(
            m.printed(),
            [
                "Value(data=9.0, grad=0)",
                "y is 9.0 2 -3 2.5 1e-07",
                "6.0 6.00e+00|   9.0|6"
            ]
        );
        for (src, want) in [
            ("x = 1\nx.data", "plain number"),
            ("x = 1\ny = x.backward() + 1", "statement of its own"),
            ("x = Value(a)", "takes a number"),
        ] {
            let e = Model::build(&g, src).unwrap_err();
            assert!(e.message.contains(want), "{src}: {e}");
        }
    }

    #[test]
    fn non_finite_values_and_gradients_name_the_op_and_the_cause() {
        let (g, s) = (Graph::new(), Graph::new());
        let value = |src: &str| {
            let m = Model::build(&g, src).unwrap();
            let f = m.first_non_finite_value().unwrap();
            (m.nodes[f.node].name.clone(), f.message)
        };
        let (name, msg) = value("a = -1\ny = ln(a)\nz = y * 2");
        assert_eq!(name, "y");
        assert!(
            msg.contains("is NaN") && msg.contains("ln's domain is a > 0"),
            "{msg}"
        );
        let (name, msg) = value("one = 1\nzero = 0\nq = one / zero\nr = q - q");
        assert_eq!(name, "q");
        assert!(
            msg.contains("is ∞") && msg.contains("division by zero"),
            "{msg}"
        );
        let (_, msg) = value("x = 800\ny = x.exp()");
        assert!(msg.contains("overflow"), "{msg}");
        let (_, msg) = value("x = -8\ny = x ** 0.5");
        assert!(msg.contains("fractional power"), "{msg}");
        let (_, msg) = value("x = 1e308\ny = x * 10");
        assert!(msg.contains("×") && msg.contains("overflow"), "{msg}");
        // a leaf at ln's domain edge: value −∞, and its gradient 1/0
        let m = Model::build(&g, "x = 0\ny = x.ln()").unwrap();
        assert!(m
            .first_non_finite_value()
            .unwrap()
            .message
            .contains("edge of ln's domain"));
        let b = m.backward(&s);
        let f = m.first_non_finite_grad(&b).unwrap();
        assert!(f.gradient && f.node == 0);
        assert!(f.message.contains("1/a at a = 0"), "{}", f.message);
        // 0·∞: relu passes a 0 gradient to a node whose local derivative is infinite
        let m = Model::build(&g, "x = 0\ny = x.pow(0.5)\nz = (y - 1).relu()").unwrap();
        let b = m.backward(&s);
        assert!(m.first_non_finite_value().is_none());
        let f = m.first_non_finite_grad(&b).unwrap();
        assert!(f.message.contains("0·∞"), "{}", f.message);
        // finite everywhere: nothing to report
        let m = Model::build(&g, presets::APPLE).unwrap();
        assert!(m.first_non_finite_grad(&m.backward(&s)).is_none());
    }
}
