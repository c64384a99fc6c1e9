//! The page's program parser and recorder on arbitrary text: `parse` and `Model::build`
//! must answer (a graph or an error with a position inside the text), never panic; a built
//! graph must survive what the page does with it (print, backward and its replay, the
//! NaN/∞ explanations, a leaf moved).
//!
//! Run: `cd web/wasm/fuzz && cargo +nightly fuzz run program corpus/program -- -max_total_time=600`
//! (the corpus is seeded with the presets and micrograd's README cell).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scalargrad::Graph;
use scalargrad_web::model::Model;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let (g, scratch) = (Graph::new(), Graph::new());
    match Model::build(&g, src) {
        Err(e) => {
            assert!(e.offset <= src.len() && src.is_char_boundary(e.offset));
            assert!(e.line >= 1 && e.column >= 1);
            assert!(!e.message.is_empty());
        }
        Ok(m) => {
            assert!(m.root < m.nodes.len());
            let _ = m.printed();
            let _ = m.first_non_finite_value();
            let b = m.backward(&scratch);
            let _ = m.first_non_finite_grad(&b);
            let _ = m.printed();
            if let Some(&leaf) = m.leaves().first() {
                m.set_leaf(leaf, 0.0);
                let _ = m.first_non_finite_value();
            }
        }
    }
});
