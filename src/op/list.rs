//! The op list: every elementwise op of one input, once, with its documentation. It drives
//! the methods of [`Var`](crate::Var) and [`Value`](crate::Value), the
//! [`Scalar`](crate::Scalar) trait and its implementations, the tape word's tags, the
//! property-test catalogue (`testing`) and the Python binding.
//!
//! Adding an elementwise op: its rule in `op/mod.rs` (the `Op` variant, `eval`, `pullback`,
//! `name`, `is_tame`, `for_each_input`; the compiler points at each match), and one entry
//! here. Ops of two inputs (`max`, `min`, `pow_var`), `pow` with its constant exponent and
//! `clamp` with its two bounds are written by hand beside the list's users.

/// Calls the macro `$m` with the list of elementwise ops of one input, after the tokens
/// `$($pre)*`: `$(#[doc])* name Variant = tag [domain];` per op, where `tag` is its tape
/// word tag and `domain` is where it is defined and smooth: `everywhere`, `kink x` (defined
/// everywhere, not differentiable at `x`), `above x` (`> x`) or `at_least x` (`≥ x`).
///
/// ```
/// macro_rules! names {
///     ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f:expr;)*) => {
///         [$(stringify!($name)),*]
///     };
/// }
/// let names = scalargrad::unary_ops!(names);
/// assert!(names.contains(&"tanh") && names.contains(&"log1p"));
/// ```
#[macro_export]
macro_rules! unary_ops {
    ($m:ident $(, $($pre:tt)*)?) => {
        $m! {
            $($($pre)*)?
        /// `eˣ` (primitive). Derivative `y`. Overflows to +inf past x ≈ 709.78 (IEEE).
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(1.0);
        /// let y = x.exp();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (std::f64::consts::E, std::f64::consts::E));
        /// ```
        exp Exp = 8 [everywhere] |x| x.exp();
        /// Natural logarithm (primitive). Derivative `1/x`. `ln 0 = −inf` (derivative +inf),
        /// `ln` of a negative number is NaN (IEEE), never a panic.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(2.0);
        /// let y = x.ln();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (2f64.ln(), 0.5));
        /// assert!(g.var(-1.0).ln().value().is_nan());
        /// ```
        ln Ln = 9 [above 0.0] |x| x.ln();
        /// Logistic sigmoid `1/(1 + e⁻ˣ)` (primitive, computed without overflow). Derivative
        /// `y(1 − y)` from the output: `sigmoid(±1000)` is exactly 0 or 1 with gradient 0.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.0);
        /// let y = x.sigmoid();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (0.5, 0.25));
        /// assert_eq!(g.var(-1000.0).sigmoid().value(), 0.0);
        /// ```
        sigmoid Sigmoid = 10 [everywhere] |x| sigmoid(x);
        /// Hyperbolic tangent (primitive: the composed `(e²ˣ−1)/(e²ˣ+1)` overflows to NaN for large
        /// `x`). Derivative `1 − y²` from the output.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.0);
        /// let y = x.tanh();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (0.0, 1.0));
        /// assert_eq!(g.var(1000.0).tanh().value(), 1.0);
        /// ```
        tanh Tanh = 11 [everywhere] |x| x.tanh();
        /// `max(x, 0)` (primitive). Derivative 1 for `x > 0`, 0 for `x ≤ 0` (relu'(0) = 0, as
        /// PyTorch). NaN stays NaN.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.0);
        /// let y = x.relu();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (0.0, 0.0));
        /// ```
        relu Relu = 12 [kink 0.0] |x| relu(x);
        /// `|x|` (primitive: one node). Derivative `sign x`, and 0 at 0 (as PyTorch).
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let (a, b, c) = (g.var(-2.0), g.var(0.0), g.var(3.0));
        /// (a.abs() + b.abs() + c.abs()).backward();
        /// assert_eq!((a.grad(), b.grad(), c.grad()), (-1.0, 0.0, 1.0));
        /// ```
        abs Abs = 18 [kink 0.0] |x| x.abs();
        /// `sin x` (primitive). Derivative `cos x`, itself an op, so the second derivative is
        /// `−sin x`.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.7);
        /// let y = x.sin();
        /// let d1 = g.grad(y, &[x])[0];
        /// let d2 = g.grad(d1, &[x])[0];
        /// assert_eq!((y.value(), d1.value()), (0.7_f64.sin(), 0.7_f64.cos()));
        /// assert_eq!(d2.value(), -(0.7_f64.sin())); // −0.644…
        /// ```
        sin Sin = 15 [everywhere] |x| x.sin();
        /// `cos x` (primitive). Derivative `−sin x`.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.7);
        /// let y = x.cos();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (0.7_f64.cos(), -(0.7_f64.sin())));
        /// ```
        cos Cos = 16 [everywhere] |x| x.cos();
        /// `√x` (primitive: one correctly rounded operation, where `x.pow(0.5)` may differ in the
        /// last bit). Derivative `1/(2√x)` from the output: +inf at 0 (as PyTorch); negative `x`
        /// gives NaN (IEEE).
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(4.0);
        /// let y = x.sqrt();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (2.0, 0.25));
        /// let z = g.var(0.0);
        /// z.sqrt().backward();
        /// assert_eq!(z.grad(), f64::INFINITY);
        /// ```
        sqrt Sqrt = 17 [at_least 0.0] |x| x.sqrt();
        /// `ln(1 + x)` (primitive for stability: exact where `1 + x` rounds to 1). Derivative
        /// `1/(1 + x)`; −inf at −1, NaN below.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(1e-20);
        /// let y = x.log1p();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (1e-20, 1.0));
        /// assert_eq!((x + 1.0).ln().value(), 0.0); // the composed form loses it
        /// ```
        log1p Log1p = 19 [above -1.0] |x| x.ln_1p();
        /// softplus `ln(1 + eˣ)` (primitive for stability: computed as `max(x, 0) + ln(1 +
        /// e^−|x|)`, never overflows). Derivative `σ(x)`. [`custom::Softplus`](crate::custom::Softplus)
        /// computes the same numbers as a custom op.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(0.0);
        /// let y = x.softplus();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (2f64.ln(), 0.5));
        /// assert_eq!(g.var(1000.0).softplus().value(), 1000.0);
        /// ```
        softplus Softplus = 20 [everywhere] |x| softplus(x);
        /// `x²` (primitive: one node, exactly `x · x`). Derivative `2x`.
        ///
        /// ```
        /// let g = scalargrad::Graph::new();
        /// let x = g.var(3.0);
        /// let y = x.square();
        /// y.backward();
        /// assert_eq!((y.value(), x.grad()), (9.0, 6.0));
        /// assert_eq!(g.var(0.1).square().value(), 0.1 * 0.1);
        /// ```
        square Square = 22 [everywhere] |x| x * x;
        }
    };
}

/// The four arithmetic operators, each as its trait, method, assigning trait and method,
/// and the [`Op`](crate::op::Op) it records: one list for `Var`'s and `Value`'s impls of
/// `+ - * /` (each called with its own `macro_rules!` callback).
macro_rules! arithmetic_ops {
    ($m:ident) => {
        $m! {
            Add add AddAssign add_assign => Add;
            Sub sub SubAssign sub_assign => Sub;
            Mul mul MulAssign mul_assign => Mul;
            Div div DivAssign div_assign => Div;
        }
    };
}
pub(crate) use arithmetic_ops;
