//! One node per op on [`Value`]s: how an op is recorded (in one borrow of the thread's
//! graph when it can, else by the same op on a [`Var`]), the ops of the op list, `pow`,
//! `clamp`, `max` and the other hand-written ones, the operators `+ - * /` and unary `-` for
//! every mix of `Value`, `&Value` and `f64`, and `Sum`.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::owner::with;
use super::Value;
use crate::op::Op;
use crate::Var;

impl Value {
    /// Records `f` of this value's node (the general path of [`Value::unary_op`], and the
    /// one path of ops the tape's quick path never takes).
    #[inline(never)]
    #[track_caller]
    fn unary(&self, f: impl for<'g> FnOnce(Var<'g>) -> Var<'g>) -> Value {
        Value::from_pos(with(|o| o.record(|_| f(o.var(self.pos)))))
    }

    /// Records `op` of this value's node: in one borrow of the graph when it can
    /// ([`Owner::try_unary`](owner::Owner::try_unary)), else as `f` (the same op on the
    /// node's [`Var`]) by the graph's general path.
    #[inline(always)]
    #[track_caller]
    fn unary_op(
        &self,
        op: impl Fn(u32) -> Op,
        f: impl for<'g> FnOnce(Var<'g>) -> Var<'g>,
    ) -> Value {
        // (the general path out of line: the quick one then inlines into the caller)
        match with(|o| o.try_unary(self.pos, op)) {
            Some(pos) => Value::from_pos(pos),
            None => self.unary(f),
        }
    }

    /// Records `op` of this value's node and `rhs`'s, as [`Value::unary_op`].
    #[inline(always)]
    #[track_caller]
    fn binary(
        &self,
        rhs: &Value,
        op: impl Fn(u32, u32) -> Op,
        f: impl for<'g> FnOnce(Var<'g>, Var<'g>) -> Var<'g>,
    ) -> Value {
        // (the general path out of line: the quick one then inlines into the caller)
        match with(|o| o.try_binary(self.pos, rhs.pos, op)) {
            Some(pos) => Value::from_pos(pos),
            None => self.binary_general(rhs, f),
        }
    }

    /// [`Value::binary`]'s general path: `f`, the op on the nodes' [`Var`]s.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn binary_general(
        &self,
        rhs: &Value,
        f: impl for<'g> FnOnce(Var<'g>, Var<'g>) -> Var<'g>,
    ) -> Value {
        Value::from_pos(with(|o| {
            let (a, b) = o.vars2(self.pos, rhs.pos);
            o.record(|_| f(a, b))
        }))
    }

    /// `selfᵏ` for a constant `k`. Derivative `k·selfᵏ⁻¹` (0 when `k = 0`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = x.pow(3.0);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (8.0, 12.0));
    /// ```
    #[track_caller]
    pub fn pow(&self, k: impl Into<f64>) -> Value {
        let k: f64 = k.into();
        self.unary(|a| a.pow(k))
    }

    /// The same node as [`Value::pow_value`], under the name [`Var::pow_var`](crate::Var::pow_var) has.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(2.0), Value::new(3.0));
    /// assert_eq!(a.pow_var(&b).data(), 8.0);
    /// ```
    #[track_caller]
    pub fn pow_var(&self, exponent: &Value) -> Value {
        self.pow_value(exponent)
    }

    /// Natural logarithm: the same node as [`Value::ln`], under the name Python uses.
    ///
    /// ```
    /// let x = scalargrad::Value::new(4.0);
    /// x.log().backward();
    /// assert_eq!(x.grad(), 0.25);
    /// ```
    #[track_caller]
    pub fn log(&self) -> Value {
        self.ln()
    }

    /// `x` clamped to `[lo, hi]`: the rule of [`Var::clamp`](crate::Var::clamp).
    ///
    /// # Panics
    /// If `lo > hi`, or a bound is NaN.
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// let y = x.clamp(-1.0, 1.0);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (1.0, 0.0));
    /// ```
    #[track_caller]
    pub fn clamp(&self, lo: f64, hi: f64) -> Value {
        crate::var::check_bounds(lo, hi);
        self.unary(|a| a.clamp(lo, hi))
    }

    /// A constant with the same value: no gradient flows back through it (PyTorch's
    /// `detach`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// let y = &x * &x.detach(); // d/dx = 3, not 6
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (9.0, 3.0));
    /// ```
    #[track_caller]
    pub fn detach(&self) -> Value {
        self.unary(|a| a.detach())
    }

    /// `selfᵉ` with a value as exponent. Derivatives `e·selfᵉ⁻¹` and `selfᵉ·ln self`.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(2.0), Value::new(3.0));
    /// let y = a.pow_value(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad()), (8.0, 12.0));
    /// assert!((b.grad() - 8.0 * 2f64.ln()).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn pow_value(&self, exponent: &Value) -> Value {
        self.binary(exponent, Op::PowVar, |a, b| a.pow_var(b))
    }

    /// The larger of two values (NaN if either is NaN). Derivative 1 for the larger, 0 for
    /// the other; ½ each on a tie (as PyTorch's `maximum`).
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(1.0), Value::new(3.0));
    /// let y = a.max(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad(), b.grad()), (3.0, 0.0, 1.0));
    /// ```
    #[track_caller]
    pub fn max(&self, other: &Value) -> Value {
        self.binary(other, Op::Max, |a, b| a.max(b))
    }

    /// The smaller of two values (NaN if either is NaN). Derivative 1 for the smaller, 0 for
    /// the other; ½ each on a tie.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(1.0), Value::new(3.0));
    /// let y = a.min(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad(), b.grad()), (1.0, 1.0, 0.0));
    /// ```
    #[track_caller]
    pub fn min(&self, other: &Value) -> Value {
        self.binary(other, Op::Min, |a, b| a.min(b))
    }
}

/// The elementwise ops of the op list ([`unary_ops!`](crate::unary_ops)) on a `Value`, each
/// recording one node with the same rule as on a [`Var`].
macro_rules! value_unary_ops {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        impl Value {
            $(
                #[doc = concat!("The `", stringify!($name), "` op: the rule of [`Var::",
                    stringify!($name), "`](crate::Var::", stringify!($name),
                    "), on an owned handle.")]
                #[doc = ""]
                #[doc = "```"]
                #[doc = "use scalargrad::{Graph, Value};"]
                #[doc = "let (g, x) = (Graph::new(), Value::new(0.5));"]
                #[doc = "let v = g.var(0.5);"]
                #[doc = concat!("let (y, w) = (x.", stringify!($name), "(), v.",
                    stringify!($name), "());")]
                #[doc = "y.backward();"]
                #[doc = "w.backward();"]
                #[doc = "assert_eq!((y.data(), x.grad()), (w.value(), v.grad()));"]
                #[doc = "```"]
                #[track_caller]
                pub fn $name(&self) -> Value {
                    self.unary_op(Op::$V, |a| a.$name())
                }
            )*
        }
    };
}

crate::unary_ops!(value_unary_ops);

impl Sum for Value {
    /// Sums as one node, like [`Value::sum`].
    ///
    /// ```
    /// use scalargrad::Value;
    /// let s: Value = (1..=3).map(|i| Value::new(i as f64)).sum();
    /// assert_eq!(s.data(), 6.0);
    /// ```
    fn sum<I: Iterator<Item = Value>>(iter: I) -> Value {
        let xs: Vec<Value> = iter.collect();
        Value::sum(&xs)
    }
}

impl<'a> Sum<&'a Value> for Value {
    /// Sums as one node, like [`Value::sum`].
    ///
    /// ```
    /// use scalargrad::Value;
    /// let xs = [Value::new(1.0), Value::new(2.0)];
    /// let s: Value = xs.iter().sum();
    /// assert_eq!(s.data(), 3.0);
    /// ```
    fn sum<I: Iterator<Item = &'a Value>>(iter: I) -> Value {
        Value::sum(iter)
    }
}

/// `+ - * /` for every mix of `Value`, `&Value` and `f64`, and the `∘=` forms.
macro_rules! binary_ops {
    ($($Trait:ident $method:ident $Assign:ident $assign:ident => $op:ident;)*) => {$(
        impl $Trait<&Value> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                self.binary(rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<Value> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                self.binary(&rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<&Value> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                self.binary(rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<Value> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                self.binary(&rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<f64> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: f64) -> Value {
                self.binary(&Value::constant(rhs), Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<f64> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: f64) -> Value {
                self.binary(&Value::constant(rhs), Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<&Value> for f64 {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                Value::constant(self).binary(&rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Trait<Value> for f64 {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                Value::constant(self).binary(&rhs, Op::$op, |a, b| $Trait::$method(a, b))
            }
        }
        impl $Assign<&Value> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: &Value) {
                *self = self.binary(rhs, Op::$op, |a, b| $Trait::$method(a, b));
            }
        }
        impl $Assign<Value> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: Value) {
                *self = self.binary(&rhs, Op::$op, |a, b| $Trait::$method(a, b));
            }
        }
        impl $Assign<f64> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: f64) {
                *self = self.binary(&Value::constant(rhs), Op::$op, |a, b| $Trait::$method(a, b));
            }
        }
    )*};
}

crate::op::arithmetic_ops!(binary_ops);

impl Neg for &Value {
    type Output = Value;
    /// `−x` (one exact node). Derivative −1.
    #[inline]
    #[track_caller]
    fn neg(self) -> Value {
        self.unary_op(Op::Neg, |a| -a)
    }
}

impl Neg for Value {
    type Output = Value;
    /// `−x` (one exact node). Derivative −1.
    #[inline]
    #[track_caller]
    fn neg(self) -> Value {
        self.unary_op(Op::Neg, |a| -a)
    }
}
