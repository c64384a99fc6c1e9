//! # Seed 003: computational graphs as layers with `forward` and `backward`
//!
//! The fourth seed builds backpropagation from *layers*: each layer remembers what its
//! forward pass saw, and its backward pass turns the upstream derivative `dout` into the
//! derivatives for its inputs — a purely local rule. `MulLayer` swaps its inputs
//! (`d(xy)/dx = y`), `AddLayer` passes `dout` through, `Relu` lets it through where the
//! input was positive, `Sigmoid` multiplies by `y(1 − y)` computed from its own output.
//!
//! Wiring the layers by hand means calling every backward in the reverse order of the
//! forwards. The engine records that order as it computes, and one `backward()` call does the
//! same walk. We run both on the seed's shopping examples and compare.
//! Run: `cargo run --release --example seed003_layers`.

use scalargrad::{Graph, Var};

/// `out = x·y`; backward: `dx = dout·y`, `dy = dout·x` (the inputs swap).
#[derive(Clone, Copy, Debug, Default)]
pub struct MulLayer {
    x: f64,
    y: f64,
}

impl MulLayer {
    /// Remembers both inputs and returns their product.
    pub fn forward(&mut self, x: f64, y: f64) -> f64 {
        self.x = x;
        self.y = y;
        x * y
    }

    /// `(dout·y, dout·x)`.
    pub fn backward(&self, dout: f64) -> (f64, f64) {
        (dout * self.y, dout * self.x)
    }
}

/// `out = x + y`; backward: `dx = dout·1`, `dy = dout·1`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddLayer;

impl AddLayer {
    /// The sum (nothing to remember).
    pub fn forward(&mut self, x: f64, y: f64) -> f64 {
        x + y
    }

    /// `(dout, dout)`.
    pub fn backward(&self, dout: f64) -> (f64, f64) {
        (dout * 1.0, dout * 1.0)
    }
}

/// Element-wise `max(x, 0)`; remembers where `x ≤ 0` (the seed's `mask`).
#[derive(Clone, Debug, Default)]
pub struct Relu {
    mask: Vec<bool>,
}

impl Relu {
    /// `x` with every element `≤ 0` replaced by 0.
    pub fn forward(&mut self, x: &[f64]) -> Vec<f64> {
        self.mask = x.iter().map(|&v| v <= 0.0).collect();
        x.iter()
            .zip(&self.mask)
            .map(|(&v, &m)| if m { 0.0 } else { v })
            .collect()
    }

    /// `dout` with the masked elements set to 0.
    pub fn backward(&self, mut dout: Vec<f64>) -> Vec<f64> {
        for (d, &m) in dout.iter_mut().zip(&self.mask) {
            if m {
                *d = 0.0;
            }
        }
        dout
    }
}

/// Element-wise `1/(1 + e⁻ˣ)`; remembers its output `out`.
#[derive(Clone, Debug, Default)]
pub struct Sigmoid {
    out: Vec<f64>,
}

impl Sigmoid {
    /// The sigmoid of every element.
    pub fn forward(&mut self, x: &[f64]) -> Vec<f64> {
        self.out = x.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
        self.out.clone()
    }

    /// `dout·(1 − out)·out`: the derivative from the output alone.
    pub fn backward(&self, dout: &[f64]) -> Vec<f64> {
        dout.iter()
            .zip(&self.out)
            .map(|(&d, &y)| d * (1.0 - y) * y)
            .collect()
    }
}

/// Apple example with layers: 2 apples at 100, tax 1.1. Returns the price and
/// `(d/dapple, d/dapple_num, d/dtax)`.
pub fn apple_layers() -> (f64, [f64; 3]) {
    let (apple, apple_num, tax) = (100.0, 2.0, 1.1);
    let mut mul_apple_layer = MulLayer::default();
    let mut mul_tax_layer = MulLayer::default();
    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let price = mul_tax_layer.forward(apple_price, tax);
    // backward: the reverse order, by hand
    let dprice = 1.0;
    let (dapple_price, dtax) = mul_tax_layer.backward(dprice);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);
    (price, [dapple, dapple_num, dtax])
}

/// Apple example on the engine: the same products, one `backward()`.
pub fn apple_engine() -> (f64, [f64; 3]) {
    let g = Graph::new();
    let (apple, apple_num, tax) = (g.var(100.0), g.var(2.0), g.var(1.1));
    let price = apple * apple_num * tax;
    price.backward();
    (price.value(), [apple.grad(), apple_num.grad(), tax.grad()])
}

/// Apple and orange with layers: 2 apples at 100, 3 oranges at 150, summed, tax 1.1.
/// Returns the price and `(d/dapple, d/dapple_num, d/dorange, d/dorange_num, d/dtax)`.
pub fn fruit_layers() -> (f64, [f64; 5]) {
    let (apple, apple_num, orange, orange_num, tax) = (100.0, 2.0, 150.0, 3.0, 1.1);
    let mut mul_apple_layer = MulLayer::default();
    let mut mul_orange_layer = MulLayer::default();
    let mut add_price_layer = AddLayer;
    let mut mul_tax_layer = MulLayer::default();
    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let orange_price = mul_orange_layer.forward(orange, orange_num);
    let price = add_price_layer.forward(apple_price, orange_price);
    let after_tax = mul_tax_layer.forward(price, tax);
    // backward
    let d_price = 1.0;
    let (dprice, dtax) = mul_tax_layer.backward(d_price);
    let (dapple_price, dorange_price) = add_price_layer.backward(dprice);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);
    let (dorange, dorange_num) = mul_orange_layer.backward(dorange_price);
    (after_tax, [dapple, dapple_num, dorange, dorange_num, dtax])
}

/// Apple and orange on the engine.
pub fn fruit_engine() -> (f64, [f64; 5]) {
    let g = Graph::new();
    let (apple, apple_num) = (g.var(100.0), g.var(2.0));
    let (orange, orange_num) = (g.var(150.0), g.var(3.0));
    let tax = g.var(1.1);
    let after_tax = (apple * apple_num + orange * orange_num) * tax;
    after_tax.backward();
    let grads = [apple, apple_num, orange, orange_num, tax].map(Var::grad);
    (after_tax.value(), grads)
}

/// Which activation layer [`activation_check`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// [`Relu`] against [`Var::relu`].
    Relu,
    /// [`Sigmoid`] against [`Var::sigmoid`].
    Sigmoid,
}

/// An activation layer on `x`, backward from `dout`, beside the engine. Returns
/// `[layer forward, layer backward, engine's input gradients]`. The engine's gradient of
/// `Σ doutᵢ·f(xᵢ)` with respect to `xᵢ` is `doutᵢ·f'(xᵢ)`: what the layer's backward returns.
pub fn activation_check(which: Activation, x: &[f64], dout: &[f64]) -> [Vec<f64>; 3] {
    let (out, back) = match which {
        Activation::Relu => {
            let mut layer = Relu::default();
            let out = layer.forward(x);
            (out, layer.backward(dout.to_vec()))
        }
        Activation::Sigmoid => {
            let mut layer = Sigmoid::default();
            let out = layer.forward(x);
            (out, layer.backward(dout))
        }
    };
    let g = Graph::new();
    let xs: Vec<Var<'_>> = x.iter().map(|&v| g.var(v)).collect();
    let terms: Vec<Var<'_>> = xs
        .iter()
        .zip(dout)
        .map(|(&v, &d)| match which {
            Activation::Relu => v.relu() * d,
            Activation::Sigmoid => v.sigmoid() * d,
        })
        .collect();
    g.sum(&terms).backward();
    [out, back, xs.iter().map(|v| v.grad()).collect()]
}

fn main() {
    let (price, [dapple, dapple_num, dtax]) = apple_layers();
    println!("apple, layers:   price {price:?}; dapple {dapple:?}, dapple_num {dapple_num:?}, dtax {dtax:?}");
    let (price, [dapple, dapple_num, dtax]) = apple_engine();
    println!("apple, engine:   price {price:?}; dapple {dapple:?}, dapple_num {dapple_num:?}, dtax {dtax:?}");
    // The seed prints `220.00000000000003` and `2.2 110.00000000000001 200` (its 200 is an
    // int: Python multiplied int 100 by int 2).

    let (after_tax, d) = fruit_layers();
    println!("\nfruit, layers:   price {after_tax:?}; dapple_num {:?}, dapple {:?}, dorange {:?}, dorange_num {:?}, dtax {:?}", d[1], d[0], d[2], d[3], d[4]);
    let (after_tax, d) = fruit_engine();
    println!("fruit, engine:   price {after_tax:?}; dapple_num {:?}, dapple {:?}, dorange {:?}, dorange_num {:?}, dtax {:?}", d[1], d[0], d[2], d[3], d[4]);
    // The seed: `715.0000000000001` and `110.00000000000001 2.2 3.3000000000000003 165.0 650`.
    println!(
        "layers == engine, bit for bit: {}",
        apple_layers() == apple_engine() && fruit_layers() == fruit_engine()
    );

    // The seed's Relu example: x = [[1.0, -0.5], [-2.0, 3.0]] (flattened here); its
    // backward is fed the forward's output as dout, so it prints [[1, 0], [0, 3]] twice.
    let x = [1.0, -0.5, -2.0, 3.0];
    let dout = Relu::default().forward(&x);
    let [out, back, engine] = activation_check(Activation::Relu, &x, &dout);
    println!("\nrelu forward     {out:?}\nrelu backward    {back:?}\nengine           {engine:?}");
    // Sigmoid on the same x, dout = 1: the backward is y(1 - y) from the stored output.
    let [out, back, engine] = activation_check(Activation::Sigmoid, &x, &[1.0; 4]);
    println!("sigmoid forward  {out:?}\nsigmoid backward {back:?}\nengine           {engine:?}");
}
