//! Lesson 1: the apple graphs of seed 003, computed by the engine and drawn.
//!
//! The seed draws two computational graphs by hand and walks them backwards:
//!
//! - buying 2 apples at 100 each with 10% tax: price = apple × count × tax = 220;
//! - adding 3 oranges at 150 each: price = (apple × count + orange × count) × tax = 715.
//!
//! Here the engine records the same graphs, one `backward()` fills every gradient, and
//! `to_svg` draws the picture the tutorial draws by hand — in Rust, no Graphviz needed.
//! `to_dot` writes the same graph as Graphviz text too.
//!
//! Run: `cargo run --example apple [-- --out DIR]`. It writes `apple.svg`, `apple.dot`,
//! `apple_orange.svg` and `apple_orange.dot` into `target/apple/` (or `DIR`). The pictures
//! in the README are made with `cargo run --example apple -- --out docs`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use scalargrad::{Graph, Var};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/apple");
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--out", Some(dir)) => out_dir = PathBuf::from(dir),
            _ => {
                eprintln!("usage: apple [--out DIR]   (default: target/apple/)");
                std::process::exit(2);
            }
        }
    }
    run(&out_dir, &mut io::stdout().lock())
}

/// Builds both graphs, prints their numbers to `out` and writes their pictures to `dir`.
pub fn run(dir: &Path, out: &mut impl Write) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;

    // Graph 1: one product chain. Every leaf is a `var`, so every leaf gets a gradient.
    let g = Graph::new();
    let apple = g.var(100.0).named("apple");
    let count = g.var(2.0).named("apple count");
    let tax = g.var(1.1).named("tax");
    let apple_price = (apple * count).named("apple price");
    let price = (apple_price * tax).named("price");
    price.backward();
    table(
        out,
        "apple",
        price,
        &[("apple", apple), ("apple count", count), ("tax", tax)],
    )?;
    save(out, &g, price, &dir.join("apple"))?;
    writeln!(out)?;

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
        out,
        "apple + orange",
        price,
        &[
            ("apple", apple),
            ("apple count", apple_count),
            ("orange", orange),
            ("orange count", orange_count),
            ("tax", tax),
        ],
    )?;
    save(out, &g, price, &dir.join("apple_orange"))
}

/// Prints the output and each leaf's value and gradient as a table, every digit shown.
fn table(
    out: &mut impl Write,
    title: &str,
    output: Var<'_>,
    leaves: &[(&str, Var<'_>)],
) -> io::Result<()> {
    writeln!(out, "{title}: price = {}", output.value())?;
    writeln!(
        out,
        "  {:<14} {:>22} {:>24}",
        "leaf", "value", "d price / d leaf"
    )?;
    for (name, leaf) in leaves {
        writeln!(
            out,
            "  {:<14} {:>22} {:>24}",
            name,
            leaf.value(),
            leaf.grad()
        )?;
    }
    Ok(())
}

/// Writes `stem.svg` (drawn here) and `stem.dot` (for Graphviz).
fn save(out: &mut impl Write, g: &Graph, root: Var<'_>, stem: &Path) -> io::Result<()> {
    for (ext, text) in [
        ("svg", g.to_svg(root).to_string()),
        ("dot", g.to_dot(root).to_string()),
    ] {
        let path = stem.with_extension(ext);
        std::fs::write(&path, text)?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}
