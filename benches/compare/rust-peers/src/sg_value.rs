//! scalargrad's owned `Value` (micrograd's model: handles owned, freed when dropped) on W1
//! micrograd-style, W2 and W3: the same code as `sg.rs`'s `Graph` rows, written on `Value`.
//! Timed: recording ("fwd"), then `backward` and dropping every handle ("bwd": a `Value`
//! graph is freed as its handles drop, so freeing is part of its cost; the `Graph` rows
//! drop their graph outside the timed region, so the ratio to them leans against `Value`).

use crate::clock::Instant;
use crate::data::{self, Layer, Sample};
use crate::{Chain, Moons};
use scalargrad::Value;

/// The W1 loss on `Value`, one node per `*`, `+` and relu, the formulas and order of
/// `sg::Model::loss` with `Path::Element`.
fn loss(params: &[Value], shapes: &[(usize, usize, bool)], samples: &[Sample]) -> Value {
    let mut losses = Vec::with_capacity(samples.len());
    let mut input: Vec<Value> = Vec::with_capacity(16);
    let mut out: Vec<Value> = Vec::with_capacity(16);
    for s in samples {
        input.clear();
        input.extend(s.x.iter().map(|&x| Value::constant(x)));
        let mut off = 0;
        for &(nin, nout, relu) in shapes {
            out.clear();
            for _ in 0..nout {
                let (w, b) = (&params[off..off + nin], &params[off + nin]);
                off += nin + 1;
                let mut act = b.clone();
                for (wi, xi) in w.iter().zip(&input) {
                    act = &act + &(wi * xi);
                }
                out.push(if relu { act.relu() } else { act });
            }
            std::mem::swap(&mut input, &mut out);
        }
        let margin = &input[0] * (-s.y) + 1.0;
        losses.push(margin.relu());
    }
    let mut d = losses[0].clone();
    for l in &losses[1..] {
        d = &d + l;
    }
    let mut r = &params[0] * &params[0];
    for p in &params[1..] {
        r = &r + &(p * p);
    }
    &d * 0.01 + &r * 1e-4
}

/// W1 micrograd-style on `Value`: every step, the parameters as new `Value`s from plain
/// numbers, the loss one node per op, `backward`, the update written back to the numbers,
/// and every handle dropped (which frees the step's graph).
pub fn w1_micrograd_style(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
    let shapes = data::shapes(init);
    let mut p = data::flatten(init);
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        let params: Vec<Value> = p.iter().map(|&v| Value::new(v)).collect();
        let total = loss(&params, &shapes, samples);
        total.backward();
        let v = total.data();
        if k == 0 {
            losses.0 = v;
        }
        if k == 99 {
            losses.1 = v;
        }
        let lr = data::lr(k);
        for (q, v) in p.iter_mut().zip(&params) {
            *q -= lr * v.grad();
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(&p);
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}

/// Backward, then the gradient sums (not timed), then every handle dropped.
fn finish(y: Value, s1: Vec<Value>, s2: Vec<Value>, t0: Instant, t1: Instant) -> Chain {
    y.backward();
    let t2 = Instant::now();
    let out = y.data();
    let sums = (
        s1.iter().map(Value::grad).sum(),
        s2.iter().map(Value::grad).sum(),
    );
    let t3 = Instant::now();
    drop((y, s1, s2));
    let t4 = Instant::now();
    Chain {
        fwd_s: (t1 - t0).as_secs_f64(),
        bwd_s: (t2 - t1).as_secs_f64() + (t4 - t3).as_secs_f64(),
        out,
        s1: sums.0,
        s2: sums.1,
    }
}

/// W2 on `Value`.
pub fn w2(n: usize) -> Chain {
    let mut ws = Vec::with_capacity(n);
    let mut bs = Vec::with_capacity(n);
    let t0 = Instant::now();
    let mut x = Value::new(0.5);
    for k in 0..n {
        let w = Value::new(data::w2_w(k));
        let b = Value::new(data::w2_b(k));
        x = (&(&x * &w) + &b).tanh();
        ws.push(w);
        bs.push(b);
    }
    let t1 = Instant::now();
    finish(x, ws, bs, t0, t1)
}

/// W3 on `Value`.
pub fn w3(n: usize) -> Chain {
    let mut as_ = Vec::with_capacity(n);
    let mut bs = Vec::with_capacity(n);
    let t0 = Instant::now();
    let (a0, b0) = (Value::new(data::w3_a(0)), Value::new(data::w3_b(0)));
    let mut acc = &a0 * &b0;
    as_.push(a0);
    bs.push(b0);
    for i in 1..n {
        let (a, b) = (Value::new(data::w3_a(i)), Value::new(data::w3_b(i)));
        acc = &acc + &(&a * &b);
        as_.push(a);
        bs.push(b);
    }
    let t1 = Instant::now();
    finish(acc, as_, bs, t0, t1)
}
