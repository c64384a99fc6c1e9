//! The hand-written floor: plain f64 arrays and hand-coded backprop, no graph.

use crate::clock::Instant;
use crate::data::{self, Layer, Sample};
use crate::{Chain, Moons};
use std::hint::black_box;

/// W1: 100 full-batch steps; forward, backward and update coded by hand.
pub fn w1(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
    let shapes = data::shapes(init);
    let mut p = data::flatten(init);
    let mut grad = vec![0.0; p.len()];
    // Per-layer offsets into `p` and scratch for activations and deltas, allocated once.
    let mut offs = Vec::new();
    let mut o = 0;
    for &(nin, nout, _) in &shapes {
        offs.push(o);
        o += nout * (nin + 1);
    }
    let width = shapes.iter().map(|s| s.0.max(s.1)).max().unwrap();
    let nl = shapes.len();
    let mut acts = vec![vec![0.0; width]; nl + 1]; // acts[l] = input of layer l
    let mut pre = vec![vec![0.0; width]; nl];
    let mut delta = vec![0.0; width];
    let mut dnext = vec![0.0; width];
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        grad.fill(0.0);
        let mut data_loss = 0.0;
        let mut first = true;
        for s in samples {
            acts[0][..2].copy_from_slice(&s.x);
            for l in 0..nl {
                let (nin, nout, relu) = shapes[l];
                for j in 0..nout {
                    let row = offs[l] + j * (nin + 1);
                    let mut act = p[row + nin];
                    for i in 0..nin {
                        act += p[row + i] * acts[l][i];
                    }
                    pre[l][j] = act;
                    acts[l + 1][j] = if relu && act < 0.0 { 0.0 } else { act };
                }
            }
            let score = acts[nl][0];
            let margin = score * (-s.y) + 1.0;
            let loss = if margin < 0.0 { 0.0 } else { margin };
            data_loss = if first { loss } else { data_loss + loss };
            first = false;
            // Backward: d total / d loss_i = 0.01; relu passes iff its output > 0.
            let dmargin = if loss > 0.0 { 0.01 } else { 0.0 };
            delta[0] = dmargin * (-s.y);
            for l in (0..nl).rev() {
                let (nin, nout, relu) = shapes[l];
                if relu {
                    for j in 0..nout {
                        if acts[l + 1][j] <= 0.0 {
                            delta[j] = 0.0;
                        }
                    }
                }
                dnext[..nin].fill(0.0);
                for j in 0..nout {
                    let row = offs[l] + j * (nin + 1);
                    let d = delta[j];
                    for i in 0..nin {
                        grad[row + i] += d * acts[l][i];
                        dnext[i] += d * p[row + i];
                    }
                    grad[row + nin] += d;
                }
                delta[..nin].copy_from_slice(&dnext[..nin]);
            }
        }
        let data_loss = data_loss * 0.01;
        let mut reg = p[0] * p[0];
        for &q in &p[1..] {
            reg += q * q;
        }
        let total = data_loss + reg * 1e-4;
        for (gq, &q) in grad.iter_mut().zip(&p) {
            *gq += 2.0 * q * 1e-4;
        }
        if k == 0 {
            losses.0 = total;
        }
        if k == 99 {
            losses.1 = total;
        }
        let lr = data::lr(k);
        for (q, gq) in p.iter_mut().zip(&grad) {
            *q -= lr * gq;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    black_box(&p);
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}

/// W2: the chain as arrays; backward walks it in reverse.
pub fn w2(n: usize) -> Chain {
    let t0 = Instant::now();
    let mut x = Vec::with_capacity(n + 1);
    let mut w = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    x.push(0.5);
    for k in 0..n {
        let (wk, bk) = (data::w2_w(k), data::w2_b(k));
        w.push(wk);
        b.push(bk);
        x.push((x[k] * wk + bk).tanh());
    }
    let t1 = Instant::now();
    let mut dw = vec![0.0; n];
    let mut db = vec![0.0; n];
    let mut g = 1.0;
    for k in (0..n).rev() {
        let t = x[k + 1];
        let dpre = g * (1.0 - t * t);
        dw[k] = dpre * x[k];
        db[k] = dpre;
        g = dpre * w[k];
    }
    let t2 = Instant::now();
    Chain {
        fwd_s: (t1 - t0).as_secs_f64(),
        bwd_s: (t2 - t1).as_secs_f64(),
        out: x[n],
        s1: dw.iter().sum(),
        s2: db.iter().sum(),
    }
}

/// W3: the left-deep sum of products; every product gets gradient 1.
pub fn w3(n: usize) -> Chain {
    let t0 = Instant::now();
    let a: Vec<f64> = (0..n).map(data::w3_a).collect();
    let b: Vec<f64> = (0..n).map(data::w3_b).collect();
    let mut acc = a[0] * b[0];
    for i in 1..n {
        acc += a[i] * b[i];
    }
    let t1 = Instant::now();
    let da: Vec<f64> = black_box(&b).clone();
    let db: Vec<f64> = black_box(&a).clone();
    let t2 = Instant::now();
    Chain {
        fwd_s: (t1 - t0).as_secs_f64(),
        bwd_s: (t2 - t1).as_secs_f64(),
        out: acc,
        s1: da.iter().sum(),
        s2: db.iter().sum(),
    }
}

/// Width of the moons network's hidden layers (W1 is MLP(2, [16, 16, 1])).
const H: usize = 16;

/// W1 with the shape fixed at compile time: `[f64; 16]` layers, the hidden layer's weights
/// kept both as rows (`w2[j][i]`, for backward) and transposed (`w2t[i][j]`, for forward), so
/// that every inner loop runs over 16 neurons at once and the compiler vectorises it. Each
/// neuron still adds `b, then w_0·x_0, w_1·x_1, …` in WORKLOADS.md's order, so the losses are
/// those of the generic floor; only the order in which a gradient's terms are summed differs.
///
/// With `SPARSE`, backward also skips what is zero: a sample whose loss is 0 (its hinge is
/// off) and a hidden neuron whose relu is off. Same numbers; it shows how far below the dense
/// loops a program can go that knows where the zeros are (the ratios use the dense one).
pub fn w1_fixed<const SPARSE: bool>(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
    assert_eq!(
        data::shapes(init),
        [(2, H, true), (H, H, true), (H, 1, false)]
    );
    let mut w1t = [[0.0; H]; 2];
    let mut b1 = [0.0; H];
    let mut w2 = [[0.0; H]; H];
    let mut b2 = [0.0; H];
    let mut w3 = [0.0; H];
    for j in 0..H {
        for i in 0..2 {
            w1t[i][j] = init[0].w[j][i];
        }
        b1[j] = init[0].b[j];
        w2[j].copy_from_slice(&init[1].w[j]);
        b2[j] = init[1].b[j];
        w3[j] = init[2].w[0][j];
    }
    let mut b3 = init[2].b[0];
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        let mut w2t = [[0.0; H]; H];
        for j in 0..H {
            for i in 0..H {
                w2t[i][j] = w2[j][i];
            }
        }
        let (mut gw1t, mut gb1) = ([[0.0; H]; 2], [0.0; H]);
        let (mut gw2, mut gb2) = ([[0.0; H]; H], [0.0; H]);
        let (mut gw3, mut gb3) = ([0.0; H], 0.0);
        let mut data_loss = 0.0;
        for s in samples {
            // forward, 16 neurons at a time
            let mut h1 = b1;
            for i in 0..2 {
                for j in 0..H {
                    h1[j] = h1[j] + w1t[i][j] * s.x[i];
                }
            }
            for v in &mut h1 {
                *v = if *v < 0.0 { 0.0 } else { *v };
            }
            let mut h2 = b2;
            for i in 0..H {
                for j in 0..H {
                    h2[j] = h2[j] + w2t[i][j] * h1[i];
                }
            }
            for v in &mut h2 {
                *v = if *v < 0.0 { 0.0 } else { *v };
            }
            let mut score = b3;
            for i in 0..H {
                score = score + w3[i] * h2[i];
            }
            let margin = score * (-s.y) + 1.0;
            let loss = if margin < 0.0 { 0.0 } else { margin };
            data_loss = data_loss + loss;
            // backward: d total / d loss_i = 0.01; relu passes iff its output > 0
            if SPARSE && loss <= 0.0 {
                continue;
            }
            let dscore = if loss > 0.0 { 0.01 } else { 0.0 } * (-s.y);
            gb3 += dscore;
            let mut d2 = [0.0; H];
            for i in 0..H {
                gw3[i] += dscore * h2[i];
                d2[i] = if h2[i] > 0.0 { dscore * w3[i] } else { 0.0 };
            }
            let mut d1 = [0.0; H];
            for j in 0..H {
                if SPARSE && d2[j] == 0.0 {
                    continue;
                }
                gb2[j] += d2[j];
                for i in 0..H {
                    gw2[j][i] += d2[j] * h1[i];
                    d1[i] += d2[j] * w2[j][i];
                }
            }
            for j in 0..H {
                d1[j] = if h1[j] > 0.0 { d1[j] } else { 0.0 };
                gb1[j] += d1[j];
            }
            for i in 0..2 {
                for j in 0..H {
                    gw1t[i][j] += d1[j] * s.x[i];
                }
            }
        }
        // reg_loss in micrograd's parameter order (neuron by neuron: weights, then bias)
        let mut reg = w1t[0][0] * w1t[0][0];
        reg = reg + w1t[1][0] * w1t[1][0];
        reg = reg + b1[0] * b1[0];
        for j in 1..H {
            reg = reg + w1t[0][j] * w1t[0][j];
            reg = reg + w1t[1][j] * w1t[1][j];
            reg = reg + b1[j] * b1[j];
        }
        for j in 0..H {
            for i in 0..H {
                reg = reg + w2[j][i] * w2[j][i];
            }
            reg = reg + b2[j] * b2[j];
        }
        for i in 0..H {
            reg = reg + w3[i] * w3[i];
        }
        reg = reg + b3 * b3;
        let total = data_loss * 0.01 + reg * 1e-4;
        if k == 0 {
            losses.0 = total;
        }
        if k == 99 {
            losses.1 = total;
        }
        // update: p -= lr * (data gradient + 2e-4 p)
        let lr = data::lr(k);
        let upd = |p: &mut f64, g: f64| *p -= lr * (g + 2.0 * *p * 1e-4);
        for i in 0..2 {
            for j in 0..H {
                upd(&mut w1t[i][j], gw1t[i][j]);
            }
        }
        for j in 0..H {
            upd(&mut b1[j], gb1[j]);
            for i in 0..H {
                upd(&mut w2[j][i], gw2[j][i]);
            }
            upd(&mut b2[j], gb2[j]);
            upd(&mut w3[j], gw3[j]);
        }
        upd(&mut b3, gb3);
    }
    let secs = t0.elapsed().as_secs_f64();
    black_box((&w1t, &b1, &w2, &b2, &w3, &b3));
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}
