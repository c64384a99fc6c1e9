//! SVG pictures of a graph, drawn in Rust with no external program: [`Graph::to_svg`].
//!
//! One box per node (its name from [`Var::named`], what it is — `var`, `const` or the op —,
//! its value and its gradient), an arrow from each input to each op that uses it, data
//! flowing left to right like the figures of the tutorials: leaves on the left, the root on
//! the right. Each box's tooltip (`<title>`) holds the exact values (`220.00000000000003`);
//! the box itself shows six significant digits (`220`).
//!
//! # Layout (`layout.rs`)
//! A small layered (Sugiyama-style) layout written here (why not `layout-rs`: it took 12 s
//! for 100 nodes; see `docs/design.md`), linear-ish in the drawn size, no dependency, and
//! built for `wasm32-unknown-unknown` as-is:
//!
//! 1. **Columns**: a node's column is its longest path to the root (the root is rightmost);
//!    a leaf therefore sits just left of the first op that needs it, as in the seeds'
//!    figures (`tax` next to `price`).
//! 2. **Dummy points** split edges that span several columns, so they route between boxes
//!    (shortest edges first, at most 20 per box plus 2,000: a leaf used all along a chain
//!    would need quadratically many; longer edges are then drawn as one curve).
//! 3. **Order** in each column: first by the order of the consumer and the input slot
//!    (`a` above `b` in `a * b`; no crossings at all for a tree), then barycenter sweeps
//!    in both directions, keeping the order with the fewest edge crossings.
//! 4. **Heights**: each column is placed at the mean height of its neighbours, overlaps
//!    removed by least squares (pool adjacent violators), a few sweeps.
//!
//! No walk recurses. The graph walk is the tape walked backwards, as in the reverse pass.
//!
//! # Large graphs
//! A picture shows at most [`SvgOptions::max_nodes`] boxes ([`DEFAULT_MAX_NODES`] = 300 by
//! default). Beyond that, it draws the nodes nearest the root (the last ones created among
//! its ancestors; each still connects to the root) and one dashed box that stands for all
//! earlier ones, with their count and a caption saying so. The walk that counts them is
//! linear in the tape (timings: `docs/design.md`, "Pictures").
//!
//! # For web pages
//! Every node's box is a `<g class="node …" id="{prefix}n{k}">`, where `n{k}` is
//! [`Var::svg_id`] and the prefix is [`SvgOptions::id_prefix`] (so several pictures can share
//! a page); it carries `data-name` when named. Every arrow is a
//! `<path class="edge" data-from="…" data-to="…" data-slot="…">` naming the two boxes' ids and
//! the input slot, so a page can highlight the gradient flowing back along it.

mod layout;

use std::collections::HashMap;
use std::fmt;

use layout::Layout;

use crate::dot::{kind, short};
use crate::op::Op;
use crate::{Graph, Var};

/// How many boxes [`Graph::to_svg`] draws before collapsing the rest into one box.
pub const DEFAULT_MAX_NODES: usize = 300;

/// A self-contained SVG picture of the ancestors of one node, from [`Graph::to_svg`].
///
/// It implements [`Display`](fmt::Display): write it to a `.svg` file, or put it inline in
/// an HTML page.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let x = g.var(3.0).named("x");
/// let svg = g.to_svg(x.exp());
/// std::fs::write(std::env::temp_dir().join("x_exp.svg"), svg.to_string()).unwrap();
/// assert!(svg.to_string().starts_with("<svg"));
/// assert_eq!((svg.drawn(), svg.total()), (2, 2));
/// assert!(format!("{svg:?}").starts_with("Svg { drawn: 2, total: 2, bytes: "));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Svg {
    text: String,
    drawn: usize,
    total: usize,
}

impl Svg {
    /// How many nodes have their own box.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// assert_eq!(g.to_svg(x * x + 1.0).drawn(), 4); // x, x * x, the constant 1, the sum
    /// ```
    pub fn drawn(&self) -> usize {
        self.drawn
    }

    /// How many nodes the root was computed from, itself included: [`drawn`](Svg::drawn)
    /// plus those collapsed into the summary box.
    ///
    /// ```
    /// use scalargrad::{svg::SvgOptions, Graph};
    /// let g = Graph::new();
    /// let mut y = g.var(1.0);
    /// for _ in 0..99 {
    ///     y = y.tanh();
    /// }
    /// let svg = g.to_svg_with(y, &SvgOptions::new().max_nodes(10));
    /// assert_eq!((svg.drawn(), svg.total()), (10, 100));
    /// ```
    pub fn total(&self) -> usize {
        self.total
    }

    /// Whether some nodes were collapsed into the summary box (`drawn < total`).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert!(!g.to_svg(g.var(1.0)).is_collapsed());
    /// ```
    pub fn is_collapsed(&self) -> bool {
        self.drawn < self.total
    }
}

/// Shows the size, not the picture: `Svg { drawn: 5, total: 5, bytes: 4243 }`.
impl fmt::Debug for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Svg")
            .field("drawn", &self.drawn)
            .field("total", &self.total)
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Settings for [`Graph::to_svg_with`]; [`Graph::to_svg`] uses the defaults.
///
/// ```
/// use scalargrad::{svg::SvgOptions, Graph};
/// let g = Graph::new();
/// let x = g.var(1.0).named("x");
/// let svg = g.to_svg_with(x, &SvgOptions::new().id_prefix("fig1-")).to_string();
/// assert!(svg.contains(r#"id="fig1-n0""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvgOptions {
    max_nodes: usize,
    id_prefix: String,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            max_nodes: DEFAULT_MAX_NODES,
            id_prefix: String::new(),
        }
    }
}

impl SvgOptions {
    /// The defaults: at most [`DEFAULT_MAX_NODES`] boxes, no id prefix.
    ///
    /// ```
    /// assert_eq!(scalargrad::svg::SvgOptions::new(), Default::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Draw at most `n` boxes; earlier ancestors collapse into one summary box.
    ///
    /// # Panics
    /// If `n` is 0 (the root always has a box).
    ///
    /// ```
    /// use scalargrad::{svg::SvgOptions, Graph};
    /// let g = Graph::new();
    /// let (a, b) = (g.var(1.0), g.var(2.0));
    /// let svg = g.to_svg_with(a * b, &SvgOptions::new().max_nodes(1));
    /// assert!(svg.to_string().contains("2 earlier nodes"));
    /// ```
    #[track_caller]
    pub fn max_nodes(mut self, n: usize) -> Self {
        assert!(
            n > 0,
            "SvgOptions::max_nodes must be at least 1: the root always has a box"
        );
        self.max_nodes = n;
        self
    }

    /// Put `prefix` before every `id` in the picture (boxes, arrowhead marker), so several
    /// pictures can sit in one HTML page.
    ///
    /// # Panics
    /// If `prefix` holds a character other than ASCII letters, digits, `-` and `_`.
    ///
    /// ```
    /// use scalargrad::{svg::SvgOptions, Graph};
    /// let g = Graph::new();
    /// let x = g.var(1.0);
    /// let svg = g.to_svg_with(x, &SvgOptions::new().id_prefix("a_")).to_string();
    /// assert!(svg.contains(&format!("id=\"a_{}\"", x.svg_id())));
    /// ```
    #[track_caller]
    pub fn id_prefix(mut self, prefix: &str) -> Self {
        assert!(
            prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "SvgOptions::id_prefix {prefix:?}: use only ASCII letters, digits, '-' and '_'"
        );
        self.id_prefix = prefix.to_owned();
        self
    }
}

impl Var<'_> {
    /// The id of this node's box in a [`Graph::to_svg`] picture (`"n4"`: `n` and the node's
    /// place in the graph), before any [`SvgOptions::id_prefix`].
    ///
    /// # Panics
    /// If the node was freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (a, b) = (g.var(1.0), g.var(2.0));
    /// let y = a + b;
    /// assert_eq!(y.svg_id(), "n2");
    /// assert!(g.to_svg(y).to_string().contains(r#"<g class="node op root" id="n2""#));
    /// ```
    #[track_caller]
    pub fn svg_id(self) -> String {
        format!("n{}", self.pos())
    }
}

impl Graph {
    /// A self-contained SVG picture of `root` and every node it was computed from, laid out
    /// left to right: one box per node with its name (see [`Var::named`]), what it is
    /// (`var`, `const` or the op), its value and its gradient, and an arrow from each input
    /// to each op that uses it. At most [`DEFAULT_MAX_NODES`] boxes: see
    /// [the module docs](crate::svg) for the layout and how large graphs are collapsed.
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
    /// let svg = g.to_svg(price).to_string();
    /// assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    /// assert!(svg.contains(">apple</text>") && svg.contains(">grad 2</text>"));
    /// assert_eq!(svg.matches(r#"class="edge""#).count(), 2);
    /// ```
    #[track_caller]
    pub fn to_svg(&self, root: Var<'_>) -> Svg {
        self.to_svg_with(root, &SvgOptions::default())
    }

    /// [`Graph::to_svg`] with settings: how many boxes at most, and a prefix for ids.
    ///
    /// # Panics
    /// If `root` is from another graph or was freed.
    ///
    /// ```
    /// use scalargrad::{svg::SvgOptions, Graph};
    /// let g = Graph::new();
    /// let mut y = g.var(0.5);
    /// for _ in 0..1000 {
    ///     y = y.sigmoid();
    /// }
    /// let svg = g.to_svg_with(y, &SvgOptions::new().max_nodes(20));
    /// assert_eq!(svg.drawn(), 20);
    /// assert!(svg.to_string().contains("981 earlier nodes"));
    /// ```
    #[track_caller]
    pub fn to_svg_with(&self, root: Var<'_>, options: &SvgOptions) -> Svg {
        self.check_same(root);
        let boxes = collect(self, root, options.max_nodes);
        let drawn = boxes.items.len();
        let total = drawn + boxes.hidden;
        let text = Layout::new(&boxes).render(&boxes, &options.id_prefix);
        Svg { text, drawn, total }
    }
}

/// One drawn node.
struct Item {
    /// Tape position, for the id.
    pos: u32,
    name: Option<String>,
    kind: String,
    leaf: bool,
    value: f64,
    grad: f64,
    /// Inputs in slot order, as indices into `Boxes::items`, or `SUMMARY` for a collapsed one.
    inputs: Vec<usize>,
}

/// Stands for the summary box in `Item::inputs`.
const SUMMARY: usize = usize::MAX;

/// The drawn nodes in creation (topological) order, the root last.
struct Boxes {
    items: Vec<Item>,
    /// Ancestors of the root not drawn.
    hidden: usize,
    max: usize,
}

/// Walks the tape backwards from `root`, without recursion: the first `max` reached nodes
/// (those nearest the root) are drawn, the rest only counted.
fn collect(graph: &Graph, root: Var<'_>, max: usize) -> Boxes {
    let t = graph.tape();
    let root = t.pos(root.id()) as usize;
    let mut reached = vec![false; root + 1];
    reached[root] = true;
    let mut drawn: Vec<usize> = Vec::new();
    let mut hidden = 0;
    for i in (0..=root).rev() {
        if !reached[i] {
            continue;
        }
        if drawn.len() < max {
            drawn.push(i);
        } else {
            hidden += 1;
        }
        t.op(i)
            .for_each_input(t.operands(), |p| reached[p as usize] = true);
    }
    drawn.reverse();
    let index: HashMap<usize, usize> = drawn.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let items = drawn
        .iter()
        .map(|&i| {
            let op = t.op(i);
            let mut inputs = Vec::new();
            op.for_each_input(t.operands(), |p| {
                // Inputs come before their ops: an input not drawn is an earlier one.
                inputs.push(index.get(&(p as usize)).copied().unwrap_or(SUMMARY));
            });
            debug_assert!(inputs.iter().all(|&k| k == SUMMARY || drawn[k] < i));
            Item {
                pos: i as u32,
                name: t.name(i).map(str::to_owned),
                kind: kind(&t, i),
                leaf: matches!(op, Op::Leaf),
                value: t.value(i),
                grad: t.grad(i),
                inputs,
            }
        })
        .collect();
    Boxes { items, hidden, max }
}

const FONT: f64 = 13.0;
const ROW: f64 = 18.0;
const PAD: f64 = 8.0;
const COLUMN_GAP: f64 = 56.0;
const NODE_GAP: f64 = 18.0;
const DUMMY_GAP: f64 = 8.0;
const MARGIN: f64 = 16.0;
/// Dummy points allowed per drawn box, plus a fixed allowance (see `Layout::new`).
const DUMMY_BUDGET_PER_BOX: usize = 20;
const DUMMY_BUDGET: usize = 2_000;

/// Width of `text` in the sans-serif font at `FONT` size, estimated (no font metrics here).
fn text_width(text: &str, bold: bool) -> f64 {
    let per_char = if bold { 0.64 } else { 0.58 };
    text.chars().count() as f64 * FONT * per_char
}

/// A point of the layered layout: a box, the summary box, or a dummy point on a long edge.
#[derive(Clone, Copy, PartialEq)]
enum Spot {
    Item(usize),
    Summary,
    Dummy,
}

fn rows(item: &Item) -> f64 {
    if item.name.is_some() {
        4.0
    } else {
        3.0
    }
}

fn item_width(item: &Item) -> f64 {
    let name = item.name.as_deref().map_or(0.0, |n| text_width(n, true));
    let kind = text_width(&item.kind, item.name.is_none());
    let value = text_width(&format!("value {}", short(item.value)), false);
    let grad = text_width(&format!("grad {}", short(item.grad)), false);
    name.max(kind).max(value).max(grad).max(48.0) + 2.0 * PAD
}

fn summary_lines(boxes: &Boxes) -> (String, String) {
    let n = boxes.hidden;
    (
        format!(
            "{} earlier node{}",
            thousands(n),
            if n == 1 { "" } else { "s" }
        ),
        "not drawn".to_owned(),
    )
}

/// The exact numbers, for the box's tooltip.
fn tooltip(item: &Item) -> String {
    let head = match &item.name {
        Some(name) => format!("{name} ({})", item.kind),
        None => item.kind.clone(),
    };
    format!("{head}\nvalue {}\ngrad {}", item.value, item.grad)
}

/// Escapes text for XML content and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids (control characters other than tab, newline, return).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A coordinate with at most one decimal.
fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::layout::{inversions, pack};
    use super::*;

    #[test]
    fn inversions_counts_crossing_pairs() {
        assert_eq!(inversions(&mut [0, 1, 2]), 0);
        assert_eq!(inversions(&mut [2, 1, 0]), 3);
        assert_eq!(inversions(&mut [1, 0, 3, 2, 4]), 2);
    }

    #[test]
    fn pack_keeps_order_and_gaps() {
        // Two boxes of height 10, gap 2, both wanting centre 0: they split around 0.
        let tops = pack(&[0.0, 0.0], &[10.0, 10.0], &[2.0, 2.0]);
        assert_eq!(tops, vec![-11.0, 1.0]);
        // Far apart already: each where it wants.
        let tops = pack(&[0.0, 100.0], &[10.0, 10.0], &[2.0, 2.0]);
        assert_eq!(tops, vec![-5.0, 95.0]);
    }

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(
            xml("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(999_700), "999,700");
    }
}
