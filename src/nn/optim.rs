//! Optimizers: read each parameter's accumulated gradient, write its new value with
//! [`Var::set_value`]. Step `k` (from 0) uses the learning rate `schedule.rate(k)`.

use crate::Var;

/// A learning rate for each step `k = 0, 1, 2, …`.
///
/// Implemented by `f64` (a constant rate), by any `Fn(usize) -> f64` closure, and by
/// [`LinearDecay`].
///
/// ```
/// use scalargrad::nn::optim::Schedule;
/// assert_eq!(0.1.rate(7), 0.1);
/// let halving = |k: usize| 1.0 / (1u64 << k) as f64;
/// assert_eq!(halving.rate(3), 0.125);
/// ```
pub trait Schedule {
    /// The learning rate of step `k` (counted from 0).
    fn rate(&self, k: usize) -> f64;
}

impl Schedule for f64 {
    fn rate(&self, _k: usize) -> f64 {
        *self
    }
}

impl<F: Fn(usize) -> f64> Schedule for F {
    fn rate(&self, k: usize) -> f64 {
        self(k)
    }
}

/// `start − (drop·k) / steps`, evaluated in that order (micrograd's
/// `1.0 - 0.9*k/100` is `LinearDecay::micrograd()`, bit for bit).
///
/// ```
/// use scalargrad::nn::optim::{LinearDecay, Schedule};
/// let s = LinearDecay::micrograd();
/// assert_eq!(s.rate(0), 1.0);
/// assert_eq!(s.rate(99), 1.0 - 0.9 * 99.0 / 100.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearDecay {
    /// The rate at step 0.
    pub start: f64,
    /// How much the rate falls over `steps` steps.
    pub drop: f64,
    /// The number of steps over which it falls by `drop`.
    pub steps: f64,
}

impl LinearDecay {
    /// micrograd's demo schedule: `1.0 - 0.9*k/100`.
    ///
    /// ```
    /// use scalargrad::nn::optim::{LinearDecay, Schedule};
    /// assert_eq!(LinearDecay::micrograd().rate(50), 1.0 - 0.9 * 50.0 / 100.0);
    /// ```
    pub fn micrograd() -> Self {
        LinearDecay {
            start: 1.0,
            drop: 0.9,
            steps: 100.0,
        }
    }
}

impl Schedule for LinearDecay {
    fn rate(&self, k: usize) -> f64 {
        self.start - (self.drop * k as f64) / self.steps
    }
}

/// Updates parameters from their gradients.
///
/// ```
/// use scalargrad::{nn::optim::{Optimizer, Sgd}, Graph};
/// let g = Graph::new();
/// let w = g.var(1.0);
/// (w * w).backward();                  // grad 2
/// let mut opt = Sgd::new(0.25);
/// opt.step(&[w]);
/// assert_eq!((w.value(), opt.steps()), (0.5, 1));
/// ```
pub trait Optimizer {
    /// One update of every parameter from its current [`Var::grad`]. Gradients are read,
    /// not cleared: zero them before the next backward pass (as
    /// [`train_step`](super::train_step) does).
    ///
    /// # Panics
    /// Optimizers with per-parameter state panic if later calls pass a different number
    /// of parameters than the first; every optimizer panics on a non-leaf or freed handle.
    fn step(&mut self, params: &[Var<'_>]);
    /// The number of steps taken (the index `k` of the next step).
    fn steps(&self) -> usize;
    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f64;
}

/// Plain gradient descent: `p ← p − lr_k · ∂L/∂p` (micrograd's `p.data -= lr * p.grad`).
///
/// ```
/// use scalargrad::{nn::optim::{LinearDecay, Optimizer, Sgd}, Graph};
/// let g = Graph::new();
/// let w = g.var(3.0);
/// (w * w).backward();
/// let mut opt = Sgd::new(LinearDecay::micrograd());
/// opt.step(&[w]);                      // lr 1.0: 3 − 1·6
/// assert_eq!(w.value(), -3.0);
/// assert_eq!(opt.learning_rate(), 1.0 - 0.9 * 1.0 / 100.0);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<S = f64> {
    schedule: S,
    k: usize,
}

impl<S: Schedule> Sgd<S> {
    /// Gradient descent with the given learning-rate schedule (an `f64` for a constant).
    ///
    /// ```
    /// use scalargrad::nn::optim::{Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1).learning_rate(), 0.1);
    /// ```
    pub fn new(schedule: S) -> Self {
        Sgd { schedule, k: 0 }
    }
}

impl<S: Schedule> Optimizer for Sgd<S> {
    #[track_caller]
    fn step(&mut self, params: &[Var<'_>]) {
        let lr = self.schedule.rate(self.k);
        crate::var::update_leaves(params, |_, value, grad| value - lr * grad);
        self.k += 1;
    }
    fn steps(&self) -> usize {
        self.k
    }
    fn learning_rate(&self) -> f64 {
        self.schedule.rate(self.k)
    }
}

/// Gradient descent with momentum (PyTorch's form): `v ← μ·v + ∂L/∂p`, `p ← p − lr_k · v`,
/// with `v = 0` before the first step.
///
/// ```
/// use scalargrad::{nn::optim::{Momentum, Optimizer}, Graph};
/// let g = Graph::new();
/// let w = g.var(0.0);
/// let mut opt = Momentum::new(0.5, 0.9);
/// for _ in 0..2 {
///     g.zero_grad();
///     (w * 2.0).backward();            // constant gradient 2
///     opt.step(&[w]);
/// }
/// assert_eq!(w.value(), -(0.5 * 2.0) - 0.5 * (0.9 * 2.0 + 2.0)); // −1 − 1.9
/// ```
#[derive(Clone, Debug)]
pub struct Momentum<S = f64> {
    schedule: S,
    momentum: f64,
    velocity: Vec<f64>,
    k: usize,
}

impl<S: Schedule> Momentum<S> {
    /// Momentum SGD with the given schedule and momentum `μ` (typically 0.9).
    ///
    /// ```
    /// use scalargrad::nn::optim::{Momentum, Optimizer};
    /// assert_eq!(Momentum::new(0.01, 0.9).steps(), 0);
    /// ```
    pub fn new(schedule: S, momentum: f64) -> Self {
        Momentum {
            schedule,
            momentum,
            velocity: Vec::new(),
            k: 0,
        }
    }
}

#[track_caller]
fn state_for(state: &mut Vec<f64>, k: usize, n: usize, what: &str) {
    if k == 0 && state.is_empty() {
        state.resize(n, 0.0);
    }
    assert_eq!(
        state.len(),
        n,
        "scalargrad: {what} was stepped with {} parameters before and {n} now; use one \
         optimizer per parameter list",
        state.len()
    );
}

impl<S: Schedule> Optimizer for Momentum<S> {
    #[track_caller]
    fn step(&mut self, params: &[Var<'_>]) {
        state_for(&mut self.velocity, self.k, params.len(), "Momentum");
        let lr = self.schedule.rate(self.k);
        let (momentum, velocity) = (self.momentum, &mut self.velocity);
        crate::var::update_leaves(params, |i, value, grad| {
            let v = &mut velocity[i];
            *v = momentum * *v + grad;
            value - lr * *v
        });
        self.k += 1;
    }
    fn steps(&self) -> usize {
        self.k
    }
    fn learning_rate(&self) -> f64 {
        self.schedule.rate(self.k)
    }
}

/// Adam (Kingma & Ba, as PyTorch computes it). At step `t = k + 1`, for gradient `g`:
/// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`, `m̂ = m/(1 − β₁ᵗ)`, `v̂ = v/(1 − β₂ᵗ)`,
/// `p ← p − lr_k · m̂ / (√v̂ + ε)`. Defaults `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
///
/// ```
/// use scalargrad::{nn::optim::{Adam, Optimizer}, Graph};
/// let g = Graph::new();
/// let w = g.var(1.0);
/// (w * 3.0).backward();                // gradient 3
/// let mut opt = Adam::new(0.1);
/// opt.step(&[w]);                      // first step moves by lr·g/(|g| + ε) ≈ lr
/// assert!((w.value() - (1.0 - 0.1 * 3.0 / (3.0 + 1e-8))).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<S = f64> {
    schedule: S,
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    k: usize,
}

impl<S: Schedule> Adam<S> {
    /// Adam with the given schedule and the default `β₁ = 0.9, β₂ = 0.999, ε = 1e-8`.
    ///
    /// ```
    /// use scalargrad::nn::optim::{Adam, Optimizer};
    /// assert_eq!(Adam::new(1e-3).learning_rate(), 1e-3);
    /// ```
    pub fn new(schedule: S) -> Self {
        Adam {
            schedule,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            k: 0,
        }
    }

    /// With other decay rates `β₁`, `β₂`.
    ///
    /// ```
    /// use scalargrad::nn::optim::Adam;
    /// let a = Adam::new(0.1).betas(0.5, 0.9);
    /// assert_eq!(a.beta(), (0.5, 0.9));
    /// ```
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// With another `ε`.
    ///
    /// ```
    /// use scalargrad::nn::optim::Adam;
    /// assert_eq!(Adam::new(0.1).eps(1e-6).epsilon(), 1e-6);
    /// ```
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `(β₁, β₂)`.
    ///
    /// ```
    /// assert_eq!(scalargrad::nn::optim::Adam::new(0.1).beta(), (0.9, 0.999));
    /// ```
    pub fn beta(&self) -> (f64, f64) {
        (self.beta1, self.beta2)
    }

    /// `ε`.
    ///
    /// ```
    /// assert_eq!(scalargrad::nn::optim::Adam::new(0.1).epsilon(), 1e-8);
    /// ```
    pub fn epsilon(&self) -> f64 {
        self.eps
    }
}

impl<S: Schedule> Optimizer for Adam<S> {
    #[track_caller]
    fn step(&mut self, params: &[Var<'_>]) {
        state_for(&mut self.m, self.k, params.len(), "Adam");
        state_for(&mut self.v, self.k, params.len(), "Adam");
        let lr = self.schedule.rate(self.k);
        let t = (self.k + 1) as i32;
        let (c1, c2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        for ((p, m), v) in params.iter().zip(&mut self.m).zip(&mut self.v) {
            let g = p.grad();
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            let (m_hat, v_hat) = (*m / c1, *v / c2);
            p.set_value(p.value() - lr * m_hat / (v_hat.sqrt() + self.eps));
        }
        self.k += 1;
    }
    fn steps(&self) -> usize {
        self.k
    }
    fn learning_rate(&self) -> f64 {
        self.schedule.rate(self.k)
    }
}
