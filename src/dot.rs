//! Graphviz pictures of a graph: one box per node with its op, value and gradient.

use std::fmt;

use crate::{Graph, Var};

/// Graphviz DOT text for the ancestors of one node, from [`Graph::to_dot`].
///
/// It implements [`Display`](fmt::Display): write it to a file and render it with
/// `dot -Tsvg graph.dot -o graph.svg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dot {
    text: String,
}

impl fmt::Display for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Graph {
    /// The picture of `root` and every node it was computed from: one box per node with its
    /// label (see [`Var::named`]) or op, its value and its gradient; an edge from each input
    /// to each op that uses it. Walks the tape backwards, without recursion.
    ///
    /// # Panics
    /// If `root` is from another graph or was freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let apple = g.var(100.0).named("apple");
    /// let count = g.var(2.0).named("count");
    /// let price = (apple * count).named("price");
    /// price.backward();
    /// let dot = g.to_dot(price).to_string();
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("apple | var | value 100 | grad 2"));
    /// assert_eq!(dot.matches("->").count(), 2);
    /// ```
    #[track_caller]
    pub fn to_dot(&self, root: Var<'_>) -> Dot {
        use std::fmt::Write;
        self.check_same(root);
        let t = self.tape();
        let root = t.pos(root.id()) as usize;
        let mut reached = vec![false; root + 1];
        reached[root] = true;
        let mut text = String::from(
            "digraph scalargrad {\n  rankdir=LR;\n  node [shape=record, fontname=\"Helvetica\"];\n",
        );
        let mut edges = String::new();
        for i in (0..=root).rev() {
            if !reached[i] {
                continue;
            }
            let node = t.nodes[i];
            let op = node.op;
            let kind = match op {
                crate::op::Op::Leaf if node.tracked() => "var".to_owned(),
                crate::op::Op::Leaf => "const".to_owned(),
                _ => t.op_name(op).replace('|', "\\|"),
            };
            let label = match t.names.get(&(i as u32)) {
                Some(name) => format!("{name} | {kind}"),
                None => kind,
            };
            let label = label.replace('<', "\\<").replace('>', "\\>");
            let _ = writeln!(
                text,
                "  n{i} [label=\"{label} | value {} | grad {}\"];",
                short(node.value),
                short(node.grad)
            );
            op.for_each_input(&t.operands, |p| {
                reached[p as usize] = true;
                let _ = writeln!(edges, "  n{p} -> n{i};");
            });
        }
        text.push_str(&edges);
        text.push_str("}\n");
        Dot { text }
    }
}

/// A number as a person reads it: up to 6 significant decimals, no trailing zeros.
fn short(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_numbers_drop_rounding_noise() {
        assert_eq!(short(220.00000000000003), "220");
        assert_eq!(short(2.2), "2.2");
        assert_eq!(short(-0.0), "0");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(f64::NAN), "NaN");
    }
}
