//! Input strategies: finite values in a range, values a margin away from an op's kinks and
//! poles, and vectors of them.

use proptest::collection::SizeRange;
use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;

/// Where an op (or one argument of it) is smooth: above an optional edge, and away from a
/// list of interior points where it has a kink or a pole.
///
/// - `relu`, `abs`: smooth everywhere except a kink at 0: `Domain::everywhere().with_kink(0.0)`.
/// - `ln`, `sqrt`, the base of `pow`: defined (and smooth) only above 0: `Domain::above(0.0)`.
/// - the divisor of `/`: a pole at 0, `Domain::everywhere().with_kink(0.0)` (a pole is treated
///   like a kink: finite differences must not straddle it, and must keep a margin from it).
///
/// ```
/// use scalargrad::testing::Domain;
/// let relu = Domain::everywhere().with_kink(0.0);
/// assert_eq!(relu.distance(-0.25), 0.25);
/// assert_ne!(relu.piece(-1.0), relu.piece(1.0)); // the two sides of the kink
/// let ln = Domain::above(0.0);
/// assert_eq!(ln.distance(2.0), 2.0);
/// assert!(ln.distance(-1.0) < 0.0 && ln.piece(-1.0).is_none()); // outside
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    /// The smooth part starts strictly above this value (a pole, or where the op stops being
    /// defined); `None`: it extends to −∞.
    pub above: Option<f64>,
    /// Interior points (sorted) where the op has a kink or a pole.
    pub kinks: Vec<f64>,
}

impl Domain {
    /// Smooth on all of ℝ.
    ///
    /// ```
    /// let d = scalargrad::testing::Domain::everywhere();
    /// assert_eq!(d.distance(0.0), f64::INFINITY);
    /// ```
    pub fn everywhere() -> Domain {
        Domain {
            above: None,
            kinks: Vec::new(),
        }
    }

    /// Smooth on `(edge, ∞)`.
    ///
    /// ```
    /// let d = scalargrad::testing::Domain::above(-1.0); // log1p
    /// assert_eq!(d.distance(0.0), 1.0);
    /// ```
    pub fn above(edge: f64) -> Domain {
        Domain {
            above: Some(edge),
            kinks: Vec::new(),
        }
    }

    /// The same domain with one more kink (or pole) at `at`.
    ///
    /// ```
    /// let d = scalargrad::testing::Domain::everywhere().with_kink(1.0).with_kink(-1.0);
    /// assert_eq!(d.kinks, [-1.0, 1.0]);
    /// assert_eq!(d.distance(0.5), 0.5);
    /// ```
    pub fn with_kink(mut self, at: f64) -> Domain {
        self.kinks.push(at);
        self.kinks.sort_by(f64::total_cmp);
        self
    }

    /// How far `v` is from the nearest edge or kink: positive inside the smooth part, `≤ 0`
    /// outside it (or at a kink), NaN for NaN.
    ///
    /// ```
    /// let d = scalargrad::testing::Domain::above(0.0).with_kink(2.0);
    /// assert_eq!(d.distance(1.5), 0.5);
    /// assert_eq!(d.distance(0.25), 0.25);
    /// ```
    pub fn distance(&self, v: f64) -> f64 {
        if v.is_nan() {
            return f64::NAN;
        }
        let edge = self.above.map_or(f64::INFINITY, |l| v - l);
        self.kinks.iter().fold(edge, |d, &k| d.min((v - k).abs()))
    }

    /// Which smooth piece `v` lies in (0 below the first kink, 1 between the first and the
    /// second, …), or `None` outside the domain. Two points in the same piece are joined by a
    /// segment on which the op is smooth.
    ///
    /// ```
    /// let d = scalargrad::testing::Domain::everywhere().with_kink(0.0);
    /// assert_eq!((d.piece(-3.0), d.piece(3.0)), (Some(0), Some(1)));
    /// ```
    pub fn piece(&self, v: f64) -> Option<usize> {
        if v.is_nan() || self.above.is_some_and(|l| v <= l) {
            return None;
        }
        Some(self.kinks.iter().filter(|&&k| k < v).count())
    }
}

/// Finite values in `[lo, hi]`, drawn uniformly, that shrink by bisection towards 0 (or the
/// bound nearest to 0) down to the smallest magnitude that still fails, to a relative
/// precision of 1e-6. (proptest's own float ranges only try 0 and otherwise keep the value
/// they started from.)
///
/// # Panics
/// If a bound is not finite or `lo > hi`.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::strategy::ValueTree;
/// use proptest::test_runner::TestRunner;
/// let mut runner = TestRunner::deterministic();
/// let mut tree = scalargrad::testing::finite(-2.0, 3.0).new_tree(&mut runner).unwrap();
/// let v = tree.current();
/// assert!(v.is_finite() && (-2.0..=3.0).contains(&v));
/// // shrinking tries 0 first
/// assert!(tree.simplify());
/// assert_eq!(tree.current(), 0.0);
/// ```
pub fn finite(lo: f64, hi: f64) -> Finite {
    assert!(
        lo.is_finite() && hi.is_finite() && lo <= hi,
        "finite({lo}, {hi}): the bounds must be finite numbers with lo <= hi"
    );
    Finite { lo, hi }
}

/// The strategy of [`finite`].
///
/// ```
/// let s = scalargrad::testing::finite(0.5, 1.0);
/// assert_eq!((s.lo, s.hi), (0.5, 1.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Finite {
    /// Smallest value.
    pub lo: f64,
    /// Largest value.
    pub hi: f64,
}

impl Strategy for Finite {
    type Tree = Bisect;
    type Value = f64;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let start = (self.lo..=self.hi).new_tree(runner)?.current();
        let simplest = 0f64.clamp(self.lo, self.hi);
        Ok(Bisect {
            pass: simplest,
            fail: start,
            curr: start,
            tried_simplest: false,
        })
    }
}

/// The value tree of [`Finite`]: bisection between the simplest value (which is tried
/// first) and the smallest failing value found so far.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// let mut tree = scalargrad::testing::finite(1.0, 9.0).new_tree(&mut TestRunner::deterministic()).unwrap();
/// let start = tree.current();
/// assert!(tree.simplify() && tree.current() == 1.0); // the bound nearest to 0
/// assert!(tree.complicate() && tree.current() > 1.0 && tree.current() < start);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Bisect {
    /// Nearest to the simplest value known (or assumed) to pass.
    pass: f64,
    /// Simplest value known to fail.
    fail: f64,
    curr: f64,
    tried_simplest: bool,
}

impl Bisect {
    fn done(&self) -> bool {
        (self.fail - self.pass).abs() <= 1e-6 * self.fail.abs().max(f64::MIN_POSITIVE)
    }

    fn bisect(&mut self) -> bool {
        if self.done() {
            return false;
        }
        let mid = self.pass + (self.fail - self.pass) / 2.0;
        if mid == self.curr || mid == self.fail || mid == self.pass {
            return false;
        }
        self.curr = mid;
        true
    }
}

impl ValueTree for Bisect {
    type Value = f64;

    fn current(&self) -> f64 {
        self.curr
    }

    fn simplify(&mut self) -> bool {
        self.fail = self.curr;
        if !self.tried_simplest {
            self.tried_simplest = true;
            if self.pass != self.curr {
                self.curr = self.pass;
                return true;
            }
            return false;
        }
        self.bisect()
    }

    fn complicate(&mut self) -> bool {
        if self.curr == self.fail {
            return false;
        }
        self.pass = self.curr;
        if !self.bisect() {
            // nothing left between: back to the simplest failing value
            self.curr = self.fail;
        }
        true
    }
}

/// Values in `[lo, hi]` that are at least `margin` inside `domain`: above its edge by
/// `margin`, and at least `margin` from each of its kinks (up to one rounding).
///
/// Values are drawn uniformly from the range and moved to the nearest allowed value when they
/// fall inside an excluded zone, so the allowed values right at `margin` from a kink are
/// tried more often than others (they are the hardest). Shrinks towards 0, or towards the
/// allowed value nearest to it.
///
/// # Panics
/// If no value of `[lo, hi]` is allowed, or the bounds are not finite, or `margin < 0`.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::strategy::ValueTree;
/// use proptest::test_runner::TestRunner;
/// use scalargrad::testing::{away_from_kinks, Domain};
/// let relu_inputs = away_from_kinks(&Domain::everywhere().with_kink(0.0), -1.0, 1.0, 0.01);
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..100 {
///     let v = relu_inputs.new_tree(&mut runner).unwrap().current();
///     assert!(v.abs() >= 0.01 && v.abs() <= 1.0);
/// }
/// ```
pub fn away_from_kinks(
    domain: &Domain,
    lo: f64,
    hi: f64,
    margin: f64,
) -> impl Strategy<Value = f64> + Clone {
    let _ = finite(lo, hi);
    assert!(
        margin >= 0.0,
        "away_from_kinks: the margin must be >= 0, got {margin}"
    );
    // allowed closed intervals, in order
    let mut allowed = vec![(domain.above.map_or(lo, |l| lo.max(l + margin)), hi)];
    for &k in &domain.kinks {
        let mut next = Vec::new();
        for (a, b) in allowed {
            if k + margin <= a || k - margin >= b {
                next.push((a, b));
                continue;
            }
            if k - margin >= a {
                next.push((a, k - margin));
            }
            if k + margin <= b {
                next.push((k + margin, b));
            }
        }
        allowed = next;
    }
    allowed.retain(|(a, b)| a <= b);
    assert!(
        !allowed.is_empty(),
        "away_from_kinks: no value in [{lo}, {hi}] is {margin} away from the edges and kinks of {domain:?}"
    );
    let span = allowed[0].0..=allowed[allowed.len() - 1].1;
    span.prop_map(move |v| {
        let mut best = v;
        let mut best_d = f64::INFINITY;
        for &(a, b) in &allowed {
            let c = v.clamp(a, b);
            if (c - v).abs() < best_d {
                best_d = (c - v).abs();
                best = c;
            }
        }
        best
    })
}

/// Vectors of `len` values (a fixed count like `3`, or a range like `1..5`) drawn from
/// `element`.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::strategy::ValueTree;
/// use proptest::test_runner::TestRunner;
/// use scalargrad::testing::{finite, vectors};
/// let mut runner = TestRunner::deterministic();
/// let v = vectors(finite(-1.0, 1.0), 4).new_tree(&mut runner).unwrap().current();
/// assert_eq!(v.len(), 4);
/// ```
pub fn vectors<S: Strategy<Value = f64>>(
    element: S,
    len: impl Into<SizeRange>,
) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(element, len)
}
