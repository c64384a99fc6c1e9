//! Memory stays flat in the patterns users write with `Value` (micrograd's): the demo loop,
//! a loss kept per step in a list (its graph lives, as in micrograd), and a value kept across
//! steps that was computed mid-step. Measured by what memory is proportional to:
//! `Value::graph_len()` (positions on the thread's graph, 28 bytes each) and
//! `Value::live_nodes()`. The 10,000-step versions are `#[ignore]`d:
//! `cargo test --release --test value_memory -- --ignored`.

use scalargrad::Value;

/// micrograd's `MLP(2, [16, 16, 1])` on `Value`, weights from a fixed generator.
struct Mlp {
    layers: Vec<Vec<(Vec<Value>, Value)>>,
}

impl Mlp {
    fn new() -> Self {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let sizes = [2, 16, 16, 1];
        let layers = sizes
            .windows(2)
            .map(|w| {
                (0..w[1])
                    .map(|_| {
                        (
                            (0..w[0]).map(|_| Value::new(uniform())).collect(),
                            Value::new(0.0),
                        )
                    })
                    .collect()
            })
            .collect();
        Mlp { layers }
    }

    fn forward(&self, x: &[f64]) -> Value {
        let mut h: Vec<Value> = x.iter().map(|&v| Value::constant(v)).collect();
        for (l, layer) in self.layers.iter().enumerate() {
            let last = l + 1 == self.layers.len();
            h = layer
                .iter()
                .map(|(w, b)| {
                    // micrograd's neuron: one node per `*` and `+`
                    let mut act = b.clone();
                    for (wi, xi) in w.iter().zip(&h) {
                        act += wi * xi;
                    }
                    if last {
                        act
                    } else {
                        act.relu()
                    }
                })
                .collect();
        }
        h.remove(0)
    }

    fn parameters(&self) -> Vec<&Value> {
        self.layers
            .iter()
            .flatten()
            .flat_map(|(w, b)| w.iter().chain(std::iter::once(b)))
            .collect()
    }
}

const DATA: [([f64; 2], f64); 4] = [
    ([1.12, 0.08], -1.0),
    ([-0.82, 0.06], -1.0),
    ([0.3, -0.4], 1.0),
    ([1.7, -0.2], 1.0),
];

/// One step of micrograd's demo: hinge loss over the data, backward, SGD; returns the loss.
fn step(model: &Mlp, k: usize) -> Value {
    let losses: Vec<Value> = DATA
        .iter()
        .map(|(x, y)| (1.0 + -*y * model.forward(x)).relu())
        .collect();
    let loss = Value::sum(&losses) * (1.0 / DATA.len() as f64);
    for p in model.parameters() {
        p.set_grad(0.0);
    }
    loss.backward();
    let lr = 1.0 - 0.9 * k as f64 / 100.0;
    for p in model.parameters() {
        p.set_data(p.data() - lr * 0.05 * p.grad());
    }
    loss
}

fn demo_loop_is_flat(steps: usize) {
    let base = (Value::graph_len(), Value::live_nodes());
    let model = Mlp::new();
    let params = model.parameters().len();
    assert_eq!(params, 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    let mut first = None;
    let mut losses = Vec::new();
    for k in 0..steps {
        losses.push(step(&model, k % 100).data());
        // the step's nodes are gone: only the parameters are left
        let now = (Value::graph_len() - base.0, Value::live_nodes() - base.1);
        assert_eq!(now, (params, params), "step {k}");
        first.get_or_insert(now);
    }
    assert!(
        losses[steps - 1] < losses[0],
        "{} → {}",
        losses[0],
        losses[steps - 1]
    );
}

fn losses_kept_in_a_list_hold_only_their_graphs(steps: usize) {
    let (base, live_base) = (Value::graph_len(), Value::live_nodes());
    let model = Mlp::new();
    let mut kept = Vec::new();
    let mut per_step = None;
    for k in 0..steps {
        let before = Value::graph_len();
        kept.push(step(&model, k % 100));
        let grew = Value::graph_len() - before;
        // every step keeps the same graph: growth is linear, no garbage accumulates
        assert_eq!(*per_step.get_or_insert(grew), grew, "step {k}");
        // and every position held is a live node: no garbage under the kept graphs
        assert_eq!(
            Value::graph_len() - base,
            Value::live_nodes() - live_base,
            "step {k}"
        );
    }
    drop(kept);
    drop(model);
    assert_eq!(Value::graph_len(), base);
}

fn a_value_kept_from_mid_step_stays_small(steps: usize) {
    let base = Value::graph_len();
    let model = Mlp::new();
    // a hidden unit's output from the first step, kept for good
    let (w, b) = &model.layers[0][3];
    let x = Value::constant(0.5);
    let kept = (b + &w[0] * &x).relu();
    let _ = step(&model, 0);
    let after_first = Value::graph_len();
    for k in 1..steps {
        let _ = step(&model, k % 100);
        assert_eq!(Value::graph_len(), after_first, "step {k}");
    }
    assert!(kept.data() >= 0.0);
    drop((kept, x, model));
    assert_eq!(Value::graph_len(), base);
}

#[test]
fn the_demo_loop_keeps_graph_and_live_nodes_flat() {
    demo_loop_is_flat(30);
}

#[test]
fn losses_kept_per_step_grow_by_their_graphs_only() {
    losses_kept_in_a_list_hold_only_their_graphs(20);
}

#[test]
fn a_value_kept_across_steps_does_not_hold_the_steps_after_it() {
    a_value_kept_from_mid_step_stays_small(30);
}

#[test]
#[ignore = "10,000 steps: cargo test --release --test value_memory -- --ignored"]
fn ten_thousand_demo_steps() {
    demo_loop_is_flat(10_000);
    a_value_kept_from_mid_step_stays_small(10_000);
}
