//! scalargrad: W1 eager (element-wise and fused), W1 replayed, W2, W3.

use crate::clock::Instant;
use crate::data::{self, Layer, Sample};
use crate::{Chain, Moons};
use scalargrad::nn::moons::{self, Demo, Start};
use scalargrad::nn::optim::{LinearDecay, Optimizer, Sgd};
use scalargrad::nn::{dense, Activation};
use scalargrad::{Graph, Var};

/// How W1's neurons are recorded.
#[derive(Clone, Copy, PartialEq)]
pub enum Path {
    /// One node per `*` and `+` (micrograd's graph).
    Element,
    /// One `affine` node per neuron, `dot` for the regulariser, `sum` for the data loss.
    Fused,
    /// One `nn::dense` per layer (the user's own parameters), `dot` and `sum` as `Fused`.
    Dense,
}

/// The parameters as leaves, in micrograd order, plus their layer layout.
struct Model<'g> {
    params: Vec<Var<'g>>,
    shapes: Vec<(usize, usize, bool)>,
}

impl<'g> Model<'g> {
    fn new(g: &'g Graph, init: &[Layer]) -> Self {
        Model::from_values(g, &data::flatten(init), data::shapes(init))
    }

    fn from_values(g: &'g Graph, p: &[f64], shapes: Vec<(usize, usize, bool)>) -> Self {
        Model {
            params: p.iter().map(|&v| g.var(v)).collect(),
            shapes,
        }
    }

    /// Records the W1 loss for the whole batch.
    fn loss(&self, g: &'g Graph, samples: &[Sample], path: Path) -> Var<'g> {
        let mut losses = Vec::with_capacity(samples.len());
        let mut input: Vec<Var<'g>> = Vec::with_capacity(16);
        let mut out: Vec<Var<'g>> = Vec::with_capacity(16);
        for s in samples {
            input.clear();
            input.extend(s.x.iter().map(|&x| g.constant(x)));
            let mut off = 0;
            for &(nin, nout, relu) in &self.shapes {
                if path == Path::Dense {
                    let stride = nin + 1;
                    let at = |j: usize| off + j * stride;
                    let weights: Vec<&[Var<'g>]> = (0..nout)
                        .map(|j| &self.params[at(j)..at(j) + nin])
                        .collect();
                    let biases: Vec<Var<'g>> =
                        (0..nout).map(|j| self.params[at(j) + nin]).collect();
                    let act = if relu {
                        Activation::Relu
                    } else {
                        Activation::Linear
                    };
                    input = dense(&input, &weights, Some(&biases), act);
                    off += nout * stride;
                    continue;
                }
                out.clear();
                for _ in 0..nout {
                    let (w, b) = (&self.params[off..off + nin], self.params[off + nin]);
                    off += nin + 1;
                    let act = match path {
                        Path::Element => {
                            let mut act = b;
                            for (&wi, &xi) in w.iter().zip(&input) {
                                act = act + wi * xi;
                            }
                            act
                        }
                        Path::Fused | Path::Dense => g.affine(b, w, &input),
                    };
                    out.push(if relu { act.relu() } else { act });
                }
                std::mem::swap(&mut input, &mut out);
            }
            let margin = input[0] * (-s.y) + 1.0;
            losses.push(margin.relu());
        }
        let (data_loss, reg) = match path {
            Path::Element => {
                let mut d = losses[0];
                for &l in &losses[1..] {
                    d = d + l;
                }
                let mut r = self.params[0] * self.params[0];
                for &p in &self.params[1..] {
                    r = r + p * p;
                }
                (d, r)
            }
            Path::Fused | Path::Dense => (g.sum(&losses), g.dot(&self.params, &self.params)),
        };
        data_loss * 0.01 + reg * 1e-4
    }

    fn update(&self, k: usize) {
        let lr = data::lr(k);
        for p in &self.params {
            p.set_value(p.value() - lr * p.grad());
        }
    }
}

/// W1 the way the README and `examples/moons.rs` teach it: `nn::moons::Demo` (an `nn::Mlp`
/// with the default fused neurons) and `Demo::step`, i.e. `nn::train_step` every step. The
/// demo is built (parameters and inputs recorded) before the timed region.
pub fn w1_idiomatic(steps: usize) -> Moons {
    let g = Graph::new();
    let mut demo = Demo::new(&g, Start::InitFile);
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        let step = demo.step();
        if k == 0 {
            losses.0 = step.loss;
        }
        if k == 99 {
            losses.1 = step.loss;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}

/// W1 replayed with the `nn` API: `nn::moons::model` (an `nn::Mlp`, default fused neurons),
/// the inputs as constants and `nn::moons::objective` recorded once (not timed); then every
/// step `Graph::recompute`, `zero_grad`, `backward` and the `Sgd` optimizer's `set_value`s.
pub fn w1_replay_nn(steps: usize) -> Moons {
    let g = Graph::new();
    let mlp = moons::model(&g, Start::InitFile);
    let d = moons::dataset();
    let inputs = d.constants(&g);
    let params = mlp.parameters();
    let (total, _) = moons::objective(&mlp, &inputs, &d.labels, &params);
    let mut opt = Sgd::new(LinearDecay::micrograd());
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        if k > 0 {
            g.recompute();
        }
        g.zero_grad();
        total.backward();
        let v = total.value();
        if k == 0 {
            losses.0 = v;
        }
        if k == 99 {
            losses.1 = v;
        }
        opt.step(&params);
    }
    let secs = t0.elapsed().as_secs_f64();
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}

/// W1 micrograd-style: a new `Graph` every step, the parameters re-created as leaves from
/// plain numbers, one node per scalar `*`, `+` and relu, the update written back to the
/// numbers (what the tape crates `reverse` and `RustQuant_autodiff` are made to do too).
pub fn w1_micrograd_style(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
    let shapes = data::shapes(init);
    let mut p = data::flatten(init);
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        let g = Graph::new();
        let model = Model::from_values(&g, &p, shapes.clone());
        let total = model.loss(&g, samples, Path::Element);
        total.backward();
        let v = total.value();
        if k == 0 {
            losses.0 = v;
        }
        if k == 99 {
            losses.1 = v;
        }
        let lr = data::lr(k);
        for (q, v) in p.iter_mut().zip(&model.params) {
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

/// W1 eager: the graph is recorded again every step (and rewound after it).
pub fn w1_eager(samples: &[Sample], init: &[Layer], steps: usize, path: Path) -> (Moons, usize) {
    let g = Graph::new();
    let model = Model::new(&g, init);
    let mark = g.mark();
    let mut losses = (0.0, 0.0);
    let mut nodes = 0;
    let t0 = Instant::now();
    for k in 0..steps {
        g.zero_grad();
        let total = model.loss(&g, samples, path);
        total.backward();
        let v = total.value();
        if k == 0 {
            losses.0 = v;
            nodes = g.len();
        }
        if k == 99 {
            losses.1 = v;
        }
        model.update(k);
        g.rewind(mark);
    }
    let secs = t0.elapsed().as_secs_f64();
    (
        Moons {
            step_s: secs / steps as f64,
            loss0: losses.0,
            loss99: losses.1,
        },
        nodes,
    )
}

/// W1 replayed: recorded once (not timed), then `set_value` + `recompute` + `backward` per
/// step, with no recording and no allocation.
pub fn w1_replay(samples: &[Sample], init: &[Layer], steps: usize, path: Path) -> Moons {
    let g = Graph::new();
    let model = Model::new(&g, init);
    let total = model.loss(&g, samples, path);
    let mut losses = (0.0, 0.0);
    let t0 = Instant::now();
    for k in 0..steps {
        if k > 0 {
            g.recompute();
        }
        g.zero_grad();
        total.backward();
        let v = total.value();
        if k == 0 {
            losses.0 = v;
        }
        if k == 99 {
            losses.1 = v;
        }
        model.update(k);
    }
    let secs = t0.elapsed().as_secs_f64();
    Moons {
        step_s: secs / steps as f64,
        loss0: losses.0,
        loss99: losses.1,
    }
}

/// W2 (deep chain); the graph is created inside the timed region and dropped outside it.
pub fn w2(n: usize) -> Chain {
    w2_timing(n, false)
}

/// W2 with the graph's drop timed too (added to "bwd"), for the ratio `Value` is held to.
pub fn w2_drop_timed(n: usize) -> Chain {
    w2_timing(n, true)
}

fn w2_timing(n: usize, drop_timed: bool) -> Chain {
    let mut ws = Vec::with_capacity(n);
    let mut bs = Vec::with_capacity(n);
    let t0 = Instant::now();
    let g = Graph::new();
    let mut x = g.var(0.5);
    for k in 0..n {
        let w = g.var(data::w2_w(k));
        let b = g.var(data::w2_b(k));
        ws.push(w);
        bs.push(b);
        x = (x * w + b).tanh();
    }
    let t1 = Instant::now();
    x.backward();
    let t2 = Instant::now();
    let mut r = Chain {
        fwd_s: (t1 - t0).as_secs_f64(),
        bwd_s: (t2 - t1).as_secs_f64(),
        out: x.value(),
        s1: ws.iter().map(|w| w.grad()).sum(),
        s2: bs.iter().map(|b| b.grad()).sum(),
    };
    let t3 = Instant::now();
    drop((ws, bs));
    drop(g);
    if drop_timed {
        r.bwd_s += t3.elapsed().as_secs_f64();
    }
    r
}

/// W3 (wide sum of products as a left-deep chain of binary adds).
pub fn w3(n: usize) -> Chain {
    w3_timing(n, false)
}

/// W3 with the graph's drop timed too (added to "bwd").
pub fn w3_drop_timed(n: usize) -> Chain {
    w3_timing(n, true)
}

fn w3_timing(n: usize, drop_timed: bool) -> Chain {
    let mut as_ = Vec::with_capacity(n);
    let mut bs = Vec::with_capacity(n);
    let t0 = Instant::now();
    let g = Graph::new();
    let (a0, b0) = (g.var(data::w3_a(0)), g.var(data::w3_b(0)));
    as_.push(a0);
    bs.push(b0);
    let mut acc = a0 * b0;
    for i in 1..n {
        let (a, b) = (g.var(data::w3_a(i)), g.var(data::w3_b(i)));
        as_.push(a);
        bs.push(b);
        acc = acc + a * b;
    }
    let t1 = Instant::now();
    acc.backward();
    let t2 = Instant::now();
    let mut r = Chain {
        fwd_s: (t1 - t0).as_secs_f64(),
        bwd_s: (t2 - t1).as_secs_f64(),
        out: acc.value(),
        s1: as_.iter().map(|v| v.grad()).sum(),
        s2: bs.iter().map(|v| v.grad()).sum(),
    };
    let t3 = Instant::now();
    drop((as_, bs));
    drop(g);
    if drop_timed {
        r.bwd_s += t3.elapsed().as_secs_f64();
    }
    r
}

/// W2 for the memory figure: no handle kept but the output (the engine's own footprint).
pub fn w2_mem(n: usize) -> f64 {
    let g = Graph::new();
    let mut x = g.var(0.5);
    for k in 0..n {
        x = (x * g.var(data::w2_w(k)) + g.var(data::w2_b(k))).tanh();
    }
    x.backward();
    x.value()
}

/// Phase timings of W1 micrograd-style (a new graph and its parameters, record, backward,
/// the update and the graph's drop), in µs per step.
pub fn probe_micrograd_style(samples: &[Sample], init: &[Layer]) -> [f64; 4] {
    let shapes = data::shapes(init);
    let mut p = data::flatten(init);
    let mut t = [0.0; 4];
    for k in 0..100 {
        let t0 = Instant::now();
        let g = Graph::new();
        let model = Model::from_values(&g, &p, shapes.clone());
        let t1 = Instant::now();
        let total = model.loss(&g, samples, Path::Element);
        let t2 = Instant::now();
        total.backward();
        let t3 = Instant::now();
        let lr = data::lr(k);
        for (q, v) in p.iter_mut().zip(&model.params) {
            *q -= lr * v.grad();
        }
        drop(model);
        drop(g);
        let t4 = Instant::now();
        for (ti, d) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
            *ti += d.as_secs_f64() * 1e4;
        }
    }
    std::hint::black_box(&p);
    t
}

/// Phase timings of W1 eager (record, backward, update+rewind), in µs per step.
pub fn probe(samples: &[Sample], init: &[Layer], path: Path) -> [f64; 3] {
    let g = Graph::new();
    let model = Model::new(&g, init);
    let mark = g.mark();
    let mut t = [0.0; 3];
    for k in 0..100 {
        let t0 = Instant::now();
        g.zero_grad();
        let total = model.loss(&g, samples, path);
        let t1 = Instant::now();
        total.backward();
        let t2 = Instant::now();
        model.update(k);
        g.rewind(mark);
        let t3 = Instant::now();
        t[0] += (t1 - t0).as_secs_f64() * 1e4;
        t[1] += (t2 - t1).as_secs_f64() * 1e4;
        t[2] += (t3 - t2).as_secs_f64() * 1e4;
    }
    t
}
