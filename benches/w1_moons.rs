//! W1 (`benches/WORKLOADS.md`): micrograd's moons demo, one full-batch training step of an
//! MLP(2, [16, 16, 1]) on 100 points, four ways:
//!
//! - `w1_moons/eager_element`: the graph recorded again every step, one node per `*` and `+`
//!   (micrograd's graph, 65,814 nodes), then rewound;
//! - `w1_moons/eager_fused`: the same with one `affine` node per neuron, `sum` and `dot` for
//!   the losses (7,544 nodes), bit-identical values and gradients;
//! - `w1_moons/replay_element`, `w1_moons/replay_fused`: recorded once, then every step only
//!   `set_value` on the parameters, `recompute`, `zero_grad` and `backward` (no allocation);
//! - `w1_moons/idiomatic`: what the README teaches, `nn::moons::Demo::step` (an `nn::Mlp`
//!   of fused neurons, `nn::train_step` every step);
//! - `w1_moons/replay_nn`: the same `nn::Mlp` recorded once with `nn::moons::objective`,
//!   then `recompute`, `zero_grad`, `backward` and the `Sgd` optimizer every step;
//! - `w1_moons/micrograd_style`: a new `Graph` every step, parameters re-created as leaves
//!   from numbers, one node per `*` and `+`.
//!
//! Before timing, 100 steps of each reproduce micrograd's step-0 and step-99 losses.
//! Run: `cargo bench --bench w1_moons`.

use criterion::{criterion_group, criterion_main, Criterion};
use scalargrad::nn::moons::{self, dataset, initial_spec, Demo, Start, LOSS_STEP_0, LOSS_STEP_99};
use scalargrad::nn::optim::{LinearDecay, Optimizer, Sgd};
use scalargrad::nn::{Activation, Dataset};
use scalargrad::{Graph, Var};

#[derive(Clone, Copy)]
enum Path {
    Element,
    Fused,
}

/// The parameters as leaves in micrograd's order (`w_0..w_{nin-1}, b` per neuron).
struct Model<'g> {
    params: Vec<Var<'g>>,
    /// `(nin, nout, relu)` per layer.
    shapes: Vec<(usize, usize, bool)>,
}

impl<'g> Model<'g> {
    fn new(g: &'g Graph) -> Self {
        let spec = initial_spec();
        let mut params = Vec::new();
        let mut shapes = Vec::new();
        for layer in &spec.layers {
            let biases = layer.biases.as_ref().expect("the moons network has biases");
            for (w, &b) in layer.weights.iter().zip(biases) {
                params.extend(w.iter().map(|&v| g.var(v)));
                params.push(g.var(b));
            }
            let relu = layer.activation == Activation::Relu;
            shapes.push((layer.weights[0].len(), layer.weights.len(), relu));
        }
        Model { params, shapes }
    }

    /// Records `data_loss + reg_loss` for the whole batch.
    fn loss(&self, g: &'g Graph, data: &Dataset, path: Path) -> Var<'g> {
        let mut losses = Vec::with_capacity(data.len());
        let (mut input, mut out) = (Vec::with_capacity(16), Vec::with_capacity(16));
        for (x, &y) in data.inputs.iter().zip(&data.labels) {
            input.clear();
            input.extend(x.iter().map(|&v| g.constant(v)));
            let mut off = 0;
            for &(nin, nout, relu) in &self.shapes {
                out.clear();
                for _ in 0..nout {
                    let (w, b) = (&self.params[off..off + nin], self.params[off + nin]);
                    off += nin + 1;
                    let act = match path {
                        Path::Element => w.iter().zip(&input).fold(b, |a, (&wi, &xi)| a + wi * xi),
                        Path::Fused => g.affine(b, w, &input),
                    };
                    out.push(if relu { act.relu() } else { act });
                }
                std::mem::swap(&mut input, &mut out);
            }
            losses.push((input[0] * (-y) + 1.0).relu());
        }
        let (data_loss, reg) = match path {
            Path::Element => (
                losses[1..].iter().fold(losses[0], |a, &l| a + l),
                self.params[1..]
                    .iter()
                    .fold(self.params[0] * self.params[0], |a, &p| a + p * p),
            ),
            Path::Fused => (g.sum(&losses), g.dot(&self.params, &self.params)),
        };
        data_loss * 0.01 + reg * 1e-4
    }

    fn update(&self, k: usize) {
        let lr = 1.0 - (0.9 * k as f64) / 100.0;
        for p in &self.params {
            p.set_value(p.value() - lr * p.grad());
        }
    }
}

/// One eager step `k`: record, backward, update, rewind. Returns the loss.
fn eager_step(g: &Graph, model: &Model<'_>, data: &Dataset, path: Path, k: usize) -> f64 {
    g.scope(|| {
        g.zero_grad();
        let total = model.loss(g, data, path);
        total.backward();
        model.update(k);
        total.value()
    })
}

/// One replay step `k` of the recorded `total`: recompute, backward, update. Returns the loss.
fn replay_step(g: &Graph, model: &Model<'_>, total: Var<'_>, k: usize) -> f64 {
    g.recompute();
    g.zero_grad();
    total.backward();
    model.update(k);
    total.value()
}

/// Checks micrograd's losses of steps 0 and 99 (to 1e-9 relative, as WORKLOADS.md asks).
fn check(losses: &[f64], what: &str) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
    assert!(
        close(losses[0], LOSS_STEP_0),
        "{what}: step 0 loss {}",
        losses[0]
    );
    assert!(
        close(losses[99], LOSS_STEP_99),
        "{what}: step 99 loss {}",
        losses[99]
    );
}

fn w1(c: &mut Criterion) {
    let data = dataset();
    let mut group = c.benchmark_group("w1_moons");
    for (name, path) in [("element", Path::Element), ("fused", Path::Fused)] {
        let g = Graph::new();
        let model = Model::new(&g);
        let losses: Vec<f64> = (0..100)
            .map(|k| eager_step(&g, &model, &data, path, k))
            .collect();
        check(&losses, &format!("eager_{name}"));
        let mut k = 0;
        group.bench_function(format!("eager_{name}"), |b| {
            b.iter(|| {
                k = (k + 1) % 100;
                eager_step(&g, &model, &data, path, k)
            })
        });

        let g = Graph::new();
        let model = Model::new(&g);
        let total = model.loss(&g, &data, path);
        let losses: Vec<f64> = (0..100)
            .map(|k| replay_step(&g, &model, total, k))
            .collect();
        check(&losses, &format!("replay_{name}"));
        let mut k = 0;
        group.bench_function(format!("replay_{name}"), |b| {
            b.iter(|| {
                k = (k + 1) % 100;
                replay_step(&g, &model, total, k)
            })
        });
    }
    {
        let g = Graph::new();
        let mut demo = Demo::new(&g, Start::InitFile);
        let losses: Vec<f64> = (0..100).map(|_| demo.step().loss).collect();
        check(&losses, "idiomatic");
        // As rust-peers' "scalargrad idiomatic": a fresh graph and demo for every 100 steps
        // (not timed), so that old demos' parameters do not pile up in one graph.
        group.bench_function("idiomatic", |b| {
            b.iter_custom(|iters| {
                let mut timed = std::time::Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let g = Graph::new();
                    let mut demo = Demo::new(&g, Start::InitFile);
                    let n = left.min(100);
                    let t0 = std::time::Instant::now();
                    for _ in 0..n {
                        std::hint::black_box(demo.step().loss);
                    }
                    timed += t0.elapsed();
                    left -= n;
                }
                timed
            })
        });
    }
    {
        // as `rust-peers`' "scalargrad replay" (w1_replay_nn)
        let g = Graph::new();
        let mlp = moons::model(&g, Start::InitFile);
        let d = dataset();
        let inputs = d.constants(&g);
        let params = mlp.parameters();
        let (total, _) = moons::objective(&mlp, &inputs, &d.labels, &params);
        let fresh = |opt: &mut Sgd<LinearDecay>| {
            for (p, v) in params.iter().zip(initial_spec().parameters()) {
                p.set_value(v);
            }
            *opt = Sgd::new(LinearDecay::micrograd());
        };
        let step = |opt: &mut Sgd<LinearDecay>| {
            g.recompute();
            g.zero_grad();
            total.backward();
            let v = total.value();
            opt.step(&params);
            v
        };
        let mut opt = Sgd::new(LinearDecay::micrograd());
        let losses: Vec<f64> = (0..100).map(|_| step(&mut opt)).collect();
        check(&losses, "replay_nn");
        fresh(&mut opt);
        group.bench_function("replay_nn", |b| {
            b.iter(|| {
                if opt.steps() == 100 {
                    fresh(&mut opt);
                }
                step(&mut opt)
            })
        });
    }
    {
        let scratch = Graph::new();
        let init = Model::new(&scratch);
        let shapes = init.shapes.clone();
        let mut params: Vec<f64> = init.params.iter().map(|p| p.value()).collect();
        let start = params.clone();
        let losses: Vec<f64> = (0..100)
            .map(|k| micrograd_step(&mut params, &shapes, &data, k))
            .collect();
        check(&losses, "micrograd_style");
        let mut k = 0;
        group.bench_function("micrograd_style", |b| {
            b.iter(|| {
                if k == 100 {
                    params.clone_from(&start);
                    k = 0;
                }
                k += 1;
                micrograd_step(&mut params, &shapes, &data, k - 1)
            })
        });
    }
    group.finish();
}

/// One micrograd-style step `k`: a new graph, the parameters as leaves from `params`, one
/// node per scalar op, backward, the update written back to the numbers.
fn micrograd_step(
    params: &mut [f64],
    shapes: &[(usize, usize, bool)],
    data: &Dataset,
    k: usize,
) -> f64 {
    let g = Graph::new();
    let model = Model {
        params: params.iter().map(|&v| g.var(v)).collect(),
        shapes: shapes.to_vec(),
    };
    let total = model.loss(&g, data, Path::Element);
    total.backward();
    let lr = 1.0 - (0.9 * k as f64) / 100.0;
    for (q, p) in params.iter_mut().zip(&model.params) {
        *q -= lr * p.grad();
    }
    total.value()
}

criterion_group!(benches, w1);
criterion_main!(benches);
