//! The layout of an SVG picture: boxes in ranks by longest path from the leaves, ordered
//! to cut edge crossings, packed vertically, edges routed between them.

use std::fmt::Write;

use super::*;

pub(super) struct Layout {
    spots: Vec<Spot>,
    width: Vec<f64>,
    height: Vec<f64>,
    column: Vec<usize>,
    /// Spots in each column, top to bottom.
    columns: Vec<Vec<usize>>,
    /// Each edge: the spots it passes, from the input to the op, and its input slot.
    edges: Vec<(Vec<usize>, usize)>,
    /// Top of each spot.
    y: Vec<f64>,
    /// Left of each column, and its width.
    column_x: Vec<f64>,
    column_w: Vec<f64>,
}

impl Layout {
    pub(super) fn new(boxes: &Boxes) -> Layout {
        let n = boxes.items.len();
        let summary = n; // spot index of the summary box, if there is one
        let mut spots: Vec<Spot> = (0..n).map(Spot::Item).collect();
        let mut width: Vec<f64> = boxes.items.iter().map(item_width).collect();
        let mut height: Vec<f64> = boxes.items.iter().map(|it| rows(it) * ROW + PAD).collect();
        if boxes.hidden > 0 {
            spots.push(Spot::Summary);
            let (a, b) = summary_lines(boxes);
            width.push(text_width(&a, true).max(text_width(&b, false)) + 2.0 * PAD);
            height.push(2.0 * ROW + PAD);
        }
        // Edges (input spot, op, slot); one edge per op from the summary box.
        let mut direct: Vec<(usize, usize, usize)> = Vec::new();
        for (j, item) in boxes.items.iter().enumerate() {
            let mut summary_done = false;
            for (slot, &k) in item.inputs.iter().enumerate() {
                if k == SUMMARY {
                    if !summary_done {
                        direct.push((summary, j, slot));
                        summary_done = true;
                    }
                } else {
                    direct.push((k, j, slot));
                }
            }
        }
        // 1. Columns: the longest path to the root. Ops come after their inputs, so walking
        // the items backwards sees every consumer before its inputs.
        let mut depth = vec![0usize; spots.len()];
        let mut by_op: Vec<Vec<(usize, usize)>> = vec![Vec::new(); spots.len()];
        for &(from, to, slot) in &direct {
            by_op[to].push((from, slot));
        }
        for j in (0..n).rev() {
            for &(from, _) in &by_op[j] {
                depth[from] = depth[from].max(depth[j] + 1);
            }
        }
        let last = depth.iter().copied().max().unwrap_or(0);
        let mut column: Vec<usize> = depth.iter().map(|d| last - d).collect();
        // 2. Dummy points on edges spanning several columns, shortest edges first, within a
        // budget: a leaf used all along a long chain would otherwise need quadratically many.
        // Edges past the budget are drawn as one curve and do not steer the layout.
        let mut budget = DUMMY_BUDGET_PER_BOX * n + DUMMY_BUDGET;
        let mut by_span: Vec<usize> = (0..direct.len()).collect();
        by_span.sort_by_key(|&e| column[direct[e].1] - column[direct[e].0]);
        let mut edges = vec![(Vec::new(), 0); direct.len()];
        for e in by_span {
            let (from, to, slot) = direct[e];
            let mut path = vec![from];
            let span = column[to] - column[from];
            if span - 1 <= budget {
                budget -= span - 1;
                for c in column[from] + 1..column[to] {
                    spots.push(Spot::Dummy);
                    width.push(0.0);
                    height.push(0.0);
                    column.push(c);
                    path.push(spots.len() - 1);
                }
            }
            path.push(to);
            edges[e] = (path, slot);
        }
        let mut layout = Layout {
            columns: vec![Vec::new(); last + 1],
            y: vec![0.0; spots.len()],
            column_x: Vec::new(),
            column_w: Vec::new(),
            spots,
            width,
            height,
            column,
            edges,
        };
        layout.order();
        layout.place();
        layout
    }

    /// Segments between adjacent columns: (left spot, right spot, slot at the right end).
    fn segments(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (path, slot) in &self.edges {
            for w in path.windows(2) {
                if self.column[w[0]] + 1 != self.column[w[1]] {
                    continue; // a long edge past the dummy budget
                }
                let s = if w[1] == path[path.len() - 1] {
                    *slot
                } else {
                    0
                };
                out.push((w[0], w[1], s));
            }
        }
        out
    }

    /// 3. The order of spots within each column.
    fn order(&mut self) {
        let segs = self.segments();
        let count = self.spots.len();
        let mut right: Vec<Vec<(usize, usize)>> = vec![Vec::new(); count];
        let mut left: Vec<Vec<usize>> = vec![Vec::new(); count];
        for &(a, b, slot) in &segs {
            right[a].push((b, slot));
            left[b].push(a);
        }
        let last = self.columns.len() - 1;
        let mut rank = vec![0usize; count];
        let mut by_column: Vec<Vec<usize>> = vec![Vec::new(); last + 1];
        for s in 0..count {
            by_column[self.column[s]].push(s);
        }
        // First order: from the root leftwards, by (consumer's rank, input slot).
        for c in (0..=last).rev() {
            let col = &mut by_column[c];
            if c < last {
                col.sort_by_key(|&s| {
                    right[s]
                        .iter()
                        .map(|&(b, slot)| (rank[b], slot))
                        .min()
                        .unwrap_or((usize::MAX, 0))
                });
            }
            for (r, &s) in col.iter().enumerate() {
                rank[s] = r;
            }
        }
        let mut best = by_column.clone();
        let mut best_crossings = crossings(&segs, &rank, &self.column);
        // Barycenter sweeps, keeping the best order seen.
        for sweep in 0..8 {
            let rightwards = sweep % 2 == 0;
            let cols: Vec<usize> = if rightwards {
                (1..=last).collect()
            } else {
                (0..last).rev().collect()
            };
            for c in cols {
                let col = &mut by_column[c];
                let keys: Vec<(f64, usize)> = col
                    .iter()
                    .map(|&s| {
                        let near: Vec<usize> = if rightwards {
                            left[s].iter().map(|&a| rank[a]).collect()
                        } else {
                            right[s].iter().map(|&(b, _)| rank[b]).collect()
                        };
                        let bary = if near.is_empty() {
                            rank[s] as f64
                        } else {
                            near.iter().sum::<usize>() as f64 / near.len() as f64
                        };
                        (bary, rank[s])
                    })
                    .collect();
                let mut idx: Vec<usize> = (0..col.len()).collect();
                idx.sort_by(|&i, &j| {
                    keys[i]
                        .0
                        .total_cmp(&keys[j].0)
                        .then(keys[i].1.cmp(&keys[j].1))
                });
                let sorted: Vec<usize> = idx.iter().map(|&i| col[i]).collect();
                *col = sorted;
                for (r, &s) in col.iter().enumerate() {
                    rank[s] = r;
                }
            }
            let now = crossings(&segs, &rank, &self.column);
            if now < best_crossings {
                best_crossings = now;
                best = by_column.clone();
            }
        }
        self.columns = best;
    }

    /// 4. Coordinates: column lefts from the widest box in each, tops by least squares.
    fn place(&mut self) {
        let mut x = MARGIN;
        for col in &self.columns {
            let w = col.iter().map(|&s| self.width[s]).fold(0.0, f64::max);
            self.column_x.push(x);
            self.column_w.push(w);
            x += w + COLUMN_GAP;
        }
        let count = self.spots.len();
        let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (a, b, _) in self.segments() {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
        // Start stacked and centred on the tallest column.
        let tallest = (0..self.columns.len())
            .map(|c| self.stack_height(c))
            .fold(0.0, f64::max);
        for c in 0..self.columns.len() {
            let mut top = (tallest - self.stack_height(c)) / 2.0;
            for &s in &self.columns[c] {
                self.y[s] = top;
                top += self.height[s] + self.gap(s);
            }
        }
        let center = |y: &[f64], h: &[f64], s: usize| y[s] + h[s] / 2.0;
        let columns = self.columns.len();
        for sweep in 0..6 {
            let order: Vec<usize> = if sweep % 2 == 0 {
                (0..columns).collect()
            } else {
                (0..columns).rev().collect()
            };
            for c in order {
                let col = &self.columns[c];
                let wanted: Vec<f64> = col
                    .iter()
                    .map(|&s| {
                        let ns = &neighbours[s];
                        if ns.is_empty() {
                            center(&self.y, &self.height, s)
                        } else {
                            ns.iter()
                                .map(|&b| center(&self.y, &self.height, b))
                                .sum::<f64>()
                                / ns.len() as f64
                        }
                    })
                    .collect();
                let heights: Vec<f64> = col.iter().map(|&s| self.height[s]).collect();
                let gaps: Vec<f64> = col.iter().map(|&s| self.gap(s)).collect();
                let tops = pack(&wanted, &heights, &gaps);
                for (k, &s) in col.iter().enumerate() {
                    self.y[s] = tops[k];
                }
            }
        }
        let top = self.y.iter().copied().fold(f64::INFINITY, f64::min);
        for y in &mut self.y {
            *y += MARGIN - top;
        }
    }

    fn gap(&self, s: usize) -> f64 {
        if self.spots[s] == Spot::Dummy {
            DUMMY_GAP
        } else {
            NODE_GAP
        }
    }

    fn stack_height(&self, c: usize) -> f64 {
        self.columns[c]
            .iter()
            .map(|&s| self.height[s] + self.gap(s))
            .sum()
    }

    /// The point where an edge leaves spot `s` (its right side) or enters it (its left side).
    fn right_point(&self, s: usize) -> (f64, f64) {
        let c = self.column[s];
        let x = match self.spots[s] {
            Spot::Dummy => self.column_x[c] + self.column_w[c],
            _ => self.column_x[c] + (self.column_w[c] + self.width[s]) / 2.0,
        };
        (x, self.y[s] + self.height[s] / 2.0)
    }

    fn left_point(&self, s: usize, slot: usize, slots: usize) -> (f64, f64) {
        let c = self.column[s];
        match self.spots[s] {
            Spot::Dummy => (self.column_x[c], self.y[s]),
            _ => {
                let x = self.column_x[c] + (self.column_w[c] - self.width[s]) / 2.0;
                let h = self.height[s];
                (
                    x,
                    self.y[s] + h * (slot as f64 + 1.0) / (slots as f64 + 1.0),
                )
            }
        }
    }

    pub(super) fn render(&self, boxes: &Boxes, prefix: &str) -> String {
        let caption = boxes.hidden > 0;
        let shift = if caption { ROW + 4.0 } else { 0.0 };
        let width = self.column_x.last().copied().unwrap_or(MARGIN)
            + self.column_w.last().copied().unwrap_or(0.0)
            + MARGIN;
        let height = (0..self.spots.len())
            .map(|s| self.y[s] + self.height[s])
            .fold(0.0, f64::max)
            + MARGIN
            + shift;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="{FONT}">"##,
            w = round(width),
            h = round(height),
        );
        let _ = writeln!(
            out,
            r##"<defs><marker id="{prefix}arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##
        );
        let _ = writeln!(out, r##"<rect width="100%" height="100%" fill="white"/>"##);
        if caption {
            let _ = writeln!(
                out,
                r##"<text class="caption" x="{MARGIN}" y="{}" fill="#555">{}</text>"##,
                round(MARGIN + FONT * 0.4),
                xml(&format!(
                    "{} of {} nodes drawn: the {} nearest the root (limit {}; see SvgOptions::max_nodes)",
                    thousands(boxes.items.len()),
                    thousands(boxes.items.len() + boxes.hidden),
                    thousands(boxes.items.len()),
                    thousands(boxes.max),
                ))
            );
        }
        let _ = writeln!(out, r#"<g transform="translate(0,{})">"#, round(shift));
        let id = |s: usize| match self.spots[s] {
            Spot::Item(k) => format!("{prefix}n{}", boxes.items[k].pos),
            _ => format!("{prefix}earlier"),
        };
        // Edges first, so the boxes sit on top of them.
        for (path, slot) in &self.edges {
            let (first, last) = (path[0], path[path.len() - 1]);
            let slots = match self.spots[last] {
                Spot::Item(k) => boxes.items[k].inputs.len(),
                _ => 1,
            };
            let mut d = String::new();
            let (mut px, mut py) = self.right_point(first);
            let _ = write!(d, "M{},{}", round(px), round(py));
            for (i, &s) in path.iter().enumerate().skip(1) {
                let (qx, qy) = if s == last {
                    self.left_point(s, *slot, slots)
                } else {
                    self.left_point(s, 0, 1)
                };
                let mid = (qx - px) / 2.0;
                let _ = write!(
                    d,
                    " C{},{} {},{} {},{}",
                    round(px + mid),
                    round(py),
                    round(qx - mid),
                    round(qy),
                    round(qx),
                    round(qy)
                );
                if i < path.len() - 1 {
                    let (rx, ry) = self.right_point(s);
                    let _ = write!(d, " L{},{}", round(rx), round(ry));
                    (px, py) = (rx, ry);
                }
            }
            let _ = writeln!(
                out,
                r##"<path class="edge" data-from="{}" data-to="{}" data-slot="{slot}" d="{d}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#{prefix}arrow)"/>"##,
                id(first),
                id(last),
            );
        }
        let root = boxes.items.len().saturating_sub(1);
        for (s, spot) in self.spots.iter().enumerate() {
            let c = self.column[s];
            let x = self.column_x[c] + (self.column_w[c] - self.width[s]) / 2.0;
            let (y, w, h) = (self.y[s], self.width[s], self.height[s]);
            match *spot {
                Spot::Dummy => {}
                Spot::Summary => {
                    let (a, b) = summary_lines(boxes);
                    let _ = writeln!(
                        out,
                        r##"<g class="summary" id="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#f4f4f5" stroke="#71717a" stroke-dasharray="5,3"/>"##,
                        id(s),
                        round(x),
                        round(y),
                        round(w),
                        round(h)
                    );
                    let cx = round(x + w / 2.0);
                    let _ = writeln!(
                        out,
                        r##"<text x="{cx}" y="{}" text-anchor="middle" font-weight="bold">{}</text><text x="{cx}" y="{}" text-anchor="middle" fill="#555">{}</text></g>"##,
                        round(y + PAD / 2.0 + ROW * 0.72),
                        xml(&a),
                        round(y + PAD / 2.0 + ROW * 1.72),
                        xml(&b)
                    );
                }
                Spot::Item(k) => {
                    let item = &boxes.items[k];
                    let role = match (item.leaf, k == root) {
                        (true, true) => "leaf root",
                        (true, false) => "leaf",
                        (false, true) => "op root",
                        (false, false) => "op",
                    };
                    let fill = match item.kind.as_str() {
                        _ if !item.leaf => "#fff7db",
                        "var" => "#dbeafe",
                        _ => "#f1f5f9",
                    };
                    let data_name = match &item.name {
                        Some(name) => format!(r#" data-name="{}""#, xml(name)),
                        None => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        r##"<g class="node {role}" id="{}"{data_name}><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{fill}" stroke="#333" stroke-width="{}"/>"##,
                        id(s),
                        xml(&tooltip(item)),
                        round(x),
                        round(y),
                        round(w),
                        round(h),
                        if k == root { 2.2 } else { 1.0 },
                    );
                    let cx = round(x + w / 2.0);
                    let line = |out: &mut String,
                                row: f64,
                                class: &str,
                                attrs: &str,
                                text: &str| {
                        let _ = writeln!(
                            out,
                            r##"<text class="{class}" x="{cx}" y="{}" text-anchor="middle"{attrs}>{}</text>"##,
                            round(y + PAD / 2.0 + ROW * (row + 0.72)),
                            xml(text)
                        );
                    };
                    let mut row = 0.0;
                    if let Some(name) = &item.name {
                        line(&mut out, row, "name", r#" font-weight="bold""#, name);
                        row += 1.0;
                        line(&mut out, row, "kind", r##" fill="#555""##, &item.kind);
                    } else {
                        line(&mut out, row, "kind", r#" font-weight="bold""#, &item.kind);
                    }
                    row += 1.0;
                    let rule = round(y + PAD / 2.0 + ROW * row + 1.0);
                    let _ = writeln!(
                        out,
                        r##"<line x1="{}" y1="{rule}" x2="{}" y2="{rule}" stroke="#999" stroke-width="0.6"/>"##,
                        round(x),
                        round(x + w),
                    );
                    let value = format!("value {}", short(item.value));
                    line(&mut out, row, "value", "", &value);
                    let grad = format!("grad {}", short(item.grad));
                    line(&mut out, row + 1.0, "grad", r##" fill="#b91c1c""##, &grad);
                    out.push_str("</g>\n");
                }
            }
        }
        out.push_str("</g>\n</svg>\n");
        out
    }
}

/// Edge crossings between adjacent columns, for spots ranked by `rank`: pairs of segments
/// whose ends are in opposite orders, counted by merge sort.
pub(super) fn crossings(segs: &[(usize, usize, usize)], rank: &[usize], column: &[usize]) -> usize {
    let mut all: Vec<(usize, usize, usize)> = segs
        .iter()
        .map(|&(a, b, _)| (column[a], rank[a], rank[b]))
        .collect();
    all.sort_unstable();
    all.chunk_by(|p, q| p.0 == q.0)
        .map(|group| inversions(&mut group.iter().map(|p| p.2).collect::<Vec<_>>()))
        .sum()
}

/// Counts pairs i < j with `v[i] > v[j]`, sorting `v`.
pub(super) fn inversions(v: &mut [usize]) -> usize {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mut buf = v.to_vec();
    let mut count = 0;
    let mut width = 1;
    // Bottom-up merge sort: no recursion.
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid && j < end {
                if v[i] <= v[j] {
                    buf[k] = v[i];
                    i += 1;
                } else {
                    buf[k] = v[j];
                    count += mid - i;
                    j += 1;
                }
                k += 1;
            }
            buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
            k += mid - i;
            buf[k..k + end - j].copy_from_slice(&v[j..end]);
            start = end;
        }
        v.copy_from_slice(&buf);
        width *= 2;
    }
    count
}

/// Tops for boxes in one column, in this order, as near as possible (least squares) to
/// centres `wanted`, each at least its gap below the one above: pool adjacent violators.
pub(super) fn pack(wanted: &[f64], heights: &[f64], gaps: &[f64]) -> Vec<f64> {
    // Offset of each box's centre from the top of its block when packed tight.
    let n = wanted.len();
    let mut offset = vec![0.0; n];
    let mut at = 0.0;
    for k in 0..n {
        offset[k] = at + heights[k] / 2.0;
        at += heights[k] + gaps[k];
    }
    // Blocks: (first box, sum of wanted block tops, boxes).
    let mut blocks: Vec<(usize, f64, usize)> = Vec::new();
    for k in 0..n {
        blocks.push((k, wanted[k] - offset[k], 1));
        while blocks.len() > 1 {
            let (_, b_sum, b_n) = blocks[blocks.len() - 1];
            let (a_first, a_sum, a_n) = blocks[blocks.len() - 2];
            let a_top = a_sum / a_n as f64;
            let b_top = b_sum / b_n as f64;
            // Block tops share one frame (tight packing from box 0), so blocks overlap
            // exactly when the later one's top is above the earlier one's.
            if b_top < a_top {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (a_first, a_sum + b_sum, a_n + b_n);
            } else {
                break;
            }
        }
    }
    let mut tops = vec![0.0; n];
    for (first, sum, count) in blocks {
        let top = sum / count as f64;
        for k in first..first + count {
            tops[k] = top + offset[k] - heights[k] / 2.0;
        }
    }
    tops
}
