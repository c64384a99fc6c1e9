//! Optimizers: read each parameter's accumulated gradient, write its new value with
//! [`Var::set_value`]. Step `k` (from 0) uses the learning rate `schedule.rate(k)`.
//!
//! Each optimizer remembers the parameters it was stepped on, by identity (graph and node),
//! not by position in the list: a list that names a node twice is refused (it would be
//! stepped twice), and an optimizer with per-parameter state ([`Momentum`], [`Adam`])
//! refuses a later step on another list, whose parameters would silently inherit the first
//! list's velocities or moments. Use one optimizer per parameter list (and per graph: a
//! new graph's parameters need a new optimizer).

use std::fmt;

use crate::tape::NodeId;
use crate::{Graph, Var};

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
    /// Every built-in optimizer panics if `params` names a node twice, and on a non-leaf
    /// or freed handle; those with per-parameter state ([`Momentum`], [`Adam`]) panic if a
    /// later call passes another list than the first (other nodes, even of the same length).
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
    /// The last list checked for repeated nodes (checked again only when it changes).
    checked: Bound,
}

impl<S: Schedule> Sgd<S> {
    /// Gradient descent with the given learning-rate schedule (an `f64` for a constant).
    ///
    /// ```
    /// use scalargrad::nn::optim::{Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1).learning_rate(), 0.1);
    /// ```
    pub fn new(schedule: S) -> Self {
        Sgd {
            schedule,
            k: 0,
            checked: Bound::default(),
        }
    }
}

impl<S: Schedule> Optimizer for Sgd<S> {
    #[track_caller]
    fn step(&mut self, params: &[Var<'_>]) {
        if !self.checked.is(params) {
            self.checked = Bound::new(params, "Sgd");
        }
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
    /// The parameters `velocity` belongs to (`None` before the first step).
    params: Option<Bound>,
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
            params: None,
            k: 0,
        }
    }
}

/// A node's identity: its graph's address and its id (position and epoch), so a node that
/// later reuses a freed slot is another node.
fn identity(p: &Var<'_>) -> (usize, NodeId) {
    (std::ptr::from_ref::<Graph>(p.graph()) as usize, p.id())
}

/// The parameters an optimizer was stepped on, by identity, in order.
#[derive(Clone, Default)]
struct Bound(Vec<(usize, NodeId)>);

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} parameters", self.0.len())
    }
}

impl Bound {
    /// The identities of `params`, refusing a list that names a node twice.
    #[track_caller]
    fn new(params: &[Var<'_>], what: &str) -> Self {
        // live handles on the same position of the same graph are the same node
        let mut at: Vec<(usize, u32, usize)> = params
            .iter()
            .enumerate()
            .map(|(i, p)| (identity(p).0, p.pos(), i))
            .collect();
        at.sort_unstable();
        if let Some(w) = at.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
            panic!(
                "scalargrad: {what} was given the same parameter twice (entries {} and {} of \
                 the list), so it would step it twice; list each parameter once",
                w[0].2, w[1].2
            );
        }
        Bound(params.iter().map(identity).collect())
    }

    /// Whether `params` are exactly these parameters, in this order.
    fn is(&self, params: &[Var<'_>]) -> bool {
        self.0.len() == params.len() && self.0.iter().zip(params).all(|(&id, p)| id == identity(p))
    }
}

/// Binds a stateful optimizer to its first parameter list, and refuses any other list
/// later. Returns whether this is the first step (the state must be created).
#[track_caller]
fn bind(bound: &mut Option<Bound>, params: &[Var<'_>], what: &str) -> bool {
    let Some(b) = bound else {
        *bound = Some(Bound::new(params, what));
        return true;
    };
    assert_eq!(
        b.0.len(),
        params.len(),
        "scalargrad: {what} was stepped with {} parameters before and {} now; use one \
         optimizer per parameter list",
        b.0.len(),
        params.len()
    );
    if let Some(i) = (0..params.len()).find(|&i| b.0[i] != identity(&params[i])) {
        panic!(
            "scalargrad: {what} was stepped on another parameter list before (entry {i} is \
             another node now); its per-parameter state belongs to that list and would be \
             inherited: use one optimizer per parameter list"
        );
    }
    false
}

impl<S: Schedule> Optimizer for Momentum<S> {
    #[track_caller]
    fn step(&mut self, params: &[Var<'_>]) {
        if bind(&mut self.params, params, "Momentum") {
            self.velocity = vec![0.0; params.len()];
        }
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
    /// The parameters `m` and `v` belong to (`None` before the first step).
    params: Option<Bound>,
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
            params: None,
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
        if bind(&mut self.params, params, "Adam") {
            self.m = vec![0.0; params.len()];
            self.v = vec![0.0; params.len()];
        }
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
