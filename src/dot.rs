//! Graphviz pictures of a graph: one box per node with its op, value and gradient. To see a
//! graph with no external program, draw it as SVG with [`Graph::to_svg`](crate::Graph::to_svg).

use std::fmt;

use crate::graph::Tape;
use crate::op::Op;
use crate::{Graph, Var};

/// Graphviz DOT text for the ancestors of one node, from [`Graph::to_dot`].
///
/// It implements [`Display`](fmt::Display): write it to a file and render it with
/// `dot -Tsvg graph.dot -o graph.svg`.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let x = g.var(3.0).named("x");
/// let dot = g.to_dot(x.exp());
/// std::fs::write(std::env::temp_dir().join("x_exp.dot"), dot.to_string()).unwrap();
/// assert!(dot.to_string().contains("x | var | value 3"));
/// ```
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
            let op = t.op(i);
            let kind = escape(&kind(&t, i));
            let label = match t.name(i) {
                Some(name) => format!("{} | {kind}", escape(name)),
                None => kind,
            };
            let _ = writeln!(
                text,
                "  n{i} [label=\"{label} | value {} | grad {}\"];",
                short(t.value(i)),
                short(t.grad(i))
            );
            op.for_each_input(t.operands(), |p| {
                reached[p as usize] = true;
                let _ = writeln!(edges, "  n{p} -> n{i};");
            });
        }
        text.push_str(&edges);
        text.push_str("}\n");
        Dot { text }
    }
}

/// What the node at tape position `i` is, as both pictures (DOT and [SVG](crate::svg)) show it:
/// `var` (a tracked leaf), `const`, or the op's name (`pow 2` shows its exponent).
pub(crate) fn kind(t: &Tape, i: usize) -> String {
    match t.op(i) {
        Op::Leaf if t.tracked(i) => "var".to_owned(),
        Op::Leaf => "const".to_owned(),
        Op::Pow(_, k) => format!("pow {}", short(k)),
        op => t.op_name(op).to_owned(),
    }
}

/// Escapes the characters that are special inside a Graphviz record label.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '|' | '{' | '}' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A number as a person reads it: 6 significant digits, no trailing zeros; scientific
/// notation below 1e-4 and from 1e9 on.
pub(crate) fn short(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let magnitude = x.abs().log10().floor();
    if (-4.0..9.0).contains(&magnitude) {
        let decimals = (5.0 - magnitude).max(0.0) as usize;
        let s = format!("{x:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            &s
        };
        if s == "-0" {
            "0".to_owned()
        } else {
            s.to_owned()
        }
    } else {
        let s = format!("{x:.5e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
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
        assert_eq!(short(110.00000000000001), "110");
        assert_eq!(short(3.3000000000000003), "3.3");
        assert_eq!(short(2.5e-7), "2.5e-7");
        assert_eq!(short(6.25e-14), "6.25e-14");
        assert_eq!(short(-1234.56789), "-1234.57");
        assert_eq!(short(3e12), "3e12");
        assert_eq!(short(0.000123456789), "0.000123457");
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(super::escape("a\"b|{c}<d>"), "a\\\"b\\|\\{c\\}\\<d\\>");
    }
}
