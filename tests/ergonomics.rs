//! What a Rust user expects of a handle: `Display`, a `Debug` with its name, `Sum` and
//! `Product`, integer literals, every op as an inherent method, one naming of powers.

use scalargrad::{Graph, Scalar, Var};

#[test]
fn display_prints_the_value_with_the_callers_precision() {
    let g = Graph::new();
    let x = g.var(0.7).sin();
    assert_eq!(format!("{x:.3}"), "0.644");
    assert_eq!(x.to_string(), 0.7_f64.sin().to_string());
    let m = g.mark();
    let y = x * 2;
    g.rewind(m);
    assert_eq!(y.to_string(), "<freed>");
}

#[test]
fn debug_shows_the_name() {
    let g = Graph::new();
    let tax = g.var(1.1).named("tax");
    assert_eq!(format!("{tax:?}"), "Var(\"tax\": leaf = 1.1, grad 0)");
    let price = (g.var(100.0) * tax).named("price");
    assert!(format!("{price:?}").starts_with("Var(\"price\": * = "));
}

#[test]
fn sum_and_product_of_handles() {
    let g = Graph::new();
    let xs: Vec<Var> = [1.0, 2.0, 3.0, 4.0].iter().map(|&v| g.var(v)).collect();
    let s: Var = xs.iter().sum();
    let p: Var = xs.iter().copied().product();
    assert_eq!((s.value(), p.value()), (10.0, 24.0));
    (s + p).backward();
    let grads: Vec<f64> = xs.iter().map(|x| x.grad()).collect();
    assert_eq!(grads, [1.0 + 24.0, 1.0 + 12.0, 1.0 + 8.0, 1.0 + 6.0]);
    let one = [g.var(5.0)];
    assert_eq!(one.iter().sum::<Var>().value(), 5.0);
    assert_eq!(one.iter().product::<Var>().value(), 5.0);
}

#[test]
#[should_panic(expected = "empty iterator of Var")]
fn sum_of_nothing_panics_with_a_sentence() {
    let _: Var = Vec::<Var>::new().into_iter().sum();
}

#[test]
#[should_panic(expected = "product of an empty iterator")]
fn product_of_nothing_panics_with_a_sentence() {
    let _: Var = std::iter::empty::<Var>().product();
}

#[test]
fn integer_literals_where_floats_are_taken() {
    let g = Graph::new();
    let x = g.var(2.0);
    let mut y = x * 3 + 3 * x - x / 2 + 1 - (4 - x) + x.pow(2) + x.powi(3) + x.pow(2.5);
    y -= 1;
    y *= 2;
    y /= 4;
    y += 0;
    // (6x − x/2 + 1 − 4 + x²... ) / 2: just compare with the f64 formula
    let f = |x: f64| {
        (x * 3.0 + 3.0 * x - x / 2.0 + 1.0 - (4.0 - x) + x * x + x * x * x + x.powf(2.5) - 1.0)
            * 2.0
            / 4.0
    };
    assert_eq!(y.value(), f(2.0));
    y.backward();
    let d = (6.0 - 0.5 + 1.0 + 2.0 * 2.0 + 3.0 * 4.0 + 2.5 * 2f64.powf(1.5)) / 2.0;
    assert!((x.grad() - d).abs() < 1e-12);
}

#[test]
fn powers_read_the_same_on_numbers_and_handles() {
    fn poly<S: Scalar>(x: S, e: S) -> S {
        x.pow(3.0) + x.pow_var(e) + x.powf(0.5) + x.pow_scalar(e)
    }
    let g = Graph::new();
    let (x, e) = (g.var(2.0), g.var(1.5));
    assert_eq!(poly(x, e).value(), poly(2.0, 1.5));
    // and the inherent names on Var need no trait import (called as methods here)
    assert_eq!(x.powf(2.0).value(), x.pow(2).value());
}

mod without_imports {
    /// Every op is an inherent method: this module imports no trait.
    #[test]
    fn every_op_is_an_inherent_method() {
        let g = scalargrad::Graph::new();
        let (x, y) = (g.var(0.5), g.var(2.0));
        let all = [
            x.sin(),
            x.cos(),
            x.sqrt(),
            x.abs(),
            x.log1p(),
            x.softplus(),
            x.max(y),
            x.min(y),
            x.exp(),
            x.ln(),
            x.tanh(),
            x.sigmoid(),
            x.relu(),
            x.pow(2),
            x.powi(2),
            x.powf(2.0),
            x.pow_var(y),
            x.lift(1.0),
        ];
        assert_eq!(all.len(), 18);
        assert_eq!(all[6].value(), 2.0);
    }
}
