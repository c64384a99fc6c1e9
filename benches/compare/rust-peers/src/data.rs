//! W1 inputs: the moons data set and the MLP(2,[16,16,1]) initial parameters.

use std::path::PathBuf;

/// One sample: inputs and label (±1).
pub struct Sample {
    pub x: [f64; 2],
    pub y: f64,
}

/// A dense layer: `w[j]` = input weights of neuron j, `b[j]` its bias.
#[derive(Clone)]
pub struct Layer {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub relu: bool,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../data")
}

pub fn moons() -> Vec<Sample> {
    let text = std::fs::read_to_string(data_dir().join("moons.csv")).expect("data/moons.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|s| s.trim().parse().unwrap()).collect();
            Sample {
                x: [f[0], f[1]],
                y: f[2],
            }
        })
        .collect()
}

pub fn init() -> Vec<Layer> {
    let text = std::fs::read_to_string(data_dir().join("moons_mlp_init.json")).expect("init json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Layer {
            w: l["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap())
                        .collect()
                })
                .collect(),
            b: l["biases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect(),
            relu: l["relu"].as_bool().unwrap(),
        })
        .collect()
}

/// Parameters in micrograd's order: layer by layer, neuron by neuron, `w_0..w_{nin-1}, b`.
pub fn flatten(layers: &[Layer]) -> Vec<f64> {
    let mut p = Vec::new();
    for l in layers {
        for (w, b) in l.w.iter().zip(&l.b) {
            p.extend_from_slice(w);
            p.push(*b);
        }
    }
    p
}

/// Layer shapes `(nin, nout, relu)`.
pub fn shapes(layers: &[Layer]) -> Vec<(usize, usize, bool)> {
    layers
        .iter()
        .map(|l| (l.w[0].len(), l.w.len(), l.relu))
        .collect()
}

pub fn lr(k: usize) -> f64 {
    1.0 - (0.9 * k as f64) / 100.0
}

/// W2 leaf values.
pub fn w2_w(k: usize) -> f64 {
    0.5 + 0.001 * (k % 7) as f64
}
pub fn w2_b(k: usize) -> f64 {
    0.01 * (k % 5) as f64
}
/// W3 leaf values.
pub fn w3_a(i: usize) -> f64 {
    (i % 10) as f64 * 0.1
}
pub fn w3_b(i: usize) -> f64 {
    1.0 - (i % 3) as f64 * 0.2
}
