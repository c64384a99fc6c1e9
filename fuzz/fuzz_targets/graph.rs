//! Arbitrary bytes → a graph of random ops → forward, backward, recorded gradient, anomaly
//! mode and finite differences; see `../graph_from_bytes.rs` for the format and invariants.
//!
//! ```text
//! cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run graph -s none -- -max_total_time=600
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../graph_from_bytes.rs"]
mod graph_from_bytes;

fuzz_target!(|data: &[u8]| graph_from_bytes::check(data, true));
