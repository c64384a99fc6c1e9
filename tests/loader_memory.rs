//! A big JSON network is parsed in memory proportional to its numbers: the peak resident
//! memory of `MlpSpec::from_json` on a 64 MB layer of 16 million one-input neurons (`[0],`,
//! 4 bytes of text a weight) stays under 60 bytes a weight above the text. An `MlpSpec`
//! holds such a layer as 16 million one-number rows, 56 bytes each (a 24-byte `Vec` and the
//! allocator's 32-byte smallest block): the parse adds nothing to that. Before rows were
//! read at their exact length it took 72 (serde grows a row from a capacity of 4).
//!
//! One measurement per process (`VmHWM` is the process's high-water mark), and it needs a
//! release build to take seconds, so it is ignored by default:
//! `cargo test --release --test loader_memory -- --ignored --nocapture`.
#![cfg(feature = "serde")]

use scalargrad::nn::MlpSpec;

/// A line of /proc/self/status in bytes (`VmHWM:`, `VmRSS:`), where Linux provides it.
fn status(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One linear layer of `neurons` neurons with `inputs` weights each, all `0`, no bias, as
/// JSON text of exactly the length it needs (no growth slack).
fn layer_json(neurons: usize, inputs: usize) -> String {
    let head =
        format!("{{\"nin\": {inputs}, \"layers\": [{{\"activation\": \"linear\", \"weights\": [");
    let row_len = 2 + 2 * inputs - 1; // [0,0,…,0]
    let len = head.len() + neurons * (row_len + 1) - 1 + 4;
    let mut text = String::with_capacity(len);
    text.push_str(&head);
    for j in 0..neurons {
        if j > 0 {
            text.push(',');
        }
        text.push('[');
        for i in 0..inputs {
            text.push_str(if i == 0 { "0" } else { ",0" });
        }
        text.push(']');
    }
    text.push_str("]}]}");
    assert_eq!(text.len(), len);
    text
}

#[test]
#[ignore = "a 64 MB parse; run: cargo test --release --test loader_memory -- --ignored --nocapture"]
fn a_64_mb_json_layer_is_parsed_in_bounded_memory() {
    let (neurons, inputs) = (16_000_000, 1);
    let text = layer_json(neurons, inputs);
    let weights = (neurons * inputs) as f64;
    let (Some(rss), Some(_)) = (status("VmRSS:"), status("VmHWM:")) else {
        eprintln!("no /proc/self/status: nothing measured");
        return;
    };
    let spec = MlpSpec::from_json(&text).expect("a valid layer");
    let peak = status("VmHWM:").expect("read above");
    assert_eq!(spec.parameter_count(), neurons * inputs);
    assert_eq!(spec.layers[0].weights[neurons - 1], [0.0]);
    let per_weight = (peak - rss) as f64 / weights;
    println!(
        "text {:.1} MB; RSS before {:.1} MB, peak {:.1} MB: {per_weight:.1} bytes a weight above the text",
        text.len() as f64 / 1e6,
        rss as f64 / 1e6,
        peak as f64 / 1e6
    );
    assert!(per_weight < 60.0, "{per_weight:.1} bytes a weight");
}
