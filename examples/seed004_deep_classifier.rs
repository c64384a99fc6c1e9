//! # Seed 004: a deep L-layer classifier — the vectorised backward pass, and the engine's
//!
//! The fifth seed describes deep networks layer by layer: the forward pass keeps a cache
//! `(Z[l], W[l], b[l])`, and the backward pass turns `dA[l]` into `dA[l−1]`, `dW[l]`, `db[l]`,
//! vectorised over the `m` examples:
//!
//! ```text
//! dZ[l]   = dA[l] ⊙ g'[l](Z[l])
//! dW[l]   = dZ[l] · A[l−1]ᵀ / m
//! db[l]   = mean of dZ[l] over the examples
//! dA[l−1] = W[l]ᵀ · dZ[l]
//! ```
//!
//! starting from `dA[L] = −y/a + (1 − y)/(1 − a)` for a sigmoid output with binary
//! cross-entropy. Its example is ReLU → ReLU → sigmoid for binary classification.
//!
//! Here that network (2 → 8 → 8 → 1) learns the 100-point two-moons data set. The engine
//! builds it from scalar neurons and gets every gradient from one reverse pass; beside it,
//! the seed's four formulas run on plain `Vec<Vec<f64>>` matrices. We compare the two —
//! `dW`, `db`, and also `dZ` and `dA`, which the engine keeps on its intermediate nodes —
//! at the initial weights and after training.
//! Run: `cargo run --release --example seed004_deep_classifier`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scalargrad::{Graph, Var};

/// Layer sizes: 2 inputs, two hidden ReLU layers of 8, one sigmoid output.
pub const DIMS: [usize; 4] = [2, 8, 8, 1];
/// Seed of the initial weights.
pub const SEED: u64 = 4;
/// Learning rate of full-batch gradient descent.
pub const LR: f64 = 0.5;
/// Training steps.
pub const STEPS: usize = 1000;

/// A matrix as rows.
pub type Matrix = Vec<Vec<f64>>;

/// The parameters: `w[l]` is layer `l + 1`'s `n[l+1] × n[l]` weight matrix (row `i` =
/// neuron `i`), `b[l]` its biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Weights per layer.
    pub w: Vec<Matrix>,
    /// Biases per layer.
    pub b: Vec<Vec<f64>>,
}

impl Params {
    /// He-uniform initialisation from a seeded ChaCha8 stream: `W[l]` entries uniform in
    /// `±√(6 / n[l−1])` (variance `2/n[l−1]`, the ReLU-friendly scale), biases 0.
    pub fn init(seed: u64) -> Params {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut w = Vec::new();
        for l in 1..DIMS.len() {
            let a = (6.0 / DIMS[l - 1] as f64).sqrt();
            w.push(
                (0..DIMS[l])
                    .map(|_| (0..DIMS[l - 1]).map(|_| rng.random_range(-a..a)).collect())
                    .collect(),
            );
        }
        let b = DIMS[1..].iter().map(|&n| vec![0.0; n]).collect();
        Params { w, b }
    }

    /// Every parameter in one list: layer by layer, each neuron's weights then its bias.
    fn flat(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for (w, b) in self.w.iter().zip(&self.b) {
            for (row, bi) in w.iter().zip(b) {
                out.extend(row);
                out.push(*bi);
            }
        }
        out
    }
}

/// The moons data: `X` as a `2 × m` matrix (one column per example) and labels in {0, 1}
/// (the file's −1/+1).
pub fn load_moons() -> (Matrix, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/moons.csv");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut x = vec![Vec::new(), Vec::new()];
    let mut y = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("{path}:{}: {e}", n + 1))
            })
            .collect();
        assert_eq!(f.len(), 3, "{path}:{}: expected x1,x2,label", n + 1);
        x[0].push(f[0]);
        x[1].push(f[1]);
        y.push(if f[2] > 0.0 { 1.0 } else { 0.0 });
    }
    (x, y)
}

/// Gradients of the mean cross-entropy, arranged as the seed arranges them (per layer `l`
/// = 1..L, stored at index `l − 1`). `dz` and `da` are per-example derivatives (the seed's
/// `dZ`, `dA`, without the `1/m`).
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// The cost `J = −(1/m) Σ [y ln a + (1 − y) ln(1 − a)]`.
    pub cost: f64,
    /// `dW[l]`.
    pub dw: Vec<Matrix>,
    /// `db[l]`.
    pub db: Vec<Vec<f64>>,
    /// `dZ[l]`, `n[l] × m`.
    pub dz: Vec<Matrix>,
    /// `dA[l]`, `n[l] × m`.
    pub da: Vec<Matrix>,
}

/// The engine: every `Z[l][i][j]` is one neuron node `b + Σ w·a` ([`Graph::affine`]), then
/// relu or sigmoid, then the cost; one `backward()`. The engine's gradient on the nodes
/// `Z[l]`, `A[l]` is `∂J/∂·`, which carries the `1/m` of the mean; times `m` it is the
/// seed's per-example `dZ`, `dA`.
pub fn engine_grads(p: &Params, x: &Matrix, y: &[f64]) -> Grads {
    let g = Graph::new();
    let m = y.len();
    let w: Vec<Vec<Vec<Var<'_>>>> =
        p.w.iter()
            .map(|w| {
                w.iter()
                    .map(|row| row.iter().map(|&v| g.var(v)).collect())
                    .collect()
            })
            .collect();
    let b: Vec<Vec<Var<'_>>> =
        p.b.iter()
            .map(|b| b.iter().map(|&v| g.var(v)).collect())
            .collect();
    // Activations per example (column): a[j] = the current layer's outputs for example j.
    let mut a: Vec<Vec<Var<'_>>> = (0..m)
        .map(|j| vec![g.constant(x[0][j]), g.constant(x[1][j])])
        .collect();
    let layers = w.len();
    let (mut zs, mut as_) = (Vec::new(), Vec::new());
    for l in 0..layers {
        let z: Vec<Vec<Var<'_>>> = a
            .iter()
            .map(|col| {
                (0..w[l].len())
                    .map(|i| g.affine(b[l][i], &w[l][i], col))
                    .collect()
            })
            .collect();
        a = z
            .iter()
            .map(|col| {
                col.iter()
                    .map(|&z| {
                        if l + 1 == layers {
                            z.sigmoid()
                        } else {
                            z.relu()
                        }
                    })
                    .collect()
            })
            .collect();
        zs.push(z);
        as_.push(a.clone());
    }
    // J = −(1/m) Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]
    let terms: Vec<Var<'_>> = a
        .iter()
        .zip(y)
        .map(|(col, &yj)| col[0].ln() * yj + (1.0 - col[0]).ln() * (1.0 - yj))
        .collect();
    let cost = -g.sum(&terms) / m as f64;
    cost.backward();

    let grid = |nodes: &Vec<Vec<Var<'_>>>| -> Matrix {
        // nodes[j][i] (example j, unit i) → matrix[i][j], times m.
        (0..nodes[0].len())
            .map(|i| nodes.iter().map(|col| col[i].grad() * m as f64).collect())
            .collect()
    };
    Grads {
        cost: cost.value(),
        dw: w
            .iter()
            .map(|w| {
                w.iter()
                    .map(|row| row.iter().map(|v| v.grad()).collect())
                    .collect()
            })
            .collect(),
        db: b
            .iter()
            .map(|b| b.iter().map(|v| v.grad()).collect())
            .collect(),
        dz: zs.iter().map(grid).collect(),
        da: as_.iter().map(grid).collect(),
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The seed's vectorised forward and backward passes on plain matrices.
pub fn vectorised_grads(p: &Params, x: &Matrix, y: &[f64]) -> Grads {
    let m = y.len();
    let layers = p.w.len();
    // Forward, keeping the cache: Z[l] = W[l]·A[l−1] + b[l], A[l] = g(Z[l]).
    let mut a_prev: Vec<Matrix> = vec![x.clone()]; // A[0] = X
    let mut z_cache: Vec<Matrix> = Vec::new();
    for l in 0..layers {
        let a = &a_prev[l];
        let z: Matrix = p.w[l]
            .iter()
            .zip(&p.b[l])
            .map(|(row, &bi)| {
                (0..m)
                    .map(|j| row.iter().zip(a).map(|(w, ak)| w * ak[j]).sum::<f64>() + bi)
                    .collect()
            })
            .collect();
        let out = z
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&v| {
                        if l + 1 == layers {
                            sigmoid(v)
                        } else {
                            v.max(0.0)
                        }
                    })
                    .collect()
            })
            .collect();
        z_cache.push(z);
        a_prev.push(out);
    }
    let a_out = &a_prev[layers][0];
    let cost = -a_out
        .iter()
        .zip(y)
        .map(|(&a, &y)| y * a.ln() + (1.0 - y) * (1.0 - a).ln())
        .sum::<f64>()
        / m as f64;

    // Backward: dA[L] = −y/a + (1 − y)/(1 − a).
    let mut da: Matrix = vec![a_out
        .iter()
        .zip(y)
        .map(|(&a, &y)| -y / a + (1.0 - y) / (1.0 - a))
        .collect()];
    let (mut dws, mut dbs, mut dzs, mut das) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for l in (0..layers).rev() {
        // dZ[l] = dA[l] ⊙ g'(Z[l]): sigmoid' = a(1 − a); relu' = 1 where Z > 0.
        let dz: Matrix = (0..da.len())
            .map(|i| {
                (0..m)
                    .map(|j| {
                        let z = z_cache[l][i][j];
                        if l + 1 == layers {
                            let s = a_prev[l + 1][i][j];
                            da[i][j] * (s * (1.0 - s))
                        } else if z > 0.0 {
                            da[i][j]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        // dW[l] = dZ[l]·A[l−1]ᵀ / m
        let dw: Matrix = dz
            .iter()
            .map(|dzi| {
                a_prev[l]
                    .iter()
                    .map(|ak| dzi.iter().zip(ak).map(|(d, a)| d * a).sum::<f64>() / m as f64)
                    .collect()
            })
            .collect();
        // db[l] = mean of dZ[l] over the examples
        let db: Vec<f64> = dz
            .iter()
            .map(|r| r.iter().sum::<f64>() / m as f64)
            .collect();
        // dA[l−1] = W[l]ᵀ·dZ[l]
        let da_prev: Matrix = (0..p.w[l][0].len())
            .map(|k| {
                (0..m)
                    .map(|j| (0..dz.len()).map(|i| p.w[l][i][k] * dz[i][j]).sum())
                    .collect()
            })
            .collect();
        das.push(std::mem::replace(&mut da, da_prev));
        dws.push(dw);
        dbs.push(db);
        dzs.push(dz);
    }
    dws.reverse();
    dbs.reverse();
    dzs.reverse();
    das.reverse();
    Grads {
        cost,
        dw: dws,
        db: dbs,
        dz: dzs,
        da: das,
    }
}

/// `max |engine − formula| / max |formula|` over one array.
fn relative_gap<'a>(
    e: impl Iterator<Item = &'a f64>,
    r: impl Iterator<Item = &'a f64> + Clone,
) -> f64 {
    let scale = r
        .clone()
        .fold(0.0f64, |s, v| s.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    e.zip(r).fold(0.0f64, |s, (a, b)| s.max((a - b).abs())) / scale
}

/// For `dW`, `db`, `dZ`, `dA` in turn: the largest per-layer relative gap between the
/// engine and the seed's formulas.
pub fn compare(e: &Grads, r: &Grads) -> [f64; 4] {
    let mats = |a: &[Matrix], b: &[Matrix]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| relative_gap(x.iter().flatten(), y.iter().flatten()))
            .fold(0.0, f64::max)
    };
    let db =
        e.db.iter()
            .zip(&r.db)
            .map(|(x, y)| relative_gap(x.iter(), y.iter()))
            .fold(0.0, f64::max);
    [
        mats(&e.dw, &r.dw),
        db,
        mats(&e.dz, &r.dz),
        mats(&e.da, &r.da),
    ]
}

/// The fraction of examples classified right (`a > 0.5` ⇔ label 1).
pub fn accuracy(p: &Params, x: &Matrix, y: &[f64]) -> f64 {
    let layers = p.w.len();
    let mut a = x.clone();
    for l in 0..layers {
        a = p.w[l]
            .iter()
            .zip(&p.b[l])
            .map(|(row, &bi)| {
                (0..y.len())
                    .map(|j| {
                        let z = row.iter().zip(&a).map(|(w, ak)| w * ak[j]).sum::<f64>() + bi;
                        if l + 1 == layers {
                            sigmoid(z)
                        } else {
                            z.max(0.0)
                        }
                    })
                    .collect()
            })
            .collect();
    }
    let right = a[0]
        .iter()
        .zip(y)
        .filter(|&(&a, &y)| (a > 0.5) == (y == 1.0))
        .count();
    right as f64 / y.len() as f64
}

/// One report line of training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// Step (before its update).
    pub step: usize,
    /// Cost at that step.
    pub cost: f64,
    /// Accuracy at that step.
    pub accuracy: f64,
}

/// Full-batch gradient descent with the engine's gradients: `W -= lr·dW`, `b -= lr·db`.
/// Reports every `every` steps and after the last.
pub fn train(
    mut p: Params,
    x: &Matrix,
    y: &[f64],
    steps: usize,
    every: usize,
) -> (Params, Vec<Report>) {
    let mut log = Vec::new();
    for step in 0..steps {
        let g = engine_grads(&p, x, y);
        if step % every == 0 {
            log.push(Report {
                step,
                cost: g.cost,
                accuracy: accuracy(&p, x, y),
            });
        }
        for l in 0..p.w.len() {
            for (row, drow) in p.w[l].iter_mut().zip(&g.dw[l]) {
                for (w, d) in row.iter_mut().zip(drow) {
                    *w -= LR * d;
                }
            }
            for (b, d) in p.b[l].iter_mut().zip(&g.db[l]) {
                *b -= LR * d;
            }
        }
    }
    let g = engine_grads(&p, x, y);
    log.push(Report {
        step: steps,
        cost: g.cost,
        accuracy: accuracy(&p, x, y),
    });
    (p, log)
}

fn main() {
    let (x, y) = load_moons();
    let p = Params::init(SEED);
    println!(
        "two moons: {} examples; network {DIMS:?} (ReLU, ReLU, sigmoid), {} parameters, seed {SEED}",
        y.len(),
        p.flat().len()
    );

    let report = |label: &str, p: &Params| {
        let (e, r) = (engine_grads(p, &x, &y), vectorised_grads(p, &x, &y));
        let [dw, db, dz, da] = compare(&e, &r);
        println!(
            "{label}: cost engine {:.15} vs formulas {:.15}; largest relative gaps: dW {dw:.1e}, db {db:.1e}, dZ {dz:.1e}, dA {da:.1e}",
            e.cost, r.cost
        );
    };
    report("initial weights", &p);

    let (trained, log) = train(p, &x, &y, STEPS, 100);
    for r in &log {
        println!(
            "step {:>4}: cost {:.6}, accuracy {:.0}%",
            r.step,
            r.cost,
            100.0 * r.accuracy
        );
    }
    report("after training", &trained);
}
