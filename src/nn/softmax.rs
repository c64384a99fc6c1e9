//! Multi-class outputs: [`softmax`], [`log_softmax`] and the [`cross_entropy`] loss, built on
//! [`Graph::logsumexp`] (so they stay finite for logits of ±1000, and every derivative
//! follows from the op rules). Re-exported by [`loss`](super::loss).

use crate::{Graph, Var};

#[track_caller]
fn graph_of<'g>(what: &str, logits: &[Var<'g>]) -> &'g Graph {
    assert!(!logits.is_empty(), "scalargrad: {what} of no logits");
    logits[0].graph()
}

/// `log softmax(z)ᵢ = zᵢ − ln Σ eᶻʲ`, one node per class, stable for large logits.
/// Derivative of output `i` with respect to `zⱼ`: `[i = j] − softmax(z)ⱼ`.
///
/// # Panics
/// If `logits` is empty, or a handle is foreign or freed.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let z = [g.var(1000.0), g.var(-1000.0)];
/// let l = loss::log_softmax(&z);
/// assert_eq!((l[0].value(), l[1].value()), (0.0, -2000.0));
/// ```
#[track_caller]
pub fn log_softmax<'g>(logits: &[Var<'g>]) -> Vec<Var<'g>> {
    let g = graph_of("log_softmax", logits);
    let lse = g.logsumexp(logits);
    logits.iter().map(|&z| z - lse).collect()
}

/// `softmax(z)ᵢ = eᶻⁱ / Σ eᶻʲ`, one node per class (each `exp` of [`log_softmax`], so no
/// logit overflows). Derivative of output `i` with respect to `zⱼ`: `sᵢ([i = j] − sⱼ)`.
///
/// # Panics
/// If `logits` is empty, or a handle is foreign or freed.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let z = [g.var(0.0), g.var(2f64.ln())];
/// let s = loss::softmax(&z);
/// assert!((s[0].value() - 1.0 / 3.0).abs() < 1e-15 && (s[1].value() - 2.0 / 3.0).abs() < 1e-15);
/// s[0].backward(); // ∂s₀/∂z₀ = s₀(1 − s₀) = 2/9
/// assert!((z[0].grad() - 2.0 / 9.0).abs() < 1e-15);
/// ```
#[track_caller]
pub fn softmax<'g>(logits: &[Var<'g>]) -> Vec<Var<'g>> {
    log_softmax(logits).into_iter().map(Var::exp).collect()
}

/// Multi-class cross-entropy from logits, averaged over samples: `(1/n) Σₛ −log
/// softmax(zₛ)[cₛ] = (1/n) Σₛ (ln Σⱼ e^zₛⱼ − zₛ,cₛ)`, where `logits[s]` are sample `s`'s
/// logits and `classes[s]` its class. Gradient `(softmax(zₛ) − onehot(cₛ)) / n`. Finite for
/// logits of ±1000.
///
/// # Panics
/// If there are no samples, a sample has no logits, the counts of samples and classes
/// differ, or a class is not below its sample's number of logits.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let z = vec![g.var(1000.0), g.var(-1000.0), g.var(0.0)];
/// let l = loss::cross_entropy(&[z.clone()], &[1]);
/// l.backward();
/// assert_eq!(l.value(), 2000.0);
/// assert_eq!((z[0].grad(), z[1].grad(), z[2].grad()), (1.0, -1.0, 0.0));
/// ```
#[track_caller]
pub fn cross_entropy<'g, Z: AsRef<[Var<'g>]>>(logits: &[Z], classes: &[usize]) -> Var<'g> {
    assert!(
        !logits.is_empty(),
        "scalargrad: cross_entropy of no samples"
    );
    assert_eq!(
        logits.len(),
        classes.len(),
        "scalargrad: cross_entropy of {} samples and {} classes",
        logits.len(),
        classes.len()
    );
    let terms: Vec<Var<'g>> = logits
        .iter()
        .zip(classes)
        .enumerate()
        .map(|(s, (z, &c))| {
            let z = z.as_ref();
            let g = graph_of("cross_entropy", z);
            assert!(
                c < z.len(),
                "scalargrad: cross_entropy: sample {s} has class {c} but {} logits",
                z.len()
            );
            g.logsumexp(z) - z[c]
        })
        .collect();
    let g = terms[0].graph();
    g.sum(&terms) / terms.len() as f64
}
