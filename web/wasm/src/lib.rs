//! scalargrad in the browser: the engine compiled to WebAssembly behind a small raw
//! `extern "C"` interface that `web/app.js` calls (no wasm-bindgen).
//!
//! # The interface
//! Text goes in through one buffer and comes out through another, both in the module's
//! linear memory, so no export needs `unsafe`:
//! - JS asks [`sg_input`] for a buffer of `n` bytes, writes UTF-8 there, then calls the export
//!   that reads it ([`sg_load`]).
//! - Every export that answers writes JSON into the output buffer and returns its length;
//!   JS reads it at [`sg_output_ptr`]. Numbers that are not finite are JSON strings
//!   (`"NaN"`, `"Infinity"`, `"-Infinity"`), which JS's `Number()` reads back.
//!
//! A panic (a bug: bad input is an error answer, never a panic) traps the module; its
//! message is kept for [`sg_panic_message`], and the page starts a fresh instance.
//!
//! # The page's two parts
//! - A program in the page's little language ([`parse`]) recorded in a graph ([`model`]):
//!   values, gradients, and the reverse pass replayed edge by edge with the local
//!   derivatives the engine computes.
//! - micrograd's moons demo ([`net`], with the page's controls): one training step per
//!   call, the network's weights, and every neuron's output on a grid.

#![deny(missing_docs)]

pub mod model;
pub mod net;
pub mod parse;
pub mod presets;
pub mod pyfmt;

use std::cell::RefCell;

use scalargrad::nn::moons::{self, Start};
use scalargrad::Graph;
use serde_json::{json, Value};

use model::{Kind, Model};
use net::{Data, Settings, Trainer};

thread_local! {
    /// The graph of the drawn program; cleared and reused for every new program. Leaked
    /// once so that handles into it can live in `STATE` (`Var<'static>`).
    static GRAPH: &'static Graph = Box::leak(Box::new(Graph::new()));
    /// Where local derivatives are computed, one op at a time.
    static SCRATCH: &'static Graph = Box::leak(Box::new(Graph::new()));
    /// The moons demo's graph.
    static MOONS: &'static Graph = Box::leak(Box::new(Graph::new()));
    static STATE: RefCell<State> = RefCell::new(State::default());
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static GRID: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

#[derive(Default)]
struct State {
    model: Option<Model<'static>>,
    /// Whether gradients are shown: then moving a leaf reruns `backward`.
    backward: bool,
    demo: Option<Trainer<'static>>,
}

fn graph() -> &'static Graph {
    GRAPH.with(|g| *g)
}

fn scratch() -> &'static Graph {
    SCRATCH.with(|g| *g)
}

fn moons_graph() -> &'static Graph {
    MOONS.with(|g| *g)
}

/// A number for JSON: finite numbers as numbers, others as the strings JS's `Number()` reads.
pub fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v.is_nan() {
        json!("NaN")
    } else if v > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

fn answer(v: Value) -> usize {
    let text = v.to_string();
    OUTPUT.with(|o| {
        let mut o = o.borrow_mut();
        o.clear();
        o.extend_from_slice(text.as_bytes());
        o.len()
    })
}

fn error(message: impl Into<String>) -> usize {
    answer(json!({ "ok": false, "error": { "message": message.into() } }))
}

/// The drawn graph as JSON: every node with its op, inputs, value and gradient; what the
/// program prints; and, if a value or gradient is NaN or ±∞, which op made the first one and
/// why (`non_finite`).
pub fn graph_json(model: &Model<'_>, backward: bool) -> Value {
    let ancestors = model.ancestors();
    let nodes: Vec<Value> = model
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({
                "id": i,
                "name": n.name,
                "op": n.kind.name(),
                "kind": match n.kind { Kind::Var => "var", Kind::Const => "const", _ => "op" },
                "rule": n.kind.rule(),
                "inputs": n.inputs,
                "value": num(n.var.value()),
                "grad": num(n.var.grad()),
                "tracked": n.var.is_tracked(),
                "ancestor": ancestors[i],
                "offset": n.offset,
            })
        })
        .collect();
    let mut non_finite = Vec::new();
    if let Some(f) = model.first_non_finite_value() {
        non_finite.push(f);
    }
    if backward {
        let b = model.backward(scratch());
        if let Some(f) = model.first_non_finite_grad(&b) {
            non_finite.push(f);
        }
    }
    let non_finite: Vec<Value> = non_finite
        .into_iter()
        .map(|f| json!({ "node": f.node, "gradient": f.gradient, "message": f.message }))
        .collect();
    json!({
        "ok": true, "root": model.root, "backward": backward, "nodes": nodes,
        "calls_backward": model.calls_backward, "printed": model.printed(),
        "non_finite": non_finite,
    })
}

/// Installs the panic hook that keeps the message for [`sg_panic_message`].
#[no_mangle]
pub extern "C" fn sg_init() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANIC.with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                *p = info.to_string();
            }
        });
        previous(info);
    }));
}

/// Panics on purpose, so that the browser test can check that a trapped module is reported
/// and replaced (no page calls it otherwise).
#[no_mangle]
pub extern "C" fn sg_test_trap() -> usize {
    panic!("sg_test_trap: a deliberate panic to test the page's recovery")
}

/// Makes the input buffer `len` bytes long and returns where it starts.
#[no_mangle]
pub extern "C" fn sg_input(len: usize) -> *mut u8 {
    INPUT.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr()
    })
}

/// Where the last answer starts (valid until the next call).
#[no_mangle]
pub extern "C" fn sg_output_ptr() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}

/// The message of the panic that trapped the module, as the answer.
#[no_mangle]
pub extern "C" fn sg_panic_message() -> usize {
    let msg = PANIC.with(|p| p.borrow().clone());
    answer(json!({ "message": msg }))
}

/// The presets as the answer: `[{key, title, source}]`.
#[no_mangle]
pub extern "C" fn sg_presets() -> usize {
    let list: Vec<Value> = presets::ALL
        .iter()
        .map(|(key, title, source)| json!({ "key": key, "title": title, "source": source }))
        .collect();
    answer(json!(list))
}

/// Parses the input buffer as a program and records it in a cleared graph. Answers the
/// graph ([`graph_json`], gradients all 0) or `{ok: false, error: {message, line, column,
/// offset}}`.
#[no_mangle]
pub extern "C" fn sg_load() -> usize {
    let src = INPUT.with(|b| String::from_utf8_lossy(&b.borrow()).into_owned());
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.model = None; // its handles die with the graph's nodes
        s.backward = false;
        graph().clear();
        match Model::build(graph(), &src) {
            Ok(m) => {
                let out = answer(graph_json(&m, false));
                s.model = Some(m);
                out
            }
            Err(e) => {
                graph().clear();
                answer(json!({ "ok": false, "error": {
                    "message": e.to_string(), "line": e.line, "column": e.column, "offset": e.offset,
                }}))
            }
        }
    })
}

/// The current graph as the answer.
#[no_mangle]
pub extern "C" fn sg_graph() -> usize {
    STATE.with(|s| {
        let s = s.borrow();
        match &s.model {
            Some(m) => answer(graph_json(m, s.backward)),
            None => error("no graph is loaded"),
        }
    })
}

/// Sets leaf `node` to `value`, recomputes every value, and, if gradients are shown, runs
/// `backward` again. Answers the graph.
#[no_mangle]
pub extern "C" fn sg_set_leaf(node: u32, value: f64) -> usize {
    STATE.with(|s| {
        let s = s.borrow();
        let Some(m) = &s.model else {
            return error("no graph is loaded");
        };
        let i = node as usize;
        if m.nodes.get(i).map(|n| n.kind) != Some(Kind::Var) {
            return error(format!("node {node} is not a leaf with a gradient"));
        }
        m.set_leaf(i, value);
        if s.backward {
            m.engine_backward();
        }
        answer(graph_json(m, s.backward))
    })
}

/// Runs the engine's `backward` from the root and replays it step by step. Answers
/// `{graph, steps: [{node, grad, edges: [{from, local, product, tracked}]}], replayed,
/// engine, max_rel_diff}`.
#[no_mangle]
pub extern "C" fn sg_backward() -> usize {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(m) = &s.model else {
            return error("no graph is loaded");
        };
        let b = m.backward(scratch());
        let steps: Vec<Value> = b
            .steps
            .iter()
            .map(|st| {
                let edges: Vec<Value> = st
                    .edges
                    .iter()
                    .map(|e| {
                        json!({
                            "from": e.from, "local": num(e.local),
                            "product": num(e.product), "tracked": e.tracked,
                        })
                    })
                    .collect();
                json!({ "node": st.node, "grad": num(st.grad), "edges": edges })
            })
            .collect();
        let out = json!({
            "ok": true,
            "graph": graph_json(m, true),
            "steps": steps,
            "replayed": b.replayed.iter().map(|&v| num(v)).collect::<Vec<_>>(),
            "engine": b.engine.iter().map(|&v| num(v)).collect::<Vec<_>>(),
            "max_rel_diff": num(b.max_rel_diff),
        });
        s.backward = true;
        answer(out)
    })
}

/// Sets every gradient back to 0 and stops rerunning `backward` when a leaf moves.
#[no_mangle]
pub extern "C" fn sg_zero_grad() -> usize {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.backward = false;
        graph().zero_grad();
        match &s.model {
            Some(m) => answer(graph_json(m, false)),
            None => error("no graph is loaded"),
        }
    })
}

fn settings_from(v: &Value) -> Result<Settings, String> {
    let d = Settings::default();
    let f = |key: &str, default: f64| v.get(key).and_then(Value::as_f64).unwrap_or(default);
    let hidden = match v.get("hidden").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .map(|w| {
                w.as_u64()
                    .map(|w| w as usize)
                    .ok_or("hidden sizes are whole numbers")
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => d.hidden,
    };
    let data = match v.get("noise").and_then(Value::as_f64) {
        Some(noise) => Data::Generated {
            noise,
            seed: f("data_seed", 1.0).max(0.0) as u64,
        },
        None => Data::File,
    };
    let start = match f("start", -1.0) {
        s if s < 0.0 => Start::InitFile,
        s => Start::Random(s as u64),
    };
    let s = Settings {
        hidden,
        learning_rate: f("learning_rate", d.learning_rate),
        l2: f("l2", d.l2),
        data,
        start,
    };
    s.check()?;
    Ok(s)
}

/// The network's weights: `{sizes, layers: [[{w: [..], b}]]}`.
fn net_json(t: &Trainer<'_>) -> Value {
    let layers: Vec<Value> = t
        .mlp()
        .layers()
        .iter()
        .map(|l| {
            l.neurons()
                .iter()
                .map(|n| {
                    json!({
                        "w": n.weights().iter().map(|w| num(w.value())).collect::<Vec<_>>(),
                        "b": num(n.bias().map_or(0.0, |b| b.value())),
                    })
                })
                .collect()
        })
        .collect();
    json!({ "sizes": t.mlp().sizes(), "layers": layers })
}

/// Starts the moons demo afresh with the settings in the input buffer, as JSON
/// `{hidden: [16, 16], learning_rate: 1, l2: 1e-4, noise: 0.1 | null, data_seed: 1,
/// start: -1 | seed}` (missing keys take micrograd's values; `noise: null` is micrograd's
/// points file, `start: -1` its initial weights). Answers `{points: [[x, y, label]], loss,
/// accuracy, steps, parameters, start, net}` or an error naming the bad setting.
#[no_mangle]
pub extern "C" fn sg_moons_reset() -> usize {
    let text = INPUT.with(|b| String::from_utf8_lossy(&b.borrow()).into_owned());
    let v: Value = if text.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return error(format!("the settings are not JSON: {e}")),
        }
    };
    let settings = match settings_from(&v) {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.demo = None;
        moons_graph().clear();
        let demo = Trainer::new(moons_graph(), &settings);
        let (loss, accuracy) = demo.evaluate();
        let points: Vec<Value> = demo
            .data
            .inputs
            .iter()
            .zip(&demo.data.labels)
            .map(|(x, y)| json!([x[0], x[1], y]))
            .collect();
        let out = answer(json!({
            "ok": true, "points": points, "loss": num(loss), "accuracy": accuracy,
            "steps": moons::STEPS, "parameters": demo.mlp().parameters().len(),
            "start": match demo.start { Start::InitFile => -1, Start::Random(seed) => seed as i64 },
            "net": net_json(&demo),
        }));
        s.demo = Some(demo);
        out
    })
}

/// One training step of the moons demo. Answers `{k, loss, accuracy, learning_rate, net}`
/// (the loss and accuracy of the step's forward pass, before its update; the weights after).
#[no_mangle]
pub extern "C" fn sg_moons_step() -> usize {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(demo) = &mut s.demo else {
            return error("the moons demo is not started");
        };
        let st = demo.step();
        answer(json!({
            "ok": true, "k": st.k, "loss": num(st.loss), "accuracy": st.accuracy,
            "learning_rate": st.learning_rate, "net": net_json(demo),
        }))
    })
}

/// Every neuron's output on an `n × n` grid over `[x0, x1] × [y0, y1]` (row by row from
/// `y0`; neuron `j` — hidden layers first, the output neuron last — at `j·n²`), as f64s;
/// returns where they start (valid until the next call), or null if the demo is not
/// started or `n` is 0 or above 400. The last `n²` numbers are the network's score.
#[no_mangle]
pub extern "C" fn sg_moons_grid(n: u32, x0: f64, x1: f64, y0: f64, y1: f64) -> *const f64 {
    STATE.with(|s| {
        let s = s.borrow();
        let Some(demo) = &s.demo else {
            return std::ptr::null();
        };
        if n == 0 || n > 400 {
            return std::ptr::null();
        }
        GRID.with(|g| {
            let mut g = g.borrow_mut();
            *g = demo.neuron_grid(n as usize, x0, x1, y0, y1);
            g.as_ptr()
        })
    })
}

/// A numerical check of one leaf's gradient: the output at `x − h`, `x` and `x + h` (the
/// leaf's value put back after), the forward difference `(f(x+h) − f(x))/h`, the central
/// one `(f(x+h) − f(x−h))/2h`, and the engine's gradient ∂output/∂leaf from `backward`.
/// Gradients shown on the page stay as they were.
#[no_mangle]
pub extern "C" fn sg_nudge(node: u32, h: f64) -> usize {
    STATE.with(|s| {
        let s = s.borrow();
        let Some(m) = &s.model else {
            return error("no graph is loaded");
        };
        let i = node as usize;
        if m.nodes.get(i).map(|n| n.kind) != Some(Kind::Var) {
            return error(format!("node {node} is not a leaf with a gradient"));
        }
        if !(h.is_finite() && h != 0.0) {
            return error("h must be a finite number other than 0");
        }
        let x = m.nodes[i].var.value();
        let out = |v: f64| {
            m.set_leaf(i, v);
            m.nodes[m.root].var.value()
        };
        let (up, down) = (out(x + h), out(x - h));
        let f0 = out(x);
        m.engine_backward();
        let grad = m.nodes[i].var.grad();
        if !s.backward {
            graph().zero_grad();
        }
        answer(json!({
            "ok": true, "x": num(x), "h": num(h), "f0": num(f0), "f_plus": num(up), "f_minus": num(down),
            "forward": num((up - f0) / h), "central": num((up - down) / (2.0 * h)), "grad": num(grad),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output() -> Value {
        let bytes = OUTPUT.with(|o| o.borrow().clone());
        serde_json::from_slice(&bytes).unwrap()
    }

    fn load(src: &str) -> Value {
        let p = sg_input(src.len());
        assert!(!p.is_null());
        INPUT.with(|b| b.borrow_mut().copy_from_slice(src.as_bytes()));
        sg_load();
        output()
    }

    #[test]
    fn the_interface_end_to_end() {
        sg_init();
        let g = load(presets::APPLE);
        assert_eq!(g["ok"], true);
        let price = g["nodes"][g["root"].as_u64().unwrap() as usize]["value"].as_f64();
        assert!((price.unwrap() - 220.0).abs() < 1e-12);
        sg_backward();
        let b = output();
        assert_eq!(b["graph"]["nodes"][0]["grad"], 2.2);
        assert_eq!(b["max_rel_diff"], 0.0);
        // dragging apple to 50 reruns backward: count's gradient is 50·1.1
        sg_set_leaf(0, 50.0);
        let g = output();
        assert_eq!(g["nodes"][4]["value"], 50.0 * 2.0 * 1.1); // (apple·count)·tax
        assert_eq!(g["nodes"][1]["grad"], 50.0 * 1.1);
        sg_set_leaf(3, 1.0);
        assert!(output()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a leaf"));
        let e = load("(a*b + c");
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["column"], 9);
        assert_eq!(load("x = 0; y = x.ln()")["nodes"][1]["value"], "-Infinity");
        sg_presets();
        assert_eq!(output().as_array().unwrap().len(), presets::ALL.len());
        // ln(-1) and 1/0 come with a sentence naming the op
        let g = load("a = -1\nb = a.ln()");
        assert_eq!(g["nodes"][1]["value"], "NaN");
        let why = g["non_finite"][0]["message"].as_str().unwrap();
        assert!(why.contains("`b` (ln) is NaN"), "{why}");
        let g = load("q = 1 / 0");
        assert!(g["non_finite"][0]["message"]
            .as_str()
            .unwrap()
            .contains("division by zero"));
        // the numerical check: x² at 3 has gradient 6; the central difference agrees
        load("x = 3\ny = x * x");
        sg_nudge(0, 1e-4);
        let n = output();
        assert_eq!(n["grad"], 6.0);
        assert!((n["central"].as_f64().unwrap() - 6.0).abs() < 1e-8);
        assert!((n["forward"].as_f64().unwrap() - 6.0001).abs() < 1e-8);
        sg_graph();
        assert_eq!(output()["nodes"][0]["value"], 3.0); // put back
        assert_eq!(output()["nodes"][0]["grad"], 0.0); // gradients not shown: still 0
                                                       // a pasted program that calls backward and prints
        let g = load(parse::tests::README);
        assert_eq!(g["calls_backward"], true);
        assert_eq!(g["printed"][0], "24.7041");
    }

    fn input(text: &str) {
        sg_input(text.len());
        INPUT.with(|b| b.borrow_mut().copy_from_slice(text.as_bytes()));
    }

    #[test]
    fn moons_through_the_interface() {
        input("{}");
        sg_moons_reset();
        let r = output();
        assert_eq!(r["points"].as_array().unwrap().len(), 100);
        assert_eq!(r["loss"], moons::LOSS_STEP_0);
        sg_moons_step();
        assert_eq!(output()["loss"], moons::LOSS_STEP_0);
        for _ in 1..20 {
            sg_moons_step();
        }
        assert_eq!(output()["k"], 19);
        assert!(output()["loss"].as_f64().unwrap() < 0.5 * moons::LOSS_STEP_0);
        let p = sg_moons_grid(3, -1.0, 1.0, -1.0, 1.0);
        assert!(!p.is_null());
        let grid = GRID.with(|g| g.borrow().clone());
        assert_eq!(grid.len(), 33 * 9);
        let spec = STATE.with(|s| s.borrow().demo.as_ref().unwrap().mlp().to_spec());
        assert_eq!(grid[32 * 9 + 5], spec.predict(&[1.0, 0.0])[0]);
        assert!(sg_moons_grid(0, 0.0, 1.0, 0.0, 1.0).is_null());
        // the controls
        input(
            r#"{"hidden": [3, 2], "learning_rate": 0.3, "l2": 0, "noise": 0.2, "data_seed": 5, "start": 2}"#,
        );
        sg_moons_reset();
        let r = output();
        assert_eq!(r["net"]["sizes"], json!([2, 3, 2, 1]));
        assert_eq!(r["parameters"], 3 * 3 + 2 * 4 + 3);
        assert_eq!(r["start"], 2);
        assert_eq!(r["points"][0][0], net::make_moons(100, 0.2, 5).inputs[0][0]);
        sg_moons_step();
        assert_eq!(output()["learning_rate"], 0.3);
        input(r#"{"hidden": [40]}"#);
        sg_moons_reset();
        assert!(output()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 32"));
    }
}
