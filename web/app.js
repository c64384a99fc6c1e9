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

// ---------------------------------------------------------------- the graph view
const view = {
  graph: null,     // the last graph answer
  bw: null,        // the last backward answer (steps), or null
  stage: -1,       // -1: no gradients shown; 0: root seeded; k: k steps applied
  timer: null,
  pos: {},         // node id → {x, y}
  ranges: {},      // leaf id → slider range

  stages() { return this.bw ? this.bw.steps.length : 0; },
};

const BOX_W = 156;
const BOX_H = 62;
const GAP_X = 124;
const GAP_Y = 22;

// A layered layout, left to right: an op sits one layer right of its deepest input; leaves
// and constants move right next to their first consumer; a few barycentre sweeps order
// each layer to shorten edges. Inputs always have lower ids than their consumers, so one
// pass in id order computes the layers (no recursion).
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
  const setRanks = () => layers.forEach((l) => l.forEach((id, r) => { rank[id] = r; }));
  setRanks();
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
  const tallest = Math.max(...layers.map((l) => l.length));
  const gap = depth <= 8 ? GAP_X : GAP_X * 0.65; // deep graphs: narrower, still room for a label
  const pos = {};
  layers.forEach((l, d) => {
    const offset = (tallest - l.length) * (BOX_H + GAP_Y) / 2;
    l.forEach((id, r) => {
      pos[id] = { x: 12 + d * (BOX_W + gap), y: 12 + offset + r * (BOX_H + GAP_Y) };
    });
  });
  return {
    pos,
    width: 24 + depth * BOX_W + (depth - 1) * gap,
    height: 24 + tallest * BOX_H + (tallest - 1) * GAP_Y,
  };
}

// Unnamed nodes are called v<id> in the picture and in the step text.
function nodeName(node) {
  return node.name || `v${node.id}`;
}

function title(node) {
  if (node.kind === 'var') return node.name;
  if (node.kind === 'const') return `${nodeName(node)} · const`;
  return `${nodeName(node)} = ${node.op}`;
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

function drawGraph() {
  const g = view.graph;
  const el = $('graph');
  el.replaceChildren();
  const { pos, width, height } = layout(g.nodes);
  view.pos = pos;
  el.setAttribute('width', width);
  el.setAttribute('height', height);
  el.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const defs = svg('defs', {}, el);
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8a94a6' }, marker);

  const { grads, complete, current } = shownGrads();
  const edgeLayer = svg('g', { class: 'edges' }, el);
  const labelLayer = svg('g', { class: 'edge-labels' }, el);
  for (const node of g.nodes) {
    node.inputs.forEach((from, k) => {
      const a = pos[from];
      const b = pos[node.id];
      const spread = (k - (node.inputs.length - 1) / 2) * 16;
      const x1 = a.x + BOX_W;
      const y1 = a.y + BOX_H / 2;
      const x2 = b.x - 2;
      const y2 = b.y + BOX_H / 2 + spread;
      const mx = (x1 + x2) / 2;
      const active = current && current.node === node.id;
      svg('path', {
        d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`,
        class: active ? 'edge active' : (node.ancestor ? 'edge' : 'edge dim'),
        'marker-end': 'url(#arrow)',
      }, edgeLayer);
      if (active) {
        const e = current.edges[k];
        const t = svg('text', { x: mx, y: (y1 + y2) / 2 - 5, class: 'edge-label', 'text-anchor': 'middle' }, labelLayer);
        t.textContent = `${fmt(current.grad)} × ${fmt(e.local)} = ${fmt(e.product)}`;
      }
    });
  }
  for (const node of g.nodes) {
    const p = pos[node.id];
    const classes = ['node', node.kind];
    if (!node.ancestor) classes.push('dim');
    if (current && current.node === node.id) classes.push('current');
    else if (current && current.edges.some((e) => e.from === node.id)) classes.push('receiving');
    else if (complete.has(node.id) && view.stage >= 0) classes.push('done');
    if (node.id === g.root) classes.push('root');
    const box = svg('g', { class: classes.join(' '), 'data-id': node.id, 'data-name': node.name, transform: `translate(${p.x} ${p.y})` }, el);
    svg('rect', { width: BOX_W, height: BOX_H, rx: 7 }, box);
    const head = svg('text', { x: 10, y: 18, class: 'title' }, box);
    head.textContent = title(node);
    const value = svg('text', { x: 10, y: 36, class: 'value' }, box);
    value.textContent = `value ${fmt(node.value)}`;
    value.dataset.value = node.value;
    const grad = svg('text', { x: 10, y: 53, class: 'grad' }, box);
    const gv = grads[node.id];
    if (!node.tracked) grad.textContent = 'no grad (constant)';
    else if (gv === null) grad.textContent = 'grad ·';
    else grad.textContent = `grad ${fmt(gv)}`;
    if (gv !== null) grad.dataset.grad = gv;
    if (node.kind === 'var') {
      value.classList.add('draggable');
      value.addEventListener('pointerdown', (ev) => startDrag(ev, node));
      const tip = svg('title', {}, value);
      tip.textContent = 'drag left or right to change this leaf';
    }
  }
  if (current) {
    const wrap = el.parentNode;
    const x = pos[current.node].x;
    if (x < wrap.scrollLeft || x + BOX_W > wrap.scrollLeft + wrap.clientWidth) {
      wrap.scrollLeft = Math.max(0, x + BOX_W / 2 - wrap.clientWidth / 2);
    }
  }
  const root = g.nodes[g.root];
  $('output').textContent = `${root.name || 'output'} = ${fmt(root.value)}`;
  drawStepInfo(current);
}

function drawStepInfo(current) {
  const info = $('step-info');
  const g = view.graph;
  const label = (i) => nodeName(g.nodes[i]);
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
function showError(error) {
  const box = $('error');
  box.replaceChildren();
  const msg = document.createElement('div');
  msg.className = 'error-message';
  msg.textContent = error.message;
  box.appendChild(msg);
  if (error.line) {
    const line = $('source').value.split('\n')[error.line - 1] || '';
    const pre = document.createElement('pre');
    pre.textContent = `${line}\n${' '.repeat(Math.max(0, error.column - 1))}^`;
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
  drawGraph();
  buildLeafControls();
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

// ---------------------------------------------------------------- moons
const moons = {
  points: [],
  losses: [],
  steps: 100,
  running: false,
  box: null,
  k: 0,
};

const GRID = 60;

function moonsReset() {
  moons.running = false;
  $('train').textContent = '▶ train';
  const seed = Number($('moons-start').value);
  const r = engine.call('sg_moons_reset', seed);
  if (!r.ok) { $('moons-status').textContent = r.error.message; return; }
  moons.points = r.points;
  moons.steps = r.steps;
  moons.losses = [];
  moons.k = 0;
  const xs = r.points.map((p) => p[0]);
  const ys = r.points.map((p) => p[1]);
  const pad = 0.35;
  moons.box = { x0: Math.min(...xs) - pad, x1: Math.max(...xs) + pad, y0: Math.min(...ys) - pad, y1: Math.max(...ys) + pad };
  $('moons-status').textContent = `step 0/${moons.steps} · loss ${fmt(r.loss)} · accuracy ${Math.round(r.accuracy * 100)}%`;
  $('moons-status').dataset.loss = r.loss;
  drawBoundary();
  drawLoss();
}

function moonsStep() {
  if (moons.k >= moons.steps) return false;
  const r = engine.call('sg_moons_step');
  if (!r.ok) { $('moons-status').textContent = r.error.message; moons.running = false; return false; }
  moons.losses.push(Number(r.loss));
  moons.k = r.k + 1;
  const status = $('moons-status');
  status.textContent = `step ${moons.k}/${moons.steps} · loss ${fmt(r.loss)} · accuracy ${Math.round(r.accuracy * 100)}% · learning rate ${fmt(r.learning_rate)}`;
  status.dataset.loss = r.loss;
  status.dataset.step = moons.k;
  drawBoundary();
  drawLoss();
  return moons.k < moons.steps;
}

function train() {
  if (moons.running) {
    moons.running = false;
    $('train').textContent = '▶ train';
    return;
  }
  if (moons.k >= moons.steps) moonsReset();
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

function drawBoundary() {
  const canvas = $('boundary');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const b = moons.box;
  const scores = engine.floats('sg_moons_grid', GRID * GRID, GRID, b.x0, b.x1, b.y0, b.y1);
  ctx.clearRect(0, 0, w, h);
  // one pixel per grid point, scaled up smoothly: cell centres sit at the grid's points
  const cw = w / GRID;
  const ch = h / GRID;
  if (scores) {
    const small = document.createElement('canvas');
    small.width = GRID;
    small.height = GRID;
    const sctx = small.getContext('2d');
    const img = sctx.createImageData(GRID, GRID);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        const s = scores[r * GRID + c];
        const a = Math.min(1, Math.abs(s)) * 0.45 + 0.1;
        const [cr, cg, cb] = s > 0 ? [37, 99, 235] : [220, 38, 38];
        // row r is y = y0 + …: the image's rows grow downwards, so flip
        const at = ((GRID - 1 - r) * GRID + c) * 4;
        img.data[at] = Math.round(255 + (cr - 255) * a);
        img.data[at + 1] = Math.round(255 + (cg - 255) * a);
        img.data[at + 2] = Math.round(255 + (cb - 255) * a);
        img.data[at + 3] = 255;
      }
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, -cw / 2, -ch / 2, w + cw, h + ch);
  }
  const px = (x) => ((x - b.x0) / (b.x1 - b.x0)) * (w - cw) + cw / 2;
  const py = (y) => h - (((y - b.y0) / (b.y1 - b.y0)) * (h - ch) + ch / 2);
  for (const [x, y, label] of moons.points) {
    ctx.beginPath();
    ctx.arc(px(x), py(y), 4.2, 0, 2 * Math.PI);
    ctx.fillStyle = label > 0 ? '#1d4ed8' : '#b91c1c';
    ctx.fill();
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
  ctx.fillStyle = '#333';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText('decision boundary (blue: score > 0)', 8, 16);
}

function drawLoss() {
  const canvas = $('loss');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const left = 46;
  const bottom = h - 30;
  const top = 36;
  const right = w - 12;
  ctx.strokeStyle = '#999';
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, bottom);
  ctx.lineTo(right, bottom);
  ctx.stroke();
  ctx.fillStyle = '#333';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText('loss per step', left, 16);
  ctx.fillText('step', right - 26, h - 8);
  const maxLoss = Math.max(1, ...moons.losses.filter(Number.isFinite));
  ctx.fillText(fmt(Number(maxLoss.toPrecision(3))), 4, top + 4);
  ctx.fillText('0', 30, bottom + 4);
  ctx.fillText(String(moons.steps), right - 20, bottom + 16);
  if (!moons.losses.length) return;
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  moons.losses.forEach((l, k) => {
    const x = left + (k / Math.max(1, moons.steps - 1)) * (right - left);
    const y = bottom - (Math.min(l, maxLoss) / maxLoss) * (bottom - top);
    if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
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
  $('train').addEventListener('click', train);
  $('moons-step').addEventListener('click', () => { moons.running = false; $('train').textContent = '▶ train'; moonsStep(); });
  $('moons-reset').addEventListener('click', moonsReset);
  $('moons-start').addEventListener('change', moonsReset);
  engine.onRestart = () => { draw(); moonsReset(); };
  draw();
  moonsReset();
  document.body.dataset.ready = 'yes';
}

window.addEventListener('error', (e) => showFatal(`Unexpected error: ${e.message}`));
main();
