//! `Graph::to_svg`: well-formed SVG (parsed with roxmltree), every node's name, value and
//! gradient, inputs left of the ops that use them, no overlapping boxes, escaping, the
//! large-graph limit; and what `examples/apple.rs` prints and draws (the README's pictures).

#[allow(dead_code)]
#[path = "../examples/apple.rs"]
mod example;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use scalargrad::svg::{SvgOptions, DEFAULT_MAX_NODES};
use scalargrad::{Graph, Var};

/// One node's box as drawn: its texts, its tooltip and its rectangle.
#[derive(Debug)]
struct Drawn {
    class: String,
    texts: Vec<String>,
    title: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// One arrow: ids of its two ends and the input slot.
#[derive(Debug, PartialEq)]
struct Arrow {
    from: String,
    to: String,
    slot: usize,
}

/// Parses the picture (panics if it is not well-formed XML) into boxes by id and arrows.
fn parse(svg: &str) -> (HashMap<String, Drawn>, Vec<Arrow>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let num = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let mut boxes = HashMap::new();
    let mut arrows = Vec::new();
    for n in root.descendants() {
        let class = n.attribute("class").unwrap_or("");
        if n.has_tag_name("g") && (class.starts_with("node") || class == "summary") {
            let rect = n.children().find(|c| c.has_tag_name("rect")).unwrap();
            let text = |c: roxmltree::Node| c.text().unwrap_or("").to_owned();
            let drawn = Drawn {
                class: class.to_owned(),
                texts: n
                    .children()
                    .filter(|c| c.has_tag_name("text"))
                    .map(text)
                    .collect(),
                title: n
                    .children()
                    .find(|c| c.has_tag_name("title"))
                    .map(text)
                    .unwrap_or_default(),
                x: num(rect, "x"),
                y: num(rect, "y"),
                w: num(rect, "width"),
                h: num(rect, "height"),
            };
            let id = n.attribute("id").unwrap().to_owned();
            assert!(
                boxes.insert(id.clone(), drawn).is_none(),
                "two boxes with id {id}"
            );
        }
        if n.has_tag_name("path") && class == "edge" {
            arrows.push(Arrow {
                from: n.attribute("data-from").unwrap().to_owned(),
                to: n.attribute("data-to").unwrap().to_owned(),
                slot: n.attribute("data-slot").unwrap().parse().unwrap(),
            });
        }
    }
    (boxes, arrows)
}

/// Every arrow goes from a box to a box strictly to its right, and no two boxes overlap.
fn assert_left_to_right_without_overlap(boxes: &HashMap<String, Drawn>, arrows: &[Arrow]) {
    for a in arrows {
        let (from, to) = (&boxes[&a.from], &boxes[&a.to]);
        assert!(
            from.x + from.w < to.x,
            "{a:?}: {from:?} is not left of {to:?}"
        );
    }
    let all: Vec<&Drawn> = boxes.values().collect();
    for (i, p) in all.iter().enumerate() {
        for q in &all[i + 1..] {
            let apart =
                p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y;
            assert!(apart, "overlapping boxes {p:?} and {q:?}");
        }
    }
}

fn apple_graph(g: &Graph) -> [Var<'_>; 6] {
    let apple = g.var(100.0).named("apple");
    let count = g.var(2.0).named("apple count");
    let tax = g.var(1.1).named("tax");
    let apple_price = (apple * count).named("apple price");
    let price = (apple_price * tax).named("price");
    price.backward();
    [apple, count, tax, apple_price, price, price]
}

#[test]
fn apple_svg_shows_every_name_value_and_gradient() {
    let g = Graph::new();
    let [apple, count, tax, apple_price, price, _] = apple_graph(&g);
    let svg = g.to_svg(price);
    assert_eq!(
        (svg.drawn(), svg.total(), svg.is_collapsed()),
        (5, 5, false)
    );
    let (boxes, arrows) = parse(&svg.to_string());
    assert_eq!(boxes.len(), 5);
    let texts = |v: Var<'_>| boxes[&v.svg_id()].texts.join(" | ");
    assert_eq!(texts(apple), "apple | var | value 100 | grad 2.2");
    assert_eq!(texts(count), "apple count | var | value 2 | grad 110");
    assert_eq!(texts(tax), "tax | var | value 1.1 | grad 200");
    assert_eq!(texts(apple_price), "apple price | * | value 200 | grad 1.1");
    assert_eq!(texts(price), "price | * | value 220 | grad 1");
    // The tooltips keep every digit the engine computed.
    assert_eq!(
        boxes[&price.svg_id()].title,
        "price (*)\nvalue 220.00000000000003\ngrad 1"
    );
    assert_eq!(
        boxes[&count.svg_id()].title,
        "apple count (var)\nvalue 2\ngrad 110.00000000000001"
    );
    assert_eq!(boxes[&price.svg_id()].class, "node op root");
    assert_eq!(boxes[&apple.svg_id()].class, "node leaf");
    // One arrow per input, in data-flow order, with its slot.
    let arrow = |from: Var<'_>, to: Var<'_>, slot| Arrow {
        from: from.svg_id(),
        to: to.svg_id(),
        slot,
    };
    assert_eq!(arrows.len(), 4);
    for a in [
        arrow(apple, apple_price, 0),
        arrow(count, apple_price, 1),
        arrow(apple_price, price, 0),
        arrow(tax, price, 1),
    ] {
        assert!(arrows.contains(&a), "missing {a:?} in {arrows:?}");
    }
    assert_left_to_right_without_overlap(&boxes, &arrows);
    // The seeds' figure: `apple` above `apple count` (first input first), `tax` in the
    // column just before `price`, not with the other leaves.
    assert!(boxes[&apple.svg_id()].y < boxes[&count.svg_id()].y);
    let centre = |v: Var<'_>| boxes[&v.svg_id()].x + boxes[&v.svg_id()].w / 2.0;
    assert_eq!(centre(tax), centre(apple_price));
    assert!(centre(apple) < centre(tax));
}

#[test]
fn unnamed_nodes_constants_and_repeated_inputs() {
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x * x + 2.0; // x used twice: two arrows into one op
    y.backward();
    let svg = g.to_svg(y).to_string();
    let (boxes, arrows) = parse(&svg);
    assert_eq!(boxes.len(), 4);
    assert_eq!(
        boxes[&x.svg_id()].texts.join(" | "),
        "var | value 3 | grad 6"
    );
    let texts: Vec<String> = boxes.values().map(|b| b.texts.join(" | ")).collect();
    assert!(
        texts.contains(&"const | value 2 | grad 0".to_owned()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"* | value 9 | grad 1".to_owned()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"+ | value 11 | grad 1".to_owned()),
        "{texts:?}"
    );
    let squares: Vec<&Arrow> = arrows.iter().filter(|a| a.from == x.svg_id()).collect();
    assert_eq!(squares.iter().map(|a| a.slot).collect::<Vec<_>>(), [0, 1]);
    assert_left_to_right_without_overlap(&boxes, &arrows);
}

#[test]
fn a_small_network_reads_left_to_right_without_overlaps() {
    // Two tanh neurons feeding a third: shared inputs, long edges, sums, pow.
    let g = Graph::new();
    let x = [g.var(0.5).named("x0"), g.var(-1.5).named("x1")];
    let w: Vec<Var<'_>> = (0..6).map(|i| g.var(0.1 * i as f64 - 0.2)).collect();
    let h0 = (w[0] * x[0] + w[1] * x[1]).tanh();
    let h1 = (w[2] * x[0] + w[3] * x[1]).tanh();
    let out = (w[4] * h0 + w[5] * h1 + x[0]).named("out");
    let loss = (out - 1.0).pow(2.0).named("loss");
    loss.backward();
    let svg = g.to_svg(loss);
    let (boxes, arrows) = parse(&svg.to_string());
    assert_eq!(boxes.len(), svg.drawn());
    assert_eq!(boxes.len(), 23); // 2 x, 6 w, 4 per hidden unit, 4 for out, 3 for the loss
    assert_eq!(arrows.len(), 2 * 10 + 2 + 2 + 1); // binary ops, tanh ×2, -, pow
    assert!(boxes
        .values()
        .any(|b| b.texts[0] == "loss" && b.texts[1] == "pow 2"));
    assert_left_to_right_without_overlap(&boxes, &arrows);
    // x0 feeds both neurons and `out` directly: each arrow still goes rightwards.
    assert_eq!(arrows.iter().filter(|a| a.from == x[0].svg_id()).count(), 3);
}

#[test]
fn names_are_escaped_and_read_back_unchanged() {
    let g = Graph::new();
    let name = r#"<b> & "q" 'a' </svg>"#;
    let x = g.var(1.0).named(name);
    let y = (x * 2.0).named("x&y");
    let svg = g.to_svg(y).to_string();
    assert!(!svg.contains("<b>") && !svg.contains("& "));
    let (boxes, _) = parse(&svg);
    assert_eq!(boxes[&x.svg_id()].texts[0], name);
    assert_eq!(boxes[&y.svg_id()].texts[0], "x&y");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let named = doc
        .descendants()
        .find(|n| n.attribute("id") == Some(&x.svg_id()))
        .unwrap();
    assert_eq!(named.attribute("data-name"), Some(name));
}

#[test]
fn ids_take_the_prefix_and_edges_name_their_ends() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(2.0));
    let y = a / b;
    let svg = g
        .to_svg_with(y, &SvgOptions::new().id_prefix("fig-2_"))
        .to_string();
    let (boxes, arrows) = parse(&svg);
    let mut ids: Vec<&String> = boxes.keys().collect();
    ids.sort();
    assert_eq!(ids, ["fig-2_n0", "fig-2_n1", "fig-2_n2"]);
    assert!(arrows.iter().all(|a| a.to == "fig-2_n2"));
    assert!(svg.contains(r##"marker-end="url(#fig-2_arrow)""##));
    assert!(svg.contains(r#"<marker id="fig-2_arrow""#));
}

#[test]
#[should_panic(expected = "id_prefix")]
fn a_prefix_that_would_break_ids_panics() {
    let _ = SvgOptions::new().id_prefix("a b");
}

#[test]
fn non_finite_numbers_are_shown_as_such() {
    let g = Graph::new();
    let x = g.var(-1.0).named("x");
    let y = x.ln().named("y");
    y.backward();
    let (boxes, _) = parse(&g.to_svg(y).to_string());
    assert_eq!(
        boxes[&y.svg_id()].texts.join(" | "),
        "y | ln | value NaN | grad 1"
    );
    assert_eq!(boxes[&x.svg_id()].texts[3], "grad -1");
}

#[test]
fn a_million_node_chain_collapses_quickly() {
    let g = Graph::new();
    let x = g.var(1.0).named("x");
    let mut y = x;
    for _ in 0..1_000_000 {
        y *= 1.0;
    }
    // 1,000,000 ops, 1,000,000 constants and x.
    let start = Instant::now();
    let svg = g.to_svg(y);
    let took = start.elapsed();
    eprintln!("to_svg of a 2,000,001-node chain: {took:?}");
    assert!(took < Duration::from_secs(5), "to_svg took {took:?}");
    assert_eq!((svg.drawn(), svg.total()), (DEFAULT_MAX_NODES, 2_000_001));
    let text = svg.to_string();
    assert!(text.len() < 1_000_000, "{} bytes", text.len());
    assert!(text.contains("300 of 2,000,001 nodes drawn: the 300 nearest the root"));
    let (boxes, arrows) = parse(&text);
    assert_eq!(boxes.len(), DEFAULT_MAX_NODES + 1); // and the summary box
    let summary = &boxes["earlier"];
    assert_eq!(summary.texts, ["1,999,701 earlier nodes", "not drawn"]);
    assert_eq!(summary.class, "summary");
    // The summary box feeds the earliest drawn op, from the left.
    assert!(arrows.iter().any(|a| a.from == "earlier"));
    assert_left_to_right_without_overlap(&boxes, &arrows);
    // The root is drawn with its numbers; x is not.
    assert_eq!(boxes[&y.svg_id()].texts.join(" | "), "* | value 1 | grad 0");
    assert!(!boxes.contains_key(&x.svg_id()));
}

#[test]
fn a_wide_sum_stops_at_the_limit() {
    let g = Graph::new();
    let xs: Vec<Var<'_>> = (0..10_000).map(|i| g.var(i as f64)).collect();
    let s = g.sum(&xs);
    s.backward();
    let svg = g.to_svg_with(s, &SvgOptions::new().max_nodes(50));
    assert_eq!((svg.drawn(), svg.total()), (50, 10_001));
    let (boxes, arrows) = parse(&svg.to_string());
    assert_eq!(boxes.len(), 51);
    // 49 drawn inputs and one arrow from the summary box.
    assert_eq!(arrows.len(), 50);
    assert_left_to_right_without_overlap(&boxes, &arrows);
}

#[test]
#[should_panic(expected = "another Graph")]
fn a_root_from_another_graph_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.to_svg(h.var(1.0));
}

/// What `cargo run --example apple` prints: the seed's numbers, digit for digit.
const APPLE_PRINTS: &str = "\
apple: price = 220.00000000000003
  leaf                            value         d price / d leaf
  apple                             100                      2.2
  apple count                         2       110.00000000000001
  tax                               1.1                      200
wrote DIR/apple.svg
wrote DIR/apple.dot

apple + orange: price = 715.0000000000001
  leaf                            value         d price / d leaf
  apple                             100                      2.2
  apple count                         2       110.00000000000001
  orange                            150       3.3000000000000003
  orange count                        3                      165
  tax                               1.1                      650
wrote DIR/apple_orange.svg
wrote DIR/apple_orange.dot
";

#[test]
fn the_apple_example_prints_the_seed_numbers_and_the_readme_pictures() {
    let dir = std::env::temp_dir().join(format!("scalargrad-apple-{}", std::process::id()));
    let mut printed = Vec::new();
    example::run(&dir, &mut printed).unwrap();
    let printed = String::from_utf8(printed).unwrap();
    assert_eq!(
        printed,
        APPLE_PRINTS.replace("DIR", &dir.display().to_string())
    );
    for stem in ["apple", "apple_orange"] {
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        let (boxes, arrows) = parse(&svg);
        assert_eq!(boxes.len(), if stem == "apple" { 5 } else { 9 });
        assert_left_to_right_without_overlap(&boxes, &arrows);
        // The README shows docs/*.svg: they must be exactly what the example draws now
        // (regenerate with `cargo run --example apple -- --out docs`).
        let docs =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/{stem}.svg"));
        let committed = std::fs::read_to_string(&docs).unwrap();
        assert!(
            committed == svg,
            "{} is stale: run `cargo run --example apple -- --out docs`",
            docs.display()
        );
    }
    let dot = std::fs::read_to_string(dir.join("apple_orange.dot")).unwrap();
    assert!(dot.contains("price | * | value 715 | grad 1"));
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/apple_orange.dot");
    assert_eq!(std::fs::read_to_string(docs).unwrap(), dot);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_leaf_used_by_every_op_stays_quick() {
    // x feeds all 2,000 ops: without a budget for dummy points its edges would need
    // hundreds of thousands of them.
    let g = Graph::new();
    let x = g.var(1.0).named("x");
    let mut y = x;
    for _ in 0..1_000 {
        y = y * x + x;
    }
    y.backward();
    let start = Instant::now();
    let svg = g.to_svg_with(y, &SvgOptions::new().max_nodes(1_000));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "to_svg took {took:?}");
    assert_eq!((svg.drawn(), svg.total()), (1_000, 2_001));
    let (boxes, arrows) = parse(&svg.to_string());
    // 999 arrows between drawn ops, and x (not drawn: created first) reaches every op
    // through the summary box, one arrow per op.
    assert_eq!(arrows.len(), 999 + 1_000);
    assert_eq!(arrows.iter().filter(|a| a.from == "earlier").count(), 1_000);
    assert_left_to_right_without_overlap(&boxes, &arrows);
    // With x = 1 each step adds 1: y = 1001.
    assert_eq!(boxes[&y.svg_id()].texts[1], "value 1001");
}
