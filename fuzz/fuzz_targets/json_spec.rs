//! Arbitrary text → `MlpSpec::from_json` (and `Mlp::from_json`): never a panic; an error's
//! message stays short (serde_json quotes a key whole, and a key can be of any length); a
//! spec that parses passes `check`, predicts without panicking, builds an `Mlp` that
//! predicts the same bits, and saves to JSON that reads back to the same spec, bit for bit.
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run json_spec -- -max_total_time=600
//! ```
//! Seeds: `corpus/json_spec/` (valid networks in both layer forms).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scalargrad::nn::{Mlp, MlpSpec};
use scalargrad::Graph;

/// The longest error message accepted: serde_json's, cut at 256 bytes, and the position.
const LONGEST: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match MlpSpec::from_json(text) {
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.len() <= LONGEST,
                "{} bytes: {}…",
                message.len(),
                &message[..LONGEST.min(message.len())]
            );
        }
        Ok(spec) => {
            assert_eq!(spec.check().ok(), Some(()));
            assert!(spec.nin > 0);
            let x = vec![0.25; spec.nin];
            let want: Vec<u64> = spec.predict(&x).iter().map(|v| v.to_bits()).collect();
            let g = Graph::new();
            let mlp = Mlp::from_json(&g, text).expect("the spec parsed");
            let got: Vec<u64> = mlp.predict(&x).iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want);
            let json = spec.to_json().expect("JSON numbers are finite");
            let back = MlpSpec::from_json(&json).expect("saved JSON reads back");
            let bits =
                |s: &MlpSpec| -> Vec<u64> { s.parameters().iter().map(|v| v.to_bits()).collect() };
            assert_eq!(bits(&back), bits(&spec));
            assert_eq!(back.sizes(), spec.sizes());
        }
    }
});
