//! Lesson 1: the apple graphs of seed 003, computed by the engine.
//!
//! The seed draws two computational graphs by hand and walks them backwards:
//!
//! - buying 2 apples at 100 each with 10% tax: price = apple × count × tax = 220;
//! - adding 3 oranges at 150 each: price = (apple × count + orange × count) × tax = 715.
//!
//! Here the engine records the same graphs, one `backward()` fills every gradient, and
//! `to_dot` draws the picture the tutorial draws by hand (render it with
//! `dot -Tsvg apple_orange.dot -o apple_orange.svg`).
//!
//! Run: `cargo run --example apple` (writes `apple.dot` and `apple_orange.dot` to the current
//! directory, or to the directory given as the first argument).

use std::path::PathBuf;

use scalargrad::{Graph, Var};

fn main() -> std::io::Result<()> {
    let out_dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out_dir)?;

    // Graph 1: one product chain. Every leaf is a `var`, so every leaf gets a gradient.
    let g = Graph::new();
    let apple = g.var(100.0).named("apple");
    let count = g.var(2.0).named("apple count");
    let tax = g.var(1.1).named("tax");
    let apple_price = (apple * count).named("apple price");
    let price = (apple_price * tax).named("price");
    price.backward();
    table(
        "apple",
        price,
        &[("apple", apple), ("apple count", count), ("tax", tax)],
    );
    let path = out_dir.join("apple.dot");
    std::fs::write(&path, g.to_dot(price).to_string())?;
    println!("wrote {}\n", path.display());

    // Graph 2: two products meet in a sum, then the tax. The sum node passes its gradient
    // unchanged to both branches; each product swaps its inputs' values into their gradients.
    let g = Graph::new();
    let apple = g.var(100.0).named("apple");
    let apple_count = g.var(2.0).named("apple count");
    let orange = g.var(150.0).named("orange");
    let orange_count = g.var(3.0).named("orange count");
    let tax = g.var(1.1).named("tax");
    let apples = (apple * apple_count).named("apples");
    let oranges = (orange * orange_count).named("oranges");
    let subtotal = (apples + oranges).named("subtotal");
    let price = (subtotal * tax).named("price");
    price.backward();
    table(
        "apple + orange",
        price,
        &[
            ("apple", apple),
            ("apple count", apple_count),
            ("orange", orange),
            ("orange count", orange_count),
            ("tax", tax),
        ],
    );
    let path = out_dir.join("apple_orange.dot");
    std::fs::write(&path, g.to_dot(price).to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Prints the output and each leaf's value and gradient as a table.
fn table(title: &str, output: Var<'_>, leaves: &[(&str, Var<'_>)]) {
    println!("{title}: price = {}", output.value());
    println!(
        "  {:<14} {:>22} {:>24}",
        "leaf", "value", "d price / d leaf"
    );
    for (name, leaf) in leaves {
        println!("  {:<14} {:>22} {:>24}", name, leaf.value(), leaf.grad());
    }
}
