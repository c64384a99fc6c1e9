//! The gradient of a [`Value`](super::Value) recorded as new values
//! ([`Value::grad_wrt`](super::Value::grad_wrt)): the rules of [`op`](crate::op) run on
//! [`Rec`], a `Copy` key the running call holds a reference to.

use std::ops::{Add, Div, Mul, Neg, Sub};

use smallvec::{smallvec, SmallVec};

use super::arena::{pow_op, too_many_refs, with, Key, ARENA};
use crate::op::{Op, Pull};
use crate::Scalar;

use super::Value;

/// The gradient recorded as values.
impl Value {
    /// The gradient of `self` with respect to each of `xs`, *as new `Value`s*: the reverse
    /// pass is recorded with the same ops and the same derivative rules (those of
    /// [`op`](crate::op), run on a recording scalar), so the result can be differentiated
    /// again, to any order. No [`grad`](Value::grad) is touched. An `x` that `self` does
    /// not depend on gets a constant 0. Only nodes on a path from one of `xs` record
    /// anything; recorded nodes that the results do not use are freed when it returns.
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = x.pow(5.0);
    /// let d1 = y.grad_wrt(&[&x]).remove(0); // 5x⁴
    /// let d2 = d1.grad_wrt(&[&x]).remove(0); // 20x³
    /// let d3 = d2.grad_wrt(&[&x]).remove(0); // 60x²
    /// assert_eq!((d1.data(), d2.data(), d3.data()), (80.0, 160.0, 240.0));
    /// assert_eq!(x.grad(), 0.0); // untouched
    /// ```
    #[track_caller]
    pub fn grad_wrt(&self, xs: &[&Value]) -> Vec<Value> {
        use std::collections::{HashMap, HashSet};
        let root = self.key;
        // The tracked ancestors in topological order, and which of them a listed x reaches.
        let (order, leads) = with(|a| {
            let mut leads: HashSet<Key> = xs.iter().map(|x| x.key).collect();
            if !a.node(root).tracked {
                return (Vec::new(), leads);
            }
            a.topo_order(root);
            for &k in &a.order {
                let n = &a.nodes[k];
                if n.inputs.iter().any(|c| leads.contains(c)) {
                    leads.insert(k);
                }
            }
            (a.order.clone(), leads)
        });
        let scope = Scope(with(|a| a.scope.len()));
        let mut adjoint: HashMap<Key, Rec> = HashMap::new();
        if leads.contains(&root) && !order.is_empty() {
            adjoint.insert(root, Rec::constant(1.0));
        }
        for &k in order.iter().rev() {
            let Some(&g) = adjoint.get(&k) else { continue };
            let (op, inputs) = with(|a| {
                let n = &a.nodes[k];
                (n.op, n.inputs.clone())
            });
            if matches!(op, Op::Leaf) {
                continue;
            }
            let mut pull = RecPull {
                inputs: &inputs,
                adjoint: &mut adjoint,
                leads: &leads,
            };
            op.pullback(&[], Rec(k), g, &mut pull);
        }
        let out = xs
            .iter()
            .map(|x| match adjoint.get(&x.key) {
                Some(r) => Value::from_key(with(|a| {
                    let n = a.node_mut(r.0);
                    n.refs = n.refs.checked_add(1).unwrap_or_else(|| too_many_refs());
                    r.0
                })),
                None => Value::constant(0.0),
            })
            .collect();
        drop(scope);
        out
    }
}

/// The nodes a [`Value::grad_wrt`] recorded from position `.0` of the arena's scope on:
/// dropping it (also when a panic unwinds) releases the reference each one holds.
pub(super) struct Scope(usize);

impl Drop for Scope {
    fn drop(&mut self) {
        let _ = ARENA.try_with(|a| {
            if let Ok(mut a) = a.try_borrow_mut() {
                let keys: Vec<Key> = a.scope.drain(self.0..).collect();
                keys.into_iter().for_each(|k| a.release(k));
            }
        });
    }
}

/// A recording scalar for [`Value::grad_wrt`]: `Copy`, as the rules' [`Scalar`] needs,
/// because its node's reference is held by the running `grad_wrt`'s [`Scope`], not by it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rec(Key);

impl Rec {
    #[inline]
    fn record(op: Op, inputs: SmallVec<[Key; 2]>) -> Rec {
        with(|a| {
            let k = a.push(op, inputs);
            a.scope.push(k);
            Rec(k)
        })
    }

    #[inline]
    fn constant(c: f64) -> Rec {
        with(|a| {
            let k = a.leaf(c, false);
            a.nodes[k].refs = 1;
            a.scope.push(k);
            Rec(k)
        })
    }

    #[inline]
    fn unary(self, op: Op) -> Rec {
        Rec::record(op, smallvec![self.0])
    }
}

/// [`Pull`] on recording scalars: every derivative becomes nodes, accumulated with `+`.
pub(super) struct RecPull<'a> {
    inputs: &'a [Key],
    adjoint: &'a mut std::collections::HashMap<Key, Rec>,
    leads: &'a std::collections::HashSet<Key>,
}

impl Pull<Rec> for RecPull<'_> {
    fn input(&self, p: u32) -> Rec {
        Rec(self.inputs[p as usize])
    }
    fn wants(&self, p: u32) -> bool {
        let k = self.inputs[p as usize];
        self.leads.contains(&k) && with(|a| a.node(k).tracked)
    }
    fn give(&mut self, p: u32, d: Rec) {
        let k = self.inputs[p as usize];
        let sum = match self.adjoint.get(&k) {
            Some(&acc) => acc + d,
            None => d,
        };
        self.adjoint.insert(k, sum);
    }
    fn custom_derivative(&self, _: u32, _: Rec, _: Rec) -> Rec {
        unreachable!("a Value never records a custom op")
    }
    fn custom_partial(&self, _: u32, _: usize, _: &[Rec], _: Rec) -> Rec {
        unreachable!("a Value never records a custom op")
    }
}

/// `Rec ∘ Rec` and `Rec ∘ f64` for the rules.
macro_rules! rec_ops {
    ($($Trait:ident $method:ident => $op:ident;)*) => {$(
        impl $Trait for Rec {
            type Output = Rec;
            fn $method(self, rhs: Rec) -> Rec {
                Rec::record(Op::$op(0, 1), smallvec![self.0, rhs.0])
            }
        }
        impl $Trait<f64> for Rec {
            type Output = Rec;
            fn $method(self, rhs: f64) -> Rec {
                $Trait::$method(self, Rec::constant(rhs))
            }
        }
    )*};
}

rec_ops! {
    Add add => Add;
    Sub sub => Sub;
    Mul mul => Mul;
    Div div => Div;
}

impl Neg for Rec {
    type Output = Rec;
    fn neg(self) -> Rec {
        self.unary(Op::Neg(0))
    }
}

macro_rules! rec_scalar {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        impl Scalar for Rec {
            fn apply_graph_fn(self, _: for<'g> fn(crate::Var<'g>) -> crate::Var<'g>) -> Rec {
                unreachable!("a recorded gradient of a Value never applies a graph function")
            }
            $(
                fn $name(self) -> Rec {
                    self.unary(Op::$V(0))
                }
            )*
            fn value(self) -> f64 {
                with(|a| a.node(self.0).value)
            }
            fn lift(self, c: f64) -> Rec {
                Rec::constant(c)
            }
            fn powf(self, k: f64) -> Rec {
                Rec::record(pow_op(k), smallvec![self.0])
            }
            fn pow_scalar(self, e: Rec) -> Rec {
                Rec::record(Op::PowVar(0, 1), smallvec![self.0, e.0])
            }
            fn max(self, other: Rec) -> Rec {
                Rec::record(Op::Max(0, 1), smallvec![self.0, other.0])
            }
            fn min(self, other: Rec) -> Rec {
                Rec::record(Op::Min(0, 1), smallvec![self.0, other.0])
            }
        }
    };
}

crate::unary_ops!(rec_scalar);
