//! Arbitrary bytes → `Mlp::from_safetensors` (and `from_safetensors_as` micrograd's
//! relu, relu, linear): never a panic; an error's message stays short (a file can name
//! millions of tensors or activations); a network that loads saves back to a file that
//! loads to the same bits and predicts the same numbers as its spec.
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run safetensors_mlp -- -max_total_time=600
//! ```
//! Seeds: `corpus/safetensors_mlp/` (valid files: ours, and PyTorch's `tests/data/torch_mlp.safetensors`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scalargrad::nn::{Activation, Mlp, MlpSpec};
use scalargrad::Graph;

/// The longest error message accepted: five quoted names of 64 bytes and the sentence.
const LONGEST: usize = 1024;

fn check(result: Result<Mlp<'_>, scalargrad::nn::Error>) {
    match result {
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.len() <= LONGEST,
                "{} bytes: {}…",
                message.len(),
                &message[..LONGEST.min(message.len())]
            );
        }
        Ok(mlp) => {
            let g = Graph::new();
            let bytes = mlp.to_safetensors().expect("a loaded network saves");
            let back = Mlp::from_safetensors(&g, &bytes).expect("a saved network loads");
            let bits = |m: &Mlp<'_>| -> Vec<u64> {
                m.parameter_values().iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(&back), bits(&mlp));
            let spec = mlp.to_spec();
            assert_eq!(spec.check().ok(), Some(()));
            let x = vec![0.5; spec.nin];
            // the same bits, or NaN on both sides (a NaN's payload is not specified)
            let key = |v: &f64| if v.is_nan() { None } else { Some(v.to_bits()) };
            let a: Vec<Option<u64>> = spec.predict(&x).iter().map(key).collect();
            let b: Vec<Option<u64>> = mlp.predict(&x).iter().map(key).collect();
            assert_eq!(a, b);
            // bit for bit (a file may hold NaN weights, which `==` would call different)
            let back = MlpSpec::from_safetensors(&bytes).expect("loads");
            let spec_bits =
                |s: &MlpSpec| -> Vec<u64> { s.parameters().iter().map(|v| v.to_bits()).collect() };
            assert_eq!(spec_bits(&back), spec_bits(&spec));
            assert_eq!(back.sizes(), spec.sizes());
            let activations = |s: &MlpSpec| -> Vec<Activation> {
                s.layers.iter().map(|l| l.activation).collect()
            };
            assert_eq!(activations(&back), activations(&spec));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let g = Graph::new();
    check(Mlp::from_safetensors(&g, data));
    use Activation::{Linear, Relu};
    check(Mlp::from_safetensors_as(&g, data, &[Relu, Relu, Linear]));
});
