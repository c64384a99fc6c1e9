//! [`Value`]s as arguments of many: `sum`, a neuron (`affine`), a layer (`dense`), generic
//! `Scalar` code run on their nodes (`apply_graph_fn`), and gradients as new values
//! (`grad_wrt`). Each is recorded on the thread's graph by the `Graph` function of the same
//! job, then counted ([`Owner::record`](super::owner::Owner::record), `adopt_new`).

use super::owner::with;
use super::Value;
use crate::Var;

impl Value {
    /// `x₀ + x₁ + …` as one node, summed left to right (the value is bit-for-bit the chain
    /// of binary `+`; the gradients too when no `Value` appears twice). Derivative 1 for
    /// each. An empty sum is a constant 0; one term is that term.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let xs: Vec<Value> = (1..=4).map(|i| Value::new(i as f64)).collect();
    /// let s = Value::sum(&xs);
    /// s.backward();
    /// assert_eq!(s.data(), 10.0);
    /// assert!(xs.iter().all(|x| x.grad() == 1.0));
    /// ```
    #[track_caller]
    pub fn sum<'a>(xs: impl IntoIterator<Item = &'a Value>) -> Value {
        let xs: Vec<&Value> = xs.into_iter().collect();
        match xs.len() {
            0 => Value::constant(0.0),
            1 => xs[0].clone(),
            _ => Value::from_pos(with(|o| {
                o.record(|g| {
                    let vs: Vec<Var<'_>> = xs.iter().map(|x| o.var(x.pos)).collect();
                    g.sum(&vs)
                })
            })),
        }
    }

    /// A neuron's pre-activation `b + w₀x₀ + w₁x₁ + …` as one node, accumulated left to
    /// right from `b` (micrograd's order: the value is bit-for-bit the element-by-element
    /// graph's, and the gradients too when no `Value` appears twice).
    /// Derivatives: 1 for `b`, `xᵢ` for `wᵢ`, `wᵢ` for `xᵢ`.
    ///
    /// # Panics
    /// If `w` and `x` have different lengths.
    ///
    /// `w` and `x` are anything that iterates over `&Value` (slices, `Vec`s, iterators).
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (b, w, x) = (Value::new(0.5), [Value::new(2.0)], [Value::constant(3.0)]);
    /// let y = Value::affine(&b, &w, &x);
    /// y.backward();
    /// assert_eq!((y.data(), b.grad(), w[0].grad()), (6.5, 1.0, 3.0));
    /// ```
    #[track_caller]
    pub fn affine<'a>(
        b: &Value,
        w: impl IntoIterator<Item = &'a Value>,
        x: impl IntoIterator<Item = &'a Value>,
    ) -> Value {
        let w: Vec<&Value> = w.into_iter().collect();
        let x: Vec<&Value> = x.into_iter().collect();
        let (nw, nx) = (w.len(), x.len());
        if nw != nx {
            panic!("scalargrad: Value::affine of {nw} weights with {nx} inputs")
        }
        if nw == 0 {
            return b.clone();
        }
        Value::from_pos(with(|o| {
            o.record(|g| {
                let ws: Vec<Var<'_>> = w.iter().map(|v| o.var(v.pos)).collect();
                let xs: Vec<Var<'_>> = x.iter().map(|v| o.var(v.pos)).collect();
                g.affine(o.var(b.pos), &ws, &xs)
            })
        }))
    }

    /// Generic [`Scalar`](crate::Scalar) code on a value: `f` runs on this value as a
    /// [`Var`] of the thread's graph (the one every `Value` lives on) and what it records
    /// becomes a `Value`, with the same rules, values and gradients as on a `Graph`.
    ///
    /// `Value` does not implement `Scalar` itself: `Scalar` is `Copy` (generic code uses a
    /// scalar as often as it likes, `x * x`), and an owned handle that frees its node when
    /// dropped cannot be `Copy`. This is the bridge: a `fn f<S: Scalar>(x: S) -> S` runs on
    /// `f64`, on `Var` and, through here, on `Value`.
    ///
    /// ```
    /// use scalargrad::{Scalar, Value};
    /// fn smooth<S: Scalar>(x: S) -> S {
    ///     x * x.sigmoid() + x.powf(2.0) * 0.5
    /// }
    /// let x = Value::new(1.5);
    /// let y = x.apply_graph_fn(|v| smooth(v));
    /// y.backward();
    /// assert_eq!(y.data(), smooth(1.5));
    /// let s = 1.5_f64.sigmoid();
    /// assert_eq!(x.grad(), s + 1.5 * s * (1.0 - s) + 1.5);
    /// ```
    #[track_caller]
    pub fn apply_graph_fn(&self, f: impl for<'g> FnOnce(Var<'g>) -> Var<'g>) -> Value {
        Value::apply_graph_fn_n(&[self], |vs| f(vs[0]))
    }

    /// [`Value::apply_graph_fn`] for code of several values: `f` gets them as `Var`s of the
    /// thread's graph, in order.
    ///
    /// ```
    /// use scalargrad::{Scalar, Value};
    /// fn hypot<S: Scalar>(a: S, b: S) -> S {
    ///     (a * a + b * b).sqrt()
    /// }
    /// let (a, b) = (Value::new(3.0), Value::new(4.0));
    /// let h = Value::apply_graph_fn_n(&[&a, &b], |v| hypot(v[0], v[1]));
    /// h.backward();
    /// assert_eq!(h.data(), 5.0);
    /// assert!((a.grad() - 0.6).abs() < 1e-15 && (b.grad() - 0.8).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn apply_graph_fn_n(xs: &[&Value], f: impl for<'g> FnOnce(&[Var<'g>]) -> Var<'g>) -> Value {
        Value::from_pos(with(|o| {
            let vs: Vec<Var<'_>> = xs.iter().map(|x| o.var(x.pos)).collect();
            let y = f(&vs);
            // `f` may return a handle of another graph (a leaked one): refused here
            o.graph.check_same(y);
            let pos = y.pos();
            o.adopt_one(pos);
            pos
        }))
    }

    /// A dense layer of your own `Value`s: output `j` is `activation(b_j + Σᵢ w_{j,i}·xᵢ)`,
    /// with `weights[j]` the weights of neuron `j` and `biases[j]` its bias (or none), as
    /// [`nn::dense`](crate::nn::dense) on a `Graph`. When the parameters were created neuron
    /// after neuron (each neuron's weights, then its bias), the layer is recorded as rows
    /// (computed, and pulled back by `backward`, a layer at a time); otherwise as one
    /// [`Value::affine`] per neuron and its activation. Values and gradients are the same
    /// bits either way, and the same as `Value::affine` per neuron followed by the
    /// activation.
    ///
    /// # Panics
    /// As [`nn::dense`](crate::nn::dense): no inputs or no neurons, a neuron with another
    /// number of weights than inputs, biases but not one per neuron.
    ///
    /// ```
    /// use scalargrad::{nn::Activation, Value};
    /// let (mut weights, mut biases) = (Vec::new(), Vec::new());
    /// for j in 0..3 {
    ///     weights.push(vec![Value::new(0.1 * j as f64), Value::new(-0.2)]);
    ///     biases.push(Value::new(0.5));
    /// }
    /// let x = [Value::constant(1.0), Value::constant(2.0)];
    /// let y = Value::dense(&x, &weights, Some(&biases), Activation::Relu);
    /// let by_hand: Vec<Value> = (0..3)
    ///     .map(|j| Value::affine(&biases[j], &weights[j], &x).relu())
    ///     .collect();
    /// for (a, b) in y.iter().zip(&by_hand) {
    ///     assert_eq!(a.data(), b.data());
    /// }
    /// ```
    #[track_caller]
    pub fn dense<W: AsRef<[Value]>>(
        x: &[Value],
        weights: &[W],
        biases: Option<&[Value]>,
        activation: crate::nn::Activation,
    ) -> Vec<Value> {
        with(|o| {
            let vars = |vs: &[Value]| -> Vec<Var<'_>> { vs.iter().map(|v| o.var(v.pos)).collect() };
            let xs = vars(x);
            let ws: Vec<Vec<Var<'_>>> = weights.iter().map(|w| vars(w.as_ref())).collect();
            let bs = biases.map(vars);
            let ys = crate::nn::dense(&xs, &ws, bs.as_deref(), activation);
            let held: Vec<u32> = ys.iter().map(|y| y.pos()).collect();
            o.adopt_new(&held);
            held.into_iter().map(Value::from_pos).collect()
        })
    }

    /// The gradient of this value with respect to each of `xs`, *as new values*: the reverse
    /// pass recorded with the same rules ([`Graph::grad`](crate::Graph::grad)), so a result
    /// can be differentiated again. No [`Value::grad`] is touched; an `x` this value does not
    /// depend on gets a constant 0. Recorded nodes that the results do not use are freed
    /// when it returns.
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
        with(|o| {
            let vs: Vec<Var<'_>> = xs.iter().map(|x| o.var(x.pos)).collect();
            let ds = o.graph.grad(o.var(self.pos), &vs);
            let held: Vec<u32> = ds.iter().map(|d| d.pos()).collect();
            o.adopt_new(&held);
            held.into_iter().map(Value::from_pos).collect()
        })
    }
}
