// The page's glue: loads scalargrad.wasm (raw extern "C" exports of web/wasm), passes text
// through its input buffer, reads JSON answers from its output buffer, and draws.
'use strict';

// ---------------------------------------------------------------- the engine
const engine = {
  bytes: null, // the compiled module, kept to start a fresh instance after a trap
  x: null,     // the instance's exports

  async load() {
    const response = await fetch('scalargrad.wasm');
    if (!response.ok) throw new Error(`scalargrad.wasm: HTTP ${response.status}`);
    this.bytes = await response.arrayBuffer();
    await this.start();
  },

  async start() {
    const { instance } = await WebAssembly.instantiate(this.bytes, {});
    this.x = instance.exports;
    this.x.sg_init();
  },

  write(text) {
    const bytes = new TextEncoder().encode(text);
    const ptr = this.x.sg_input(bytes.length);
    new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
  },

  read(len) {
    const ptr = this.x.sg_output_ptr();
    const text = new TextDecoder().decode(new Uint8Array(this.x.memory.buffer, ptr, len));
    return JSON.parse(text);
  },

  // A trapped instance is broken (its state may be half-updated): say so, start a fresh one,
  // and let the page load its graph and demo into it again.
  restart(message) {
    showFatal(`The engine stopped (${message}); it was restarted. Please report this.`);
    this.restarting = true;
    this.start().then(() => {
      this.restarting = false;
      this.restarts = (this.restarts || 0) + 1;
      if (this.onRestart) this.onRestart();
      document.body.dataset.restarts = this.restarts;
    }, (err) => showFatal(`The engine stopped (${message}) and could not restart: ${err}`));
  },

  // Calls an export that answers JSON. A trap (a bug in the module) becomes an answer
  // {ok: false, error} with the panic message, and a fresh instance replaces the broken one.
  call(name, ...args) {
    if (this.restarting) return { ok: false, error: { message: 'the engine is restarting' } };
    try {
      return this.read(this.x[name](...args));
    } catch (e) {
      let message = String(e && e.message || e);
      try {
        const p = this.read(this.x.sg_panic_message());
        if (p.message) message = p.message;
      } catch (_) { /* the instance is gone */ }
      this.restart(message);
      return { ok: false, error: { message: `the engine stopped: ${message}` }, trapped: true };
    }
  },

  // Calls an export that returns a pointer to `count` f64s (or 0).
  floats(name, count, ...args) {
    if (this.restarting) return null;
    try {
      const ptr = this.x[name](...args);
      if (!ptr) return null;
      return new Float64Array(this.x.memory.buffer, ptr, count).slice();
    } catch (e) {
      this.restart(String(e && e.message || e));
      return null;
    }
  },
};

// ---------------------------------------------------------------- helpers
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

// Numbers as a learner reads them: 110.00000000000001 → "110", 0.63029549 → "0.630295".
function fmt(v) {
  v = Number(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  let s;
  if (a >= 1e6 || a < 1e-4) {
    s = v.toExponential(3).replace(/\.?0+e/, 'e');
  } else {
    s = String(parseFloat(v.toPrecision(6)));
  }
  return s.replace('-', '−');
}

function showFatal(message) {
  const box = $('fatal');
  box.textContent = message;
  box.hidden = false;
}

// Exact numbers: every digit JS needs to give back the same f64 (its shortest round trip).
function exact(v) {
  v = Number(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return String(v);
}

// A name cut to `max` characters for a box or a line; the full name goes in a tooltip.
function shorten(name, max) {
  const chars = Array.from(name);
  return chars.length <= max ? name : `${chars.slice(0, max - 1).join('')}…`;
}

function isFiniteNumber(v) { return Number.isFinite(Number(v)); }

// ---------------------------------------------------------------- the graph view
const view = {
  graph: null,     // the last graph answer
  bw: null,        // the last backward answer (steps), or null
  stage: -1,       // -1: no gradients shown; 0: root seeded; k: k steps applied
  timer: null,
  pos: {},         // node id → {x, y}
  ranges: {},      // leaf id → slider range
  box: { w: 156, h: 62 },
  size: { width: 0, height: 0 },
  zoom: { s: 1, x: 0, y: 0 }, // screen = s · layout + (x, y)
  selected: null,  // the clicked node's id

  stages() { return this.bw ? this.bw.steps.length : 0; },
};

const GAP_Y = 22;
const MAX_PANEL_H = 520;

// A layered layout, left to right: an op sits one layer right of its deepest input; leaves
// and constants move right next to their first consumer; a few barycentre sweeps order
// each layer to shorten edges. Inputs always have lower ids than their consumers, so one
// pass in id order computes the layers (no recursion). Deep graphs get narrower boxes.
function layout(nodes) {
  const n = nodes.length;
  const layer = new Array(n).fill(0);
  const consumers = nodes.map(() => []);
  for (const node of nodes) {
    for (const i of node.inputs) {
      layer[node.id] = Math.max(layer[node.id], layer[i] + 1);
      consumers[i].push(node.id);
    }
  }
  for (let id = n - 1; id >= 0; id--) {
    if (nodes[id].inputs.length === 0 && consumers[id].length > 0) {
      layer[id] = Math.min(...consumers[id].map((c) => layer[c])) - 1;
    }
  }
  const depth = Math.max(0, ...layer) + 1;
  const layers = Array.from({ length: depth }, () => []);
  for (let id = 0; id < n; id++) layers[layer[id]].push(id);
  const rank = new Array(n).fill(0);
  layers.forEach((l) => l.forEach((id, r) => { rank[id] = r; }));
  const mean = (xs, fallback) => (xs.length ? xs.reduce((a, b) => a + rank[b], 0) / xs.length : fallback);
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let d = 1; d < depth; d++) {
      layers[d].sort((a, b) => mean(nodes[a].inputs, rank[a]) - mean(nodes[b].inputs, rank[b]));
      layers[d].forEach((id, r) => { rank[id] = r; });
    }
    for (let d = depth - 2; d >= 0; d--) {
      layers[d].sort((a, b) => mean(consumers[a], rank[a]) - mean(consumers[b], rank[b]));
      layers[d].forEach((id, r) => { rank[id] = r; });
    }
  }
  const compact = depth > 7;
  const box = compact ? { w: 128, h: 62 } : { w: 156, h: 62 };
  const gap = compact ? 64 : 124;
  const tallest = Math.max(...layers.map((l) => l.length));
  const pos = {};
  layers.forEach((l, d) => {
    const offset = (tallest - l.length) * (box.h + GAP_Y) / 2;
    l.forEach((id, r) => {
      pos[id] = { x: 12 + d * (box.w + gap), y: 12 + offset + r * (box.h + GAP_Y) };
    });
  });
  return {
    pos,
    box,
    width: 24 + depth * box.w + (depth - 1) * gap,
    height: 24 + tallest * box.h + (tallest - 1) * GAP_Y,
  };
}

// Unnamed nodes are called v<id> in the picture and in the step text.
function nodeName(node) {
  return node.name || `v${node.id}`;
}

function title(node, max) {
  const name = shorten(nodeName(node), max);
  if (node.kind === 'var') return name;
  if (node.kind === 'const') return `${name} · const`;
  return `${name} = ${node.op}`;
}

// The gradients to show at the current stage: the replayed partial sums while stepping,
// the engine's own gradients once the pass is complete.
function shownGrads() {
  const g = view.graph;
  const grads = new Array(g.nodes.length).fill(null);
  if (view.stage < 0) return { grads, complete: new Set(), current: null };
  if (view.stage >= view.stages()) {
    const complete = new Set();
    g.nodes.forEach((n, i) => {
      if (n.ancestor && n.tracked) { grads[i] = Number(n.grad); complete.add(i); }
    });
    return { grads, complete, current: null };
  }
  // at stage s, steps 0..=s have handed their shares down (step s is the one highlighted)
  const root = g.root;
  grads[root] = 1;
  const complete = new Set([root]);
  for (let s = 0; s <= view.stage; s++) {
    const step = view.bw.steps[s];
    complete.add(step.node);
    for (const e of step.edges) {
      if (!e.tracked) continue;
      grads[e.from] = (grads[e.from] || 0) + Number(e.product);
    }
  }
  // a leaf's gradient is complete once every op using it has handed its share down
  const pending = new Set(view.bw.steps.slice(view.stage + 1).map((s) => s.node));
  g.nodes.forEach((n, i) => {
    if (n.inputs.length === 0 && grads[i] !== null) {
      const waiting = g.nodes.some((m) => pending.has(m.id) && m.inputs.includes(i));
      if (!waiting) complete.add(i);
    }
  });
  const current = view.stage < view.stages() ? view.bw.steps[view.stage] : null;
  return { grads, complete, current };
}

// ---------------------------------------------------------------- zoom and pan
function applyZoom() {
  const z = view.zoom;
  $('viewport').setAttribute('transform', `translate(${z.x} ${z.y}) scale(${z.s})`);
  $('graph').dataset.scale = z.s.toFixed(4);
}

// The scale that shows the whole graph: the panel is as wide as the section and at most
// MAX_PANEL_H tall; small graphs are drawn at full size.
function fitZoom() {
  const wrap = $('graph-wrap');
  const width = wrap.clientWidth || 1000;
  const { width: w, height: h } = view.size;
  const s = Math.min(1, (width - 8) / w, MAX_PANEL_H / h);
  const panelH = Math.max(140, Math.ceil(h * s) + 8);
  wrap.style.height = `${panelH}px`;
  view.zoom = { s, x: (width - w * s) / 2, y: (panelH - h * s) / 2 };
  applyZoom();
}

function zoomBy(factor, cx, cy) {
  const wrap = $('graph-wrap');
  const z = view.zoom;
  if (cx === undefined) { cx = wrap.clientWidth / 2; cy = wrap.clientHeight / 2; }
  const s = Math.min(4, Math.max(0.1, z.s * factor));
  const k = s / z.s;
  view.zoom = { s, x: cx - (cx - z.x) * k, y: cy - (cy - z.y) * k };
  applyZoom();
}

function setupPanZoom() {
  const svgEl = $('graph');
  svgEl.addEventListener('wheel', (e) => {
    if (!e.ctrlKey && !e.metaKey) return; // a plain wheel scrolls the page
    e.preventDefault();
    const r = svgEl.getBoundingClientRect();
    zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  svgEl.addEventListener('pointerdown', (e) => {
    if (e.target.closest('.node')) return;
    const start = { x: e.clientX, y: e.clientY, zx: view.zoom.x, zy: view.zoom.y };
    svgEl.classList.add('panning');
    const move = (m) => {
      view.zoom.x = start.zx + m.clientX - start.x;
      view.zoom.y = start.zy + m.clientY - start.y;
      applyZoom();
    };
    const up = () => {
      svgEl.classList.remove('panning');
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  });
  $('zoom-in').addEventListener('click', () => zoomBy(1.25));
  $('zoom-out').addEventListener('click', () => zoomBy(1 / 1.25));
  $('zoom-fit').addEventListener('click', fitZoom);
  window.addEventListener('resize', () => { if (view.graph) fitZoom(); });
}

// Edge labels of one step: at each edge's middle, then pushed apart vertically until no
// two overlap (they are drawn in layout units, scaled up when the view is zoomed out).
function separateLabels(labels) {
  const boxes = labels.map((t) => ({ t, b: t.getBBox() }));
  boxes.sort((a, b) => a.b.y - b.b.y);
  for (let i = 1; i < boxes.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = boxes[j].b;
      const b = boxes[i].b;
      const overlapX = a.x < b.x + b.width && b.x < a.x + a.width;
      const overlapY = a.y < b.y + b.height && b.y < a.y + a.height;
      if (overlapX && overlapY) {
        const dy = a.y + a.height + 2 - b.y;
        const y = Number(boxes[i].t.getAttribute('y')) + dy;
        boxes[i].t.setAttribute('y', y);
        boxes[i].b = boxes[i].t.getBBox();
      }
    }
  }
}

function drawGraph(refit) {
  const g = view.graph;
  const el = $('viewport');
  el.replaceChildren();
  const lay = layout(g.nodes);
  view.pos = lay.pos;
  view.box = lay.box;
  const newSize = lay.width !== view.size.width || lay.height !== view.size.height;
  view.size = { width: lay.width, height: lay.height };
  if (refit || newSize) fitZoom();
  const { pos, box } = lay;
  const BOX_W = box.w;
  const BOX_H = box.h;
  const defs = svg('defs', {}, el);
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#94a3b8' }, marker);
  const { grads, complete, current } = shownGrads();
  const bad = new Map(); // node id → the explanation that names it
  for (const f of g.non_finite || []) bad.set(f.node, f.message);
  const edgeLayer = svg('g', {}, el);
  const labelLayer = svg('g', {}, el);
  const labels = [];
  const labelSize = Math.min(22, 10 / Math.max(view.zoom.s, 0.3)); // ≥ 10 px on screen
  for (const node of g.nodes) {
    node.inputs.forEach((i, k) => {
      const a = pos[i];
      const b = pos[node.id];
      const x1 = a.x + BOX_W;
      const y1 = a.y + BOX_H / 2;
      const x2 = b.x;
      const y2 = b.y + BOX_H / 2 + (node.inputs.length > 1 ? (k - (node.inputs.length - 1) / 2) * 14 : 0);
      const mx = (x1 + x2) / 2;
      const active = current && current.node === node.id;
      const cls = ['edge'];
      if (active) cls.push('active');
      if (!node.ancestor) cls.push('dim');
      svg('path', {
        d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2 - 2} ${y2}`,
        class: cls.join(' '),
        'marker-end': 'url(#arrow)',
      }, edgeLayer);
      if (active) {
        const e = current.edges[k];
        // in the gap above the boxes the edge joins, where no box is
        const t = svg('text', { x: mx, y: Math.min(a.y, b.y) - 5, class: 'edge-label', 'text-anchor': 'middle' }, labelLayer);
        t.style.fontSize = `${labelSize}px`; // readable however far the view is zoomed out
        t.textContent = `${fmt(current.grad)} × ${fmt(e.local)} = ${fmt(e.product)}`;
        labels.push(t);
      }
    });
  }
  const maxChars = Math.floor((BOX_W - 20) / 7.2);
  for (const node of g.nodes) {
    const p = pos[node.id];
    const classes = ['node', node.kind];
    if (!node.ancestor) classes.push('dim');
    if (current && current.node === node.id) classes.push('current');
    else if (current && current.edges.some((e) => e.from === node.id)) classes.push('receiving');
    else if (complete.has(node.id) && view.stage >= 0) classes.push('done');
    if (node.id === g.root) classes.push('root');
    const gv = grads[node.id];
    const nonFinite = !isFiniteNumber(node.value) || (gv !== null && !Number.isFinite(gv));
    if (nonFinite) classes.push('nonfinite');
    if (view.selected === node.id) classes.push('selected');
    const boxEl = svg('g', { class: classes.join(' '), 'data-id': node.id, 'data-name': node.name, transform: `translate(${p.x} ${p.y})` }, el);
    const tip = svg('title', {}, boxEl);
    tip.textContent = `${nodeName(node)} (${node.op})\nvalue ${exact(node.value)}\ngrad ${gv === null ? '·' : exact(gv)}`
      + (bad.has(node.id) ? `\n⚠ ${bad.get(node.id)}` : '');
    svg('rect', { width: BOX_W, height: BOX_H, rx: 7 }, boxEl);
    const head = svg('text', { x: 10, y: 18, class: 'title' }, boxEl);
    head.textContent = title(node, maxChars - (node.kind === 'op' ? node.op.length + 3 : 0));
    const value = svg('text', { x: 10, y: 36, class: 'value' }, boxEl);
    value.textContent = `value ${fmt(node.value)}`;
    value.dataset.value = node.value;
    const grad = svg('text', { x: 10, y: 53, class: 'grad' }, boxEl);
    if (!node.tracked) grad.textContent = 'no grad (constant)';
    else if (gv === null) grad.textContent = 'grad ·';
    else grad.textContent = `grad ${fmt(gv)}`;
    if (gv !== null) grad.dataset.grad = gv;
    if (nonFinite) {
      const warn = svg('text', { x: BOX_W - 8, y: 18, class: 'warn-mark', 'text-anchor': 'end' }, boxEl);
      warn.textContent = '⚠';
    }
    if (node.kind === 'var') {
      value.classList.add('draggable');
      value.addEventListener('pointerdown', (ev) => startDrag(ev, node));
    }
    boxEl.addEventListener('click', () => selectNode(node.id));
  }
  el.appendChild(labelLayer); // on top of the boxes: a label is never hidden under a node
  separateLabels(labels);
  if (current) {
    // keep the current node in view when zoomed in
    const wrap = $('graph-wrap');
    const z = view.zoom;
    const p = pos[current.node];
    const sx = p.x * z.s + z.x;
    const sy = p.y * z.s + z.y;
    if (sx < 0 || sx + BOX_W * z.s > wrap.clientWidth || sy < 0 || sy + BOX_H * z.s > wrap.clientHeight) {
      z.x += wrap.clientWidth / 2 - (sx + BOX_W * z.s / 2);
      z.y += wrap.clientHeight / 2 - (sy + BOX_H * z.s / 2);
      applyZoom();
    }
  }
  const root = g.nodes[g.root];
  $('output').textContent = `${shorten(nodeName(root) === `v${root.id}` ? 'output' : root.name, 40)} = ${fmt(root.value)}`;
  $('output').title = `${nodeName(root)} = ${exact(root.value)}`;
  drawPrints();
  drawNonFinite();
  drawStepInfo(current);
  drawNodeInfo();
}

function drawPrints() {
  const lines = view.graph.printed || [];
  const box = $('prints');
  box.textContent = lines.join('\n');
  box.hidden = lines.length === 0;
}

function drawNonFinite() {
  const box = $('nonfinite');
  const found = view.graph.non_finite || [];
  box.replaceChildren();
  box.hidden = found.length === 0;
  for (const f of found) {
    const line = document.createElement('div');
    line.className = 'nonfinite-line';
    line.dataset.node = f.node;
    line.dataset.gradient = f.gradient ? 'yes' : 'no';
    line.textContent = `⚠ ${f.message}`;
    box.appendChild(line);
  }
}

function selectNode(id) {
  view.selected = view.selected === id ? null : id;
  drawGraph();
}

function drawNodeInfo() {
  const box = $('node-info');
  const g = view.graph;
  const id = view.selected;
  if (id === null || !g.nodes[id]) {
    box.textContent = 'Click a node to see its exact value and gradient (every digit of the f64).';
    delete box.dataset.value;
    return;
  }
  const n = g.nodes[id];
  const { grads } = shownGrads();
  const gv = grads[id];
  const inputs = n.inputs.map((i) => nodeName(g.nodes[i])).join(', ');
  box.replaceChildren();
  const name = document.createElement('b');
  name.textContent = nodeName(n);
  box.append(name, ` (${n.op}${inputs ? ` of ${inputs}` : ''}): value `);
  const v = document.createElement('code');
  v.className = 'exact-value';
  v.textContent = exact(n.value);
  box.append(v, ', gradient ');
  const gr = document.createElement('code');
  gr.className = 'exact-grad';
  gr.textContent = gv === null ? (n.tracked ? 'not computed yet' : 'none (a constant)') : exact(gv);
  box.append(gr);
  box.dataset.value = n.value;
}
function drawStepInfo(current) {
  const info = $('step-info');
  const g = view.graph;
  const label = (i) => shorten(nodeName(g.nodes[i]), 48);
  if (view.stage < 0) {
    info.innerHTML = 'Press <b>backward</b> to send the gradient from the output back to every node, one node at a time, in reverse topological order.';
    return;
  }
  const root = label(g.root);
  if (!view.bw.steps.length && view.stage >= 0) {
    info.textContent = g.nodes[g.root].tracked
      ? `${root} is a leaf: its gradient is 1.`
      : 'The output depends on no leaf variable (only constants): there is nothing to differentiate.';
    return;
  }
  if (view.stage >= view.stages()) {
    const diff = Number(view.bw.max_rel_diff);
    const agree = diff <= 1e-12
      ? `the engine's own <code>backward</code> gives the same gradients (largest relative difference ${fmt(diff)})`
      : `<b>the engine's backward differs from this replay by ${fmt(diff)} (relative)</b>`;
    info.innerHTML = `Done: every node holds ∂${escapeHtml(root)}/∂node; ${agree}. Drag a leaf's value to watch them all change.`;
    info.dataset.agree = diff <= 1e-12 ? 'yes' : 'no';
    return;
  }
  const step = current;
  const node = g.nodes[step.node];
  const parts = [];
  const k = view.stage + 1;
  let head = `Step ${k} of ${view.stages()}: <b>${escapeHtml(label(step.node))}</b> (${escapeHtml(node.op)}) has its full gradient ∂${escapeHtml(root)}/∂${escapeHtml(label(step.node))} = <b>${fmt(step.grad)}</b>`;
  if (step.node === g.root) head += ' (the output: ∂x/∂x = 1)';
  parts.push(`${head}. It hands each input <i>upstream × local</i>. <span class="rule">${escapeHtml(node.rule)}</span>`);
  const items = step.edges.map((e) => {
    const to = escapeHtml(label(e.from));
    const tail = e.tracked ? `added to ${to}'s gradient` : `${to} is a constant: no gradient kept`;
    return `<li>∂${escapeHtml(label(step.node))}/∂${to} = <b>${fmt(e.local)}</b> (local) × <b>${fmt(step.grad)}</b> (upstream) = <b>${fmt(e.product)}</b>, ${tail}</li>`;
  });
  info.innerHTML = `${parts.join('')}<ul>${items.join('')}</ul>`;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// ---------------------------------------------------------------- leaves: sliders and dragging
function buildLeafControls() {
  const box = $('leaves');
  box.replaceChildren();
  view.ranges = {};
  const leaves = view.graph.nodes.filter((n) => n.kind === 'var');
  if (!leaves.length) return;
  const head = document.createElement('div');
  head.className = 'leaves-head';
  head.textContent = 'Leaves: drag a slider (or a value in the picture), or type a number';
  box.appendChild(head);
  for (const leaf of leaves) {
    const v = Number(leaf.value);
    const span = Math.max(Math.abs(v), 1) * 2;
    const range = { min: v - span, max: v + span };
    view.ranges[leaf.id] = range;
    const row = document.createElement('label');
    row.className = 'leaf';
    const name = document.createElement('span');
    name.className = 'leaf-name';
    name.textContent = leaf.name;
    name.title = leaf.name;
    const slider = document.createElement('input');
    Object.assign(slider, { type: 'range', min: range.min, max: range.max, step: (range.max - range.min) / 400, value: v });
    slider.id = `leaf-slider-${leaf.name}`;
    const number = document.createElement('input');
    Object.assign(number, { type: 'number', step: 'any', value: v });
    number.id = `leaf-input-${leaf.name}`;
    slider.addEventListener('input', () => { number.value = slider.value; setLeaf(leaf.id, Number(slider.value)); });
    number.addEventListener('input', () => {
      if (number.value === '' || !Number.isFinite(Number(number.value))) return;
      slider.value = number.value;
      setLeaf(leaf.id, Number(number.value));
    });
    row.append(name, slider, number);
    box.appendChild(row);
  }
}

function syncLeafControls() {
  for (const n of view.graph.nodes) {
    if (n.kind !== 'var') continue;
    const number = $(`leaf-input-${n.name}`);
    const slider = $(`leaf-slider-${n.name}`);
    if (number && document.activeElement !== number) number.value = Number(n.value);
    if (slider && document.activeElement !== slider) slider.value = Number(n.value);
  }
}

function setLeaf(id, value) {
  if (!Number.isFinite(value)) return;
  const answer = engine.call('sg_set_leaf', id, value);
  if (!answer.ok) { showError(answer.error); return; }
  view.graph = answer;
  if (view.stage >= 0) {
    // gradients are shown: the engine reran backward; refresh the replay and show the result
    stopAnimation();
    const bw = engine.call('sg_backward');
    if (!bw.ok) { showError(bw.error); return; }
    view.bw = bw;
    view.graph = bw.graph;
    view.stage = view.stages();
  }
  drawGraph();
  syncLeafControls();
  clearCheck();
}

function startDrag(ev, node) {
  ev.preventDefault();
  const x0 = ev.clientX;
  const v0 = Number(node.value);
  const range = view.ranges[node.id] || { min: v0 - 1, max: v0 + 1 };
  const perPixel = (range.max - range.min) / 400;
  const target = ev.target;
  target.setPointerCapture && target.setPointerCapture(ev.pointerId);
  const move = (e) => {
    const v = v0 + (e.clientX - x0) * perPixel;
    setLeaf(node.id, Number(v.toPrecision(6)));
  };
  const up = () => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
}

// ---------------------------------------------------------------- loading a program
// An error: the message, then the line it points at with a caret under the place. A long
// line is shown as a window around the caret, so the caret is always in view.
function showError(error) {
  const box = $('error');
  box.replaceChildren();
  const msg = document.createElement('div');
  msg.className = 'error-message';
  msg.textContent = error.message;
  box.appendChild(msg);
  if (error.line) {
    const chars = Array.from($('source').value.split('\n')[error.line - 1] || '');
    const col = Math.max(0, error.column - 1);
    const WINDOW = 72;
    let start = 0;
    let end = chars.length;
    if (chars.length > WINDOW) {
      start = Math.max(0, Math.min(col - 40, chars.length - WINDOW));
      end = Math.min(chars.length, start + WINDOW);
    }
    const head = start > 0 ? '…' : '';
    const tail = end < chars.length ? '…' : '';
    const pre = document.createElement('pre');
    pre.textContent = `${head}${chars.slice(start, end).join('')}${tail}\n${' '.repeat(head.length + col - start)}^`;
    box.appendChild(pre);
  }
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

function draw() {
  stopAnimation();
  engine.write($('source').value);
  const answer = engine.call('sg_load');
  if (!answer.ok) {
    showError(answer.error);
    $('graph-section').classList.add('stale');
    return false;
  }
  clearError();
  $('graph-section').classList.remove('stale');
  view.graph = answer;
  view.bw = null;
  view.stage = -1;
  view.selected = null;
  if (answer.calls_backward) {
    // the program runs `.backward()` itself: show its gradients (and its prints after it)
    if (!ensureBackward()) return false;
    view.stage = view.stages();
  }
  drawGraph(true);
  buildLeafControls();
  buildCheck();
  return true;
}

function ensureBackward() {
  if (view.stage >= 0 && view.bw) return true;
  const bw = engine.call('sg_backward');
  if (!bw.ok) { showError(bw.error); return false; }
  view.bw = bw;
  view.graph = bw.graph;
  view.stage = 0;
  return true;
}

function step() {
  if (!view.graph) return;
  if (view.stage < 0 || view.stage >= view.stages()) {
    // start (again) from the root
    view.stage = -1;
    view.bw = null;
    if (!ensureBackward()) return;
  } else {
    view.stage += 1;
  }
  drawGraph();
}

function runAll() {
  if (!view.graph) return;
  stopAnimation();
  if (!ensureBackward()) return;
  view.stage = view.stages();
  drawGraph();
}

function stopAnimation() {
  if (view.timer) clearInterval(view.timer);
  view.timer = null;
  $('play').textContent = '▶ animate';
}

function play() {
  if (view.timer) { stopAnimation(); return; }
  if (view.stage < 0 || view.stage >= view.stages()) step();
  $('play').textContent = '❚❚ pause';
  view.timer = setInterval(() => {
    if (view.stage >= view.stages()) { stopAnimation(); return; }
    step();
  }, 900);
}

function zeroGrads() {
  stopAnimation();
  const answer = engine.call('sg_zero_grad');
  if (!answer.ok) { showError(answer.error); return; }
  view.graph = answer;
  view.bw = null;
  view.stage = -1;
  drawGraph();
}

// ---------------------------------------------------------------- the numerical check
function buildCheck() {
  const select = $('check-leaf');
  const keep = select.value;
  select.replaceChildren();
  const leaves = view.graph.nodes.filter((n) => n.kind === 'var' && n.ancestor);
  for (const leaf of leaves) {
    const o = document.createElement('option');
    o.value = leaf.id;
    o.textContent = shorten(leaf.name, 30);
    o.title = leaf.name;
    select.appendChild(o);
  }
  if (leaves.some((l) => String(l.id) === keep)) select.value = keep;
  $('check').hidden = leaves.length === 0;
  clearCheck();
}

function clearCheck() {
  const box = $('check-result');
  box.replaceChildren();
  delete box.dataset.forward;
}

// Nudges the leaf by h: the output's change divided by h (forward and central differences)
// beside the engine's gradient.
function runCheck() {
  const id = Number($('check-leaf').value);
  const h = Number($('check-h').value);
  const box = $('check-result');
  const r = engine.call('sg_nudge', id, h);
  if (!r.ok) { box.textContent = r.error.message; return; }
  const g = view.graph;
  const leaf = shorten(nodeName(g.nodes[id]), 30);
  const out = shorten(nodeName(g.nodes[g.root]), 30);
  const rel = Math.abs(Number(r.central) - Number(r.grad)) / Math.max(1, Math.abs(Number(r.grad)));
  box.innerHTML = '';
  const lines = [
    `${leaf} = ${exact(r.x)} → ${exact(Number(r.x) + Number(r.h))}: ${out} goes ${exact(r.f0)} → ${exact(r.f_plus)}`,
    `(${out}(x+h) − ${out}(x)) / h = ${exact(r.forward)}    central (${out}(x+h) − ${out}(x−h)) / 2h = ${exact(r.central)}`,
    `the engine's gradient ∂${out}/∂${leaf} = ${exact(r.grad)}    (central difference off by ${fmt(rel)}, relative)`,
  ];
  for (const l of lines) {
    const d = document.createElement('div');
    d.textContent = l;
    box.appendChild(d);
  }
  Object.assign(box.dataset, { forward: r.forward, central: r.central, grad: r.grad });
}

// ---------------------------------------------------------------- moons: the network
const moons = {
  points: [],
  losses: [],
  steps: 100,
  running: false,
  box: null,
  k: 0,
  net: null,
  hover: null, // [layer, index] of the hovered neuron, or null
  neuronGrids: null,
};

const GRID = 60;
const THUMB = 20;

// The controls as the engine's settings.
function moonsSettings() {
  const hidden = $('hidden').value.split(/[\s,]+/).filter((t) => t !== '').map(Number);
  const settings = {
    hidden,
    learning_rate: Number($('lr').value),
    l2: Number($('l2').value),
    start: Number($('moons-start').value),
  };
  if ($('data').value === 'generated') {
    settings.noise = Number($('noise').value);
    settings.data_seed = Number($('data-seed').value);
  }
  return settings;
}

function moonsReset() {
  moons.running = false;
  $('train').textContent = '▶ train';
  const settings = moonsSettings();
  const bad = settings.hidden.some((w) => !Number.isInteger(w));
  const r = bad
    ? { ok: false, error: { message: `hidden sizes “${$('hidden').value}”: write whole numbers separated by commas, e.g. 16, 16` } }
    : (engine.write(JSON.stringify(settings)), engine.call('sg_moons_reset'));
  const errorBox = $('moons-error');
  if (!r.ok) {
    errorBox.textContent = r.error.message;
    errorBox.hidden = false;
    return false;
  }
  errorBox.hidden = true;
  moons.points = r.points;
  moons.steps = r.steps;
  moons.losses = [];
  moons.k = 0;
  moons.net = r.net;
  const xs = r.points.map((p) => p[0]);
  const ys = r.points.map((p) => p[1]);
  const pad = 0.35;
  moons.box = { x0: Math.min(...xs) - pad, x1: Math.max(...xs) + pad, y0: Math.min(...ys) - pad, y1: Math.max(...ys) + pad };
  const startNote = settings.start < 0 && r.start >= 0 ? ' (micrograd\'s weights are for 16, 16: random weights, seed 1)' : '';
  const status = $('moons-status');
  status.textContent = `step 0/${moons.steps} · loss ${fmt(r.loss)} · accuracy ${Math.round(r.accuracy * 100)}% · ${r.parameters} parameters${startNote}`;
  Object.assign(status.dataset, { loss: r.loss, loss0: r.loss, step: 0, parameters: r.parameters });
  delete status.dataset.lr;
  $('boundary').dataset.firstPoint = `${r.points[0][0]},${r.points[0][1]}`;
  buildNet();
  refreshMoons();
  return true;
}

function moonsStep() {
  if (moons.k >= moons.steps) return false;
  const r = engine.call('sg_moons_step');
  if (!r.ok) { $('moons-status').textContent = r.error.message; moons.running = false; return false; }
  moons.losses.push(Number(r.loss));
  moons.k = r.k + 1;
  moons.net = r.net;
  const status = $('moons-status');
  status.textContent = `step ${moons.k}/${moons.steps} · loss ${fmt(r.loss)} · accuracy ${Math.round(r.accuracy * 100)}% · learning rate ${fmt(r.learning_rate)}`;
  Object.assign(status.dataset, { loss: r.loss, step: moons.k, lr: r.learning_rate });
  refreshMoons();
  return moons.k < moons.steps;
}

function train() {
  if (moons.running) {
    moons.running = false;
    $('train').textContent = '▶ train';
    return;
  }
  if (moons.k >= moons.steps && !moonsReset()) return;
  moons.running = true;
  $('train').textContent = '❚❚ pause';
  const tick = () => {
    if (!moons.running) return;
    if (!moonsStep()) {
      moons.running = false;
      $('train').textContent = '▶ train';
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// A control changed: start over with the new settings and train.
function restartTraining() {
  if (moonsReset()) train();
}

function refreshMoons() {
  const b = moons.box;
  const sizes = moons.net.sizes;
  const count = sizes.slice(1).reduce((a, c) => a + c, 0);
  moons.neuronGrids = engine.floats('sg_moons_grid', count * THUMB * THUMB, THUMB, b.x0, b.x1, b.y0, b.y1);
  updateNet();
  drawBoundary();
  drawLoss();
}

// Neuron j's index in the grid answer: hidden layers first, the output last.
function neuronIndex(layer, index) {
  const sizes = moons.net.sizes;
  let j = 0;
  for (let l = 1; l < layer; l++) j += sizes[l];
  return j + index;
}

const NET = { w: 1100, h: 420, cell: 26 };

// The network as columns of neurons (layer 0: the inputs x, y) joined by every weight.
function buildNet() {
  const el = $('net');
  el.replaceChildren();
  const sizes = moons.net.sizes;
  const tallest = Math.max(...sizes);
  const cell = Math.max(8, Math.min(NET.cell, (NET.h - 24) / tallest - 4));
  const colX = (l) => 60 + l * ((NET.w - 160) / (sizes.length - 1));
  const rowY = (l, i) => {
    const gap = Math.min(cell + 6, (NET.h - 20) / sizes[l]);
    return NET.h / 2 + (i - (sizes[l] - 1) / 2) * gap;
  };
  el.setAttribute('viewBox', `0 0 ${NET.w} ${NET.h}`);
  moons.layout = { cell, colX, rowY };
  const weights = svg('g', { class: 'weights' }, el);
  for (let l = 1; l < sizes.length; l++) {
    for (let i = 0; i < sizes[l]; i++) {
      for (let k = 0; k < sizes[l - 1]; k++) {
        const x1 = colX(l - 1) + cell / 2;
        const y1 = rowY(l - 1, k);
        const x2 = colX(l) - cell / 2;
        const y2 = rowY(l, i);
        const mx = (x1 + x2) / 2;
        const p = svg('path', { d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, class: 'weight', 'data-layer': l, 'data-to': i, 'data-from': k }, weights);
        svg('title', {}, p);
      }
    }
  }
  const names = ['x', 'y'];
  for (let l = 0; l < sizes.length; l++) {
    for (let i = 0; i < sizes[l]; i++) {
      const x = colX(l) - cell / 2;
      const y = rowY(l, i) - cell / 2;
      const g = svg('g', { class: `neuron${l === 0 ? ' input' : ''}`, 'data-layer': l, 'data-index': i, transform: `translate(${x} ${y})` }, el);
      svg('rect', { width: cell, height: cell, rx: 3 }, g);
      if (l === 0) {
        const t = svg('text', { x: cell / 2, y: cell / 2 + 4, 'text-anchor': 'middle' }, g);
        t.textContent = names[i];
      } else {
        svg('image', { width: cell, height: cell, preserveAspectRatio: 'none' }, g);
        g.addEventListener('pointerenter', () => { moons.hover = [l, i]; drawBoundary(); });
        g.addEventListener('pointerleave', () => { moons.hover = null; drawBoundary(); });
      }
      svg('title', {}, g);
    }
  }
  for (let l = 0; l < sizes.length; l++) {
    const t = svg('text', { x: colX(l), y: 12, 'text-anchor': 'middle', class: 'layer-label' }, el);
    t.textContent = l === 0 ? 'inputs' : (l === sizes.length - 1 ? 'output' : `hidden ${l} (ReLU)`);
  }
}

// Weights' colour and thickness, neurons' pictures and tooltips, from the current network.
function updateNet() {
  const el = $('net');
  const layers = moons.net.layers;
  let maxAbs = 0;
  for (const layer of layers) for (const n of layer) for (const w of n.w) maxAbs = Math.max(maxAbs, Math.abs(Number(w)));
  maxAbs = maxAbs || 1;
  for (const p of el.querySelectorAll('path.weight')) {
    const w = Number(layers[p.dataset.layer - 1][p.dataset.to].w[p.dataset.from]);
    const size = Math.abs(w) / maxAbs;
    p.setAttribute('stroke', w >= 0 ? '#2563eb' : '#f97316');
    p.setAttribute('stroke-width', (0.3 + 4 * size).toFixed(2));
    p.setAttribute('stroke-opacity', (0.25 + 0.7 * size).toFixed(2));
    p.dataset.w = w;
    p.firstChild.textContent = `weight ${exact(w)}`;
  }
  const cells = THUMB * THUMB;
  const canvas = document.createElement('canvas');
  canvas.width = THUMB;
  canvas.height = THUMB;
  const ctx = canvas.getContext('2d');
  for (const g of el.querySelectorAll('g.neuron')) {
    const l = Number(g.dataset.layer);
    const i = Number(g.dataset.index);
    const tip = g.querySelector('title');
    if (l === 0) { tip.textContent = `input ${i === 0 ? 'x' : 'y'}`; continue; }
    const n = layers[l - 1][i];
    tip.textContent = `${l === layers.length ? 'output' : `hidden ${l}, neuron ${i + 1}`}: bias ${exact(n.b)}; weights ${n.w.map(exact).join(', ')}`;
    g.dataset.bias = n.b;
    if (!moons.neuronGrids) continue;
    const j = neuronIndex(l, i);
    const values = moons.neuronGrids.subarray(j * cells, (j + 1) * cells);
    paintGrid(ctx, values, THUMB);
    g.querySelector('image').setAttribute('href', canvas.toDataURL());
  }
}

// Blue where the value is positive, orange where negative, white at 0 (TF Playground's
// colours); row r of the grid is y = y0 + …, so image rows are flipped.
function paintGrid(ctx, values, n, fixedScale) {
  let scale = fixedScale || 0;
  if (!fixedScale) for (const v of values) scale = Math.max(scale, Math.abs(v));
  scale = Math.max(scale, 1e-9);
  const img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = values[r * n + c];
      const a = Math.min(1, Math.abs(v) / scale) * 0.75 + 0.08;
      const [cr, cg, cb] = v > 0 ? [37, 99, 235] : (v < 0 ? [249, 115, 22] : [255, 255, 255]);
      const at = ((n - 1 - r) * n + c) * 4;
      img.data[at] = Math.round(255 + (cr - 255) * a);
      img.data[at + 1] = Math.round(255 + (cg - 255) * a);
      img.data[at + 2] = Math.round(255 + (cb - 255) * a);
      img.data[at + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// The decision boundary (the output's score), or the hovered neuron's output, over the
// plane, with the points on top.
function drawBoundary() {
  const canvas = $('boundary');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const b = moons.box;
  const count = moons.net.sizes.slice(1).reduce((a, c) => a + c, 0);
  const grids = engine.floats('sg_moons_grid', count * GRID * GRID, GRID, b.x0, b.x1, b.y0, b.y1);
  const [layer, index] = moons.hover || [moons.net.sizes.length - 1, 0];
  const j = neuronIndex(layer, index);
  ctx.clearRect(0, 0, w, h);
  const cw = w / GRID;
  const ch = h / GRID;
  if (grids) {
    const small = document.createElement('canvas');
    small.width = GRID;
    small.height = GRID;
    const values = grids.subarray(j * GRID * GRID, (j + 1) * GRID * GRID);
    // a neuron's output on its own scale; the score saturated at |score| = 1, the margin
    // the hinge loss asks for
    paintGrid(small.getContext('2d'), values, GRID, moons.hover ? 0 : 1);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, -cw / 2, -ch / 2, w + cw, h + ch);
  }
  const px = (x) => ((x - b.x0) / (b.x1 - b.x0)) * (w - cw) + cw / 2;
  const py = (y) => h - (((y - b.y0) / (b.y1 - b.y0)) * (h - ch) + ch / 2);
  for (const [x, y, label] of moons.points) {
    ctx.beginPath();
    ctx.arc(px(x), py(y), 4.2, 0, 2 * Math.PI);
    ctx.fillStyle = label > 0 ? '#1d4ed8' : '#c2410c';
    ctx.fill();
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
  ctx.fillStyle = '#111';
  ctx.font = '12px system-ui, sans-serif';
  const what = moons.hover
    ? `${layer === moons.net.sizes.length - 1 ? 'the output' : `hidden ${layer}, neuron ${index + 1}`}: its output over the plane`
    : 'decision boundary (blue: score > 0)';
  ctx.fillText(what, 8, 16);
  canvas.dataset.showing = moons.hover ? `${layer}:${index}` : 'output';
}

// 1, 2 or 5 times a power of ten: a step that gives about `ticks` ticks up to `max`.
function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function drawLoss() {
  const canvas = $('loss');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const left = 52;
  const bottom = h - 34;
  const top = 30;
  const right = w - 14;
  const finite = moons.losses.filter(Number.isFinite);
  const peak = Math.max(Number($('moons-status').dataset.loss0) || 0, ...finite, 1e-3);
  const stepY = niceStep(peak, 5);
  const maxY = Math.ceil(peak / stepY - 1e-9) * stepY;
  const X = (k) => left + (k / moons.steps) * (right - left);
  const Y = (v) => bottom - (Math.min(v, maxY) / maxY) * (bottom - top);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const yticks = [];
  for (let v = 0; v <= maxY + stepY / 2; v += stepY) {
    const y = Y(v);
    ctx.strokeStyle = '#eef0f3';
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
    ctx.fillStyle = '#444';
    const label = Number(v.toPrecision(6)).toString();
    ctx.fillText(label, left - 6, y);
    yticks.push(label);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xticks = [];
  for (let k = 0; k <= moons.steps; k += 20) {
    const x = X(k);
    ctx.strokeStyle = '#999';
    ctx.beginPath(); ctx.moveTo(x, bottom); ctx.lineTo(x, bottom + 4); ctx.stroke();
    ctx.fillStyle = '#444';
    ctx.fillText(String(k), x, bottom + 6);
    xticks.push(k);
  }
  ctx.strokeStyle = '#999';
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, bottom); ctx.lineTo(right, bottom); ctx.stroke();
  ctx.fillStyle = '#111';
  ctx.textAlign = 'left';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText('loss (hinge + α·L2) per step', left, 8);
  ctx.textAlign = 'right';
  ctx.fillText('step', right, h - 14);
  canvas.dataset.yticks = yticks.join(',');
  canvas.dataset.xticks = xticks.join(',');
  if (!moons.losses.length) return;
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  moons.losses.forEach((l, k) => {
    if (k === 0) ctx.moveTo(X(k), Y(l)); else ctx.lineTo(X(k), Y(l));
  });
  ctx.stroke();
  ctx.lineWidth = 1;
}

// ---------------------------------------------------------------- start
async function main() {
  try {
    await engine.load();
  } catch (e) {
    showFatal(`Could not load the engine (scalargrad.wasm): ${e.message || e}. ` +
      'Serve this folder over HTTP, e.g. python3 -m http.server -d web/dist, and open http://localhost:8000/.');
    return;
  }
  const presets = engine.call('sg_presets');
  const select = $('preset');
  for (const p of presets) {
    const o = document.createElement('option');
    o.value = p.key;
    o.textContent = p.title;
    select.appendChild(o);
  }
  const edited = document.createElement('option');
  edited.value = 'edited';
  edited.textContent = 'Your program (edited)';
  edited.hidden = true;
  select.appendChild(edited);
  const byKey = Object.fromEntries(presets.map((p) => [p.key, p]));
  $('source').addEventListener('input', () => {
    edited.hidden = false;
    select.value = 'edited';
  });
  select.addEventListener('change', () => {
    if (!byKey[select.value]) return;
    $('source').value = byKey[select.value].source;
    draw();
  });
  $('source').value = byKey.apple.source;
  select.value = 'apple';
  $('draw').addEventListener('click', draw);
  $('source').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); draw(); }
  });
  $('step').addEventListener('click', () => { stopAnimation(); step(); });
  $('play').addEventListener('click', play);
  $('run-all').addEventListener('click', runAll);
  $('zero').addEventListener('click', zeroGrads);
  $('check-run').addEventListener('click', runCheck);
  setupPanZoom();
  $('train').addEventListener('click', train);
  $('moons-step').addEventListener('click', () => { moons.running = false; $('train').textContent = '▶ train'; moonsStep(); });
  $('moons-reset').addEventListener('click', moonsReset);
  for (const id of ['moons-start', 'lr', 'hidden', 'l2', 'data']) $(id).addEventListener('change', restartTraining);
  $('noise').addEventListener('input', () => { $('noise-value').textContent = $('noise').value; });
  for (const id of ['noise', 'data-seed']) {
    $(id).addEventListener('change', () => { $('data').value = 'generated'; restartTraining(); });
  }
  engine.onRestart = () => { draw(); moonsReset(); };
  draw();
  moonsReset();
  document.body.dataset.ready = 'yes';
}

window.addEventListener('error', (e) => showFatal(`Unexpected error: ${e.message}`));
main();
