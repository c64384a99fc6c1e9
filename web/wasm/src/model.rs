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

use crate::parse::{parse, BinOp, Expr, Func, ParseError, Stmt};

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

/// A program recorded in a graph.
#[derive(Debug)]
pub struct Model<'g> {
    graph: &'g Graph,
    /// Every node, in creation order (a topological order).
    pub nodes: Vec<Node<'g>>,
    /// The node `backward` starts from: the last statement's.
    pub root: usize,
}

struct Builder<'g, 's> {
    graph: &'g Graph,
    src: &'s str,
    nodes: Vec<Node<'g>>,
    names: HashMap<String, usize>,
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
                    self.check_size(*at)?;
                    let var = self.graph.var(DEFAULT_LEAF).named(name);
                    let i = self.push(Kind::Var, vec![], var, *at);
                    self.nodes[i].name = name.clone();
                    self.names.insert(name.clone(), i);
                    Ok(i)
                }
            },
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
                let kind = match op {
                    BinOp::Add => Kind::Add,
                    BinOp::Sub => Kind::Sub,
                    BinOp::Mul => Kind::Mul,
                    BinOp::Div => Kind::Div,
                    BinOp::Pow => Kind::PowVar,
                };
                self.op(kind, vec![a, b], *at)
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

    fn statement(&mut self, s: &Stmt) -> Result<usize, ParseError> {
        let Some((name, at)) = &s.name else {
            return self.expr(&s.expr);
        };
        if let Some(&earlier) = self.names.get(name) {
            let line = ParseError::at(self.src, self.nodes[earlier].offset, "").line;
            return Err(ParseError::at(
                self.src,
                *at,
                format!("`{name}` already has a value (line {line}); each name is assigned once"),
            ));
        }
        let i = match s.expr.literal() {
            Some(v) => {
                self.check_size(*at)?;
                let var = self.graph.var(v);
                self.push(Kind::Var, vec![], var, *at)
            }
            None => self.expr(&s.expr)?,
        };
        if self.nodes[i].name.is_empty() {
            self.nodes[i].name = name.clone();
            self.nodes[i].var.named(name);
        }
        self.names.insert(name.clone(), i);
        Ok(i)
    }
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
        };
        let mut root = 0;
        for s in &stmts {
            root = b.statement(s)?;
        }
        assert_eq!(
            graph.len() - before,
            b.nodes.len(),
            "every drawn node is exactly one engine node"
        );
        Ok(Model {
            graph,
            nodes: b.nodes,
            root,
        })
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
        let e = Model::build(&g2, "x = 1\nx = 2").unwrap_err();
        assert!(e.message.contains("already has a value (line 1)"), "{e}");
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
}
