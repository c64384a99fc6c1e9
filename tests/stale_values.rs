//! `set_value` without `recompute`: `backward` and `grad` refuse stale values with a panic
//! naming `recompute`, and the normal training loop never trips it.

use scalargrad::Graph;

mod support;
use support::panic_message;

#[test]
fn backward_after_set_value_without_recompute_panics() {
    // the case: y = x·x·x at 3, moved to 5; backward gave 59 (neither 27 nor 75)
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x * x * x;
    x.set_value(5.0);
    let m = panic_message(|| y.backward());
    assert!(m.contains("Graph::recompute()"), "{m}");
    assert_eq!(x.grad(), 0.0); // nothing was accumulated
    g.recompute();
    y.backward();
    assert_eq!((y.value(), x.grad()), (125.0, 75.0));
}

#[test]
fn grad_after_set_value_without_recompute_panics() {
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x * x * x;
    x.set_value(5.0);
    let m = panic_message(|| {
        g.grad(y, &[x]);
    });
    assert!(m.contains("recompute"), "{m}");
    g.recompute();
    assert_eq!(g.grad(y, &[x])[0].value(), 75.0);
}

#[test]
fn a_node_recorded_after_the_set_is_fresh() {
    let g = Graph::new();
    let x = g.var(3.0);
    let old = x * x;
    x.set_value(5.0);
    let fresh = x * x * x; // recorded from the new value
    fresh.backward();
    assert_eq!(x.grad(), 75.0);
    // but a new node built on a stale one is refused
    let mixed = old + x;
    let m = panic_message(|| mixed.backward());
    assert!(m.contains("set_value"), "{m}");
}

#[test]
fn setting_a_leaf_that_nothing_stale_depends_on_is_fine() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    let ya = a * 3.0;
    let _yb = b * 4.0;
    b.set_value(7.0); // only _yb is stale
    ya.backward();
    assert_eq!(a.grad(), 3.0);
}

#[test]
fn the_training_loop_with_set_value_before_or_after_rewind_never_trips() {
    for update_before_rewind in [false, true] {
        let g = Graph::new();
        let w = [g.var(0.5), g.var(-0.3)];
        let mark = g.mark();
        for _ in 0..50 {
            let loss = (w[0] * 2.0 + w[1] - 1.0).pow(2) + (w[0] - w[1]).pow(2);
            loss.backward();
            let grads = [w[0].grad(), w[1].grad()];
            if update_before_rewind {
                for (p, d) in w.iter().zip(grads) {
                    p.set_value(p.value() - 0.05 * d);
                }
                g.rewind(mark);
            } else {
                g.rewind(mark);
                for (p, d) in w.iter().zip(grads) {
                    p.set_value(p.value() - 0.05 * d);
                }
            }
            g.zero_grad();
            // grad works in the loop too
            let l2 = w[0] * w[1];
            assert_eq!(g.grad(l2, &[w[0]])[0].value(), w[1].value());
            g.rewind(mark);
        }
        // converged towards the minimum of (2a + b − 1)² + (a − b)²: a = b = 1/3
        assert!((w[0].value() - 1.0 / 3.0).abs() < 0.05, "{}", w[0].value());
    }
}

#[test]
fn parameters_computed_before_the_mark_are_still_checked() {
    // an op node among the parameters (a tied weight) goes stale when its input is set
    let g = Graph::new();
    let w = g.var(2.0);
    let tied = w * 3.0;
    let mark = g.mark();
    let loss = tied * tied;
    loss.backward();
    g.rewind(mark);
    w.set_value(1.0);
    let loss = tied * tied;
    let m = panic_message(|| loss.backward());
    assert!(m.contains("recompute"), "{m}");
    g.recompute();
    loss.backward();
    assert_eq!(tied.value(), 3.0);
}

#[test]
fn a_leaf_set_before_another_stays_stale_after_the_second_is_set() {
    // the window holds both sets: forgetting the first would pass 59 off as a gradient
    let g = Graph::new();
    let x = g.var(3.0);
    let other = g.var(1.0);
    let y = x * x * x;
    let _unrelated = other * 2.0;
    x.set_value(5.0);
    other.set_value(2.0);
    let m = panic_message(|| y.backward());
    assert!(m.contains("Graph::recompute()"), "{m}");
    assert_eq!(x.grad(), 0.0);
    g.recompute();
    y.backward();
    assert_eq!(x.grad(), 75.0);
}

#[test]
fn a_root_below_the_window_is_differentiated() {
    // y (position 2) is below the window a set leaf opened at position 3
    let g = Graph::new();
    let a = g.var(1.5);
    let y = a * 2.0;
    let x = g.var(3.0);
    let _z = x * x;
    x.set_value(5.0);
    y.backward();
    assert_eq!((y.value(), a.grad()), (3.0, 2.0));
}

#[test]
fn a_leaf_made_at_the_windows_end_is_not_taken_for_a_set_one() {
    // the window is [0, 2) (a set at length 2); c is made at position 2, its end
    let g = Graph::new();
    let a = g.var(1.0);
    let _b = a * a;
    a.set_value(2.0);
    let c = g.var(3.0);
    let z = c * c;
    z.backward();
    assert_eq!((z.value(), c.grad()), (9.0, 6.0));
}

#[test]
fn the_refusal_names_the_first_stale_node_of_a_window_that_starts_above_zero() {
    let g = Graph::new();
    let p = g.var(0.5);
    let _q = p + 1.0; // positions 0 to 2 stay fresh
    let x = g.var(3.0); // 3
    let c = g.var(2.0); // 4
    let s = x * c; // 5: the first node recorded from the old x
    let y = s.exp(); // 6
    x.set_value(5.0);
    let m = panic_message(|| y.backward());
    assert!(m.contains("node 5, a `*`"), "{m}");
    g.recompute();
    y.backward();
    assert_eq!(c.grad(), 5.0 * 10f64.exp());
}

#[test]
fn past_65536_sets_in_one_window_every_leaf_in_it_counts_as_set() {
    // up to 65,536 sets the window lists which leaf was set; past that, every leaf in the
    // window counts as set (a refusal at worst, never a stale value let through)
    let g = Graph::new();
    let s = g.var(0.0); // set, not used by y
    let u = g.var(3.0); // in the window, never set
    let y = u * u;
    for i in 0..65_536 {
        s.set_value(i as f64);
    }
    y.backward();
    assert_eq!(u.grad(), 6.0);
    s.set_value(-1.0);
    let m = panic_message(|| y.backward());
    assert!(m.contains("recompute"), "{m}");
    g.recompute();
    g.zero_grad();
    y.backward();
    assert_eq!(u.grad(), 6.0);
}
