//! Graphs big enough that the tape's arrays live in mappings of their own, with 2 MiB pages
//! (`src/tape/column.rs`, "Big arrays" in `src/tape/`): gradients not written until a reverse
//! pass, pages past the last node given back before it, recording continued into those
//! pages, rewinds, and the next graph on the same arrays. Every gradient is checked exactly
//! against its closed form: in `acc = Σ aᵢ·bᵢ`, `∂acc/∂aᵢ = bᵢ` and `∂acc/∂bᵢ = aᵢ`, exactly.

use scalargrad::{Graph, Var};

/// More nodes per sum than one 2 MiB page holds (262,144 `f64`s): 4·N − 1 = 1,199,999.
const N: usize = 300_000;

fn a(i: usize) -> f64 {
    (i % 10) as f64 * 0.1
}

fn b(i: usize) -> f64 {
    1.0 - (i % 3) as f64 * 0.2
}

/// Records `Σ a(i)·b(i)` for `i` in `from..to` on `g` (W3's shape), returning the sum and
/// the leaves.
fn wide(g: &Graph, from: usize, to: usize) -> (Var<'_>, Vec<(Var<'_>, Var<'_>)>) {
    let mut leaves = Vec::with_capacity(to - from);
    let mut acc: Option<Var<'_>> = None;
    for i in from..to {
        let (x, y) = (g.var(a(i)), g.var(b(i)));
        leaves.push((x, y));
        acc = Some(match acc {
            None => x * y,
            Some(s) => s + x * y,
        });
    }
    (acc.expect("a non-empty range"), leaves)
}

/// The same sum in plain `f64`, in the same order.
fn wide_f64(from: usize, to: usize) -> f64 {
    let mut acc = a(from) * b(from);
    for i in from + 1..to {
        acc += a(i) * b(i);
    }
    acc
}

#[track_caller]
fn assert_grads(leaves: &[(Var<'_>, Var<'_>)], from: usize, scale: f64) {
    for (k, (x, y)) in leaves.iter().enumerate() {
        let i = from + k;
        assert_eq!(x.grad(), scale * b(i), "d/da_{i}");
        assert_eq!(y.grad(), scale * a(i), "d/db_{i}");
    }
}

#[test]
fn record_backward_record_more_rewind_and_backward_again() {
    let g = Graph::new();
    let (s1, l1) = wide(&g, 0, N);
    assert_eq!(g.len(), 4 * N - 1);
    assert_eq!(s1.value(), wide_f64(0, N));
    s1.backward();
    assert_grads(&l1, 0, 1.0);

    // recording goes on into the pages the reverse pass gave back
    let mark = g.mark();
    let (s2, l2) = wide(&g, N, 2 * N);
    let both = s1 + s2;
    assert_eq!(s2.value(), wide_f64(N, 2 * N));
    assert_eq!(both.value(), wide_f64(0, N) + wide_f64(N, 2 * N));
    g.zero_grad();
    (both * 2.0).backward();
    assert_grads(&l1, 0, 2.0);
    assert_grads(&l2, N, 2.0);

    // a rewind frees the second sum; a shorter third one takes its positions
    g.rewind(mark);
    assert_eq!(g.len(), 4 * N - 1);
    let (s3, l3) = wide(&g, 5 * N, 5 * N + N / 3);
    assert_eq!(s3.value(), wide_f64(5 * N, 5 * N + N / 3));
    g.zero_grad();
    (s3 * s1).backward();
    assert_grads(&l1, 0, s3.value());
    assert_grads(&l3, 5 * N, s1.value());
}

#[test]
fn graphs_that_reuse_the_arrays_start_from_zero() {
    // big, then small, then bigger than the first: each on the arrays the last one left
    for (from, to) in [(0, N), (7, 7 + N / 2), (3, 3 + 2 * N)] {
        let g = Graph::new();
        let (s, leaves) = wide(&g, from, to);
        // a gradient read before any reverse pass is 0, and so is one past the root
        assert_eq!(leaves[leaves.len() / 2].0.grad(), 0.0);
        let (_, unused) = wide(&g, 0, 3);
        s.backward();
        assert_eq!(s.value(), wide_f64(from, to));
        assert_grads(&leaves, from, 1.0);
        assert_grads(&unused, 0, 0.0);
    }
}
