//! Seeded random initialisation. The only randomness in the crate: a ChaCha8 generator
//! seeded by the caller, so the same seed gives the same network on every machine.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How [`Mlp::new`](super::Mlp::new) draws initial weights. Biases start at 0 (as in
/// micrograd); weights are drawn uniformly from `[−a, a]` with `a` given by
/// [`Init::bound`].
///
/// ```
/// use scalargrad::nn::Init;
/// assert_eq!(Init::Uniform.bound(16, 1), 1.0);
/// assert_eq!(Init::He.bound(6, 1), 1.0);       // √(6 / fan_in)
/// assert_eq!(Init::Xavier.bound(2, 4), 1.0);   // √(6 / (fan_in + fan_out))
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Init {
    /// `U[−1, 1]`, micrograd's `random.uniform(-1, 1)`.
    #[default]
    Uniform,
    /// He (Kaiming) uniform, for ReLU networks: `a = √(6 / fan_in)`, variance `2 / fan_in`.
    He,
    /// Xavier (Glorot) uniform, for tanh/sigmoid networks: `a = √(6 / (fan_in + fan_out))`.
    Xavier,
}

impl Init {
    /// The half-width `a` of the interval `[−a, a]` weights are drawn from, for a layer with
    /// `fan_in` inputs and `fan_out` neurons.
    ///
    /// ```
    /// use scalargrad::nn::Init;
    /// assert!((Init::He.bound(16, 16) - (6.0f64 / 16.0).sqrt()).abs() < 1e-15);
    /// ```
    pub fn bound(self, fan_in: usize, fan_out: usize) -> f64 {
        match self {
            Init::Uniform => 1.0,
            Init::He => (6.0 / fan_in.max(1) as f64).sqrt(),
            Init::Xavier => (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(),
        }
    }
}

/// The generator behind every seeded initialisation.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// One weight from `U[−a, a]`.
pub(crate) fn draw(rng: &mut ChaCha8Rng, a: f64) -> f64 {
    rng.random_range(-a..=a)
}
