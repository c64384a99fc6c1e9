//! The apple graphs of seed 003, as `examples/apple.rs` computes them, against the seed's
//! printed numbers (`220.00000000000003`, `110.00000000000001 2.2 3.3000000000000003 165.0 650`).

use scalargrad::Graph;

#[test]
fn apple_graph_matches_the_seed_digit_for_digit() {
    let g = Graph::new();
    let (apple, count, tax) = (g.var(100.0), g.var(2.0), g.var(1.1));
    let price = apple * count * tax;
    price.backward();
    assert_eq!(price.value(), 220.00000000000003);
    assert_eq!(
        (apple.grad(), count.grad(), tax.grad()),
        (2.2, 110.00000000000001, 200.0)
    );
}

#[test]
fn apple_orange_graph_matches_the_seed_digit_for_digit() {
    let g = Graph::new();
    let (apple, apple_count) = (g.var(100.0), g.var(2.0));
    let (orange, orange_count) = (g.var(150.0), g.var(3.0));
    let tax = g.var(1.1);
    let price = (apple * apple_count + orange * orange_count) * tax;
    price.backward();
    assert_eq!(price.value(), 715.0000000000001);
    assert_eq!(
        (
            apple_count.grad(),
            apple.grad(),
            orange.grad(),
            orange_count.grad(),
            tax.grad()
        ),
        (110.00000000000001, 2.2, 3.3000000000000003, 165.0, 650.0)
    );
}

#[test]
fn apple_orange_dot_has_one_box_per_node_and_one_edge_per_input() {
    let g = Graph::new();
    let apple = g.var(100.0).named("apple");
    let count = g.var(2.0).named("apple count");
    let orange = g.var(150.0).named("orange");
    let orange_count = g.var(3.0).named("orange count");
    let tax = g.var(1.1).named("tax");
    let price = ((apple * count + orange * orange_count) * tax).named("price");
    let _unrelated = g.var(7.0) * 2.0; // not an ancestor: not drawn
    price.backward();
    let dot = g.to_dot(price).to_string();
    assert!(dot.starts_with("digraph scalargrad {"));
    assert_eq!(dot.matches("label=").count(), 9); // 5 leaves, 2 products, 1 sum, 1 total
    assert_eq!(dot.matches(" -> ").count(), 8); // each op has two inputs
    assert!(dot.contains("orange count | var | value 3 | grad 165"));
    assert!(dot.contains("price | * | value 715 | grad 1"));
    assert!(dot.contains("tax | var | value 1.1 | grad 650"));
}
