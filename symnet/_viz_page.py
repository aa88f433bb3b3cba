"""The page ``symnet.viz`` writes: one HTML file, its CSS and JavaScript inline.

Nothing is fetched from the network: the graph data is JSON in a
``<script type="application/json">`` element, the drawing is SVG built by
the script below.  The page has a self-test: opened with the URL fragment
``#selftest`` it clicks a node and switches through every stage, then
writes what it saw (node counts, labels, the details shown) as JSON into
``<pre id="selftest">``, which a headless browser's ``--dump-dom`` prints
(``tests/test_viz_browser.py``).
"""
import html
import json

__all__ = ["render", "page_data"]

_CSS = """
body{margin:0;font:13px sans-serif;display:flex;height:100vh;overflow:hidden}
#main{flex:1;position:relative}
#bar{position:absolute;top:0;left:0;right:0;background:#f4f4f4;padding:6px;
     border-bottom:1px solid #ccc;z-index:2}
#bar button,#bar select{margin-right:6px}
svg{width:100%;height:100%;cursor:grab;background:#fff}
#side{width:34%;max-width:560px;border-left:1px solid #ccc;overflow:auto;padding:8px;
      box-sizing:border-box}
g.node rect{fill:#e8f0fe;stroke:#4a6fa5;rx:5}
g.node.block rect{fill:#efe3fb;stroke:#7a4fa5;stroke-width:2}
g.node.input rect{fill:#fff7d6;stroke:#b08d00}
g.node.shared rect{fill:#e3f6e3;stroke:#3c8d3c}
g.node.new rect{stroke:#d03030;stroke-width:3}
g.node.sel rect{fill:#ffd8a8}
g.node text{font-size:12px;pointer-events:none}
path.edge{fill:none;stroke:#999;stroke-width:1.2}
pre{background:#f7f7f7;padding:6px;overflow:auto;font-size:11px}
td{vertical-align:top;padding:1px 6px 1px 0}
.small text{display:none}
"""

_JS = r"""
(function(){
const DATA = JSON.parse(document.getElementById('graph-data').textContent);
const NS = 'http://www.w3.org/2000/svg';
const svg = document.getElementById('view'), root = document.getElementById('root');
const side = document.getElementById('side'), sel = document.getElementById('stage');
let view = {x: 0, y: 0, k: 1}, current = 0;
function el(tag, attrs, parent){
  const e = document.createElementNS(NS, tag);
  for (const a in attrs) e.setAttribute(a, attrs[a]);
  if (parent) parent.appendChild(e);
  return e;
}
function apply(){
  root.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
  root.classList.toggle('small', view.k < 0.35);   // labels unreadable: hide them
}
function esc(s){ const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function short(s){ return s.length > 24 ? s.slice(0, 22) + '..' : s; }
function draw(i){
  current = i; sel.value = String(i);
  const st = DATA.stages[i];
  root.textContent = '';
  const ge = el('g', {}, root), gn = el('g', {}, root);
  for (const [a, b] of st.edges){
    const p = st.nodes[a], q = st.nodes[b], my = (p.y + q.y) / 2;
    el('path', {d: `M${p.x},${p.y + 12} C${p.x},${my} ${q.x},${my} ${q.x},${q.y - 12}`,
                class: 'edge'}, ge);
  }
  st.nodes.forEach((n, k) => {
    const g = el('g', {class: 'node ' + n.kind + (n.block ? ' block' : '') + (n['new'] ? ' new' : ''),
                       transform: `translate(${n.x},${n.y})`, 'data-id': k}, gn);
    el('rect', {x: -75, y: -12, width: 150, height: 24}, g);
    const t = el('text', {'text-anchor': 'middle', y: 4}, g);
    t.textContent = short(n.label);
    g.addEventListener('click', ev => { ev.stopPropagation(); show(k); });
  });
  const fired = Object.entries(st.fired || {}).sort((a, b) => b[1] - a[1]);
  const made = st.nodes.filter(n => n['new']).length;
  const blocks = st.nodes.filter(n => n.block).length;
  side.innerHTML = `<h3>${esc(st.name)}</h3><p>${st.nodes.length} nodes, ${st.edges.length}
    edges${made ? `, ${made} new in this stage (red border; click one for the rewrite that made it)` : ''}${st.removed ? `, ${st.removed} removed` : ''}.</p>` +
    (blocks ? `<p id="blocks-note">${blocks} layer blocks (purple): the nodes one layer built, or that read one layer, folded into one box; click one to list its nodes.</p>` : '') +
    (fired.length ? '<b>rewrites that fired</b><table>' + fired.map(([r, c]) =>
      `<tr><td>${esc(r)}</td><td>${c}</td></tr>`).join('') + '</table>' : '') +
    '<p>Click a node for its details; drag to pan, wheel to zoom.</p>';
}
function show(k){
  const n = DATA.stages[current].nodes[k];
  document.querySelectorAll('g.node.sel').forEach(g => g.classList.remove('sel'));
  const g = document.querySelector(`g.node[data-id="${k}"]`);
  if (g) g.classList.add('sel');
  let h = `<h3 id="detail-label">${esc(n.label)}</h3><table>` +
    `<tr><td>op</td><td id="detail-op">${esc(n.op)}</td></tr>`;
  n.outputs.forEach((o, i) => {
    h += `<tr><td>output ${i}</td><td>${esc(o.name)} dtype <b>${esc(o.dtype)}</b>` +
         ` shape ${esc(o.shape)} <small>${esc(o.type)}</small></td></tr>`;
  });
  if (n.consts.length) h += `<tr><td>constants</td><td>${esc(n.consts.join(', '))}</td></tr>`;
  if (n.result && n.result.length) h += `<tr><td>result</td><td>${esc(n.result.join(', '))}</td></tr>`;
  if (n.layer) h += `<tr><td>layer</td><td id="detail-layer">${esc(n.layer)}</td></tr>`;
  if (n.trace) h += `<tr><td>built at</td><td id="detail-trace">${esc(n.trace)}</td></tr>`;
  if (n['new']) h += `<tr><td>made by</td><td id="detail-new">${esc(n['new'])}</td></tr>`;
  if (n.how) h += `<tr><td>runs as</td><td>${esc(n.how)}</td></tr>`;
  h += '</table>';
  if (n.members) h += `<b>${n.members.length} nodes in this layer block</b><ol id="detail-members">` +
    n.members.map(m => `<li>${esc(m.label)} <small>${esc(m.outputs.map(o => o.dtype + ' ' + o.shape).join(', '))}` +
                       `${m['new'] ? ' made by ' + esc(m['new']) : ''}</small></li>`).join('') + '</ol>';
  if (n.source) h += `<b>code</b><pre id="detail-source">${esc(n.source)}</pre>`;
  side.innerHTML = h;
}
function focus(k, scale){
  // centre node k at a readable scale (and select it)
  const n = DATA.stages[current].nodes[k];
  const w = svg.clientWidth || 800, h = svg.clientHeight || 600;
  view.k = scale || Math.max(view.k, 0.8);
  view.x = w / 2 - n.x * view.k; view.y = h / 2 - n.y * view.k;
  apply(); show(k);
}
function find(text){
  // the next node (after the selected one) whose label or op contains text
  const nodes = DATA.stages[current].nodes, t = text.toLowerCase();
  const sel = document.querySelector('g.node.sel');
  const from = sel ? +sel.getAttribute('data-id') + 1 : 0;
  for (let i = 0; i < nodes.length; i++) {
    const k = (from + i) % nodes.length;
    if ((nodes[k].label + ' ' + nodes[k].op).toLowerCase().includes(t)) { focus(k); return k; }
  }
  return -1;
}
function start(){
  // a small graph fits the window; a big one opens readable, at its outputs
  const nodes = DATA.stages[current].nodes;
  if (nodes.length <= 150) { fit(); return; }
  let last = 0;
  nodes.forEach((n, k) => { if (n.y > nodes[last].y) last = k; });
  focus(last, 0.8);
}
function fit(){
  const st = DATA.stages[current];
  if (!st.nodes.length) return;
  const xs = st.nodes.map(n => n.x), ys = st.nodes.map(n => n.y);
  const x0 = Math.min(...xs) - 90, x1 = Math.max(...xs) + 90;
  const y0 = Math.min(...ys) - 20, y1 = Math.max(...ys) + 20;
  const w = svg.clientWidth || 800, h = (svg.clientHeight || 600) - 40;
  view.k = Math.min(w / (x1 - x0), h / (y1 - y0), 1.5);
  view.x = (w - (x0 + x1) * view.k) / 2; view.y = 40 - y0 * view.k;
  apply();
}
DATA.stages.forEach((s, i) => {
  const o = document.createElement('option'); o.value = String(i); o.textContent = s.name;
  sel.appendChild(o);
});
sel.addEventListener('change', () => { draw(+sel.value); start(); });
document.getElementById('find').addEventListener('keydown', ev => {
  if (ev.key === 'Enter') find(ev.target.value);
});
document.getElementById('fit').addEventListener('click', fit);
let drag = null;
svg.addEventListener('mousedown', ev => { drag = [ev.clientX - view.x, ev.clientY - view.y]; });
window.addEventListener('mouseup', () => { drag = null; });
window.addEventListener('mousemove', ev => {
  if (!drag) return;
  view.x = ev.clientX - drag[0]; view.y = ev.clientY - drag[1]; apply();
});
svg.addEventListener('wheel', ev => {
  ev.preventDefault();
  const f = Math.exp(-ev.deltaY * 0.0015), r = svg.getBoundingClientRect();
  const mx = ev.clientX - r.left, my = ev.clientY - r.top;   // zoom about the cursor
  view.x = mx - (mx - view.x) * f; view.y = my - (my - view.y) * f; view.k *= f; apply();
}, {passive: false});
draw(0); start();
window.symnetViz = {draw, show, fit, find, focus, data: DATA, view};
if (location.hash === '#selftest') {
  // what a headless browser checks: every stage drawn, a click shows details
  const out = {stages: [], initialScale: view.k};
  DATA.stages.forEach((s, i) => {
    sel.value = String(i); sel.dispatchEvent(new Event('change'));
    const gs = document.querySelectorAll('#root g.node');
    const rec = {name: s.name, drawn: gs.length, edges: document.querySelectorAll('#root path.edge').length,
                 labels: Array.from(gs).map(g => g.textContent)};
    const pick = Array.from(gs).find(g => g.classList.contains('apply'));
    const block = Array.from(gs).find(g => g.classList.contains('block'));
    if (block) {
      // a folded layer block lists its nodes when clicked
      block.dispatchEvent(new MouseEvent('click', {bubbles: true}));
      const li = document.querySelectorAll('#detail-members li');
      rec.block = {label: document.getElementById('detail-label').textContent,
                   layer: document.getElementById('detail-layer').textContent,
                   members: li.length, first: li.length ? li[0].textContent : null};
    }
    rec.blocks = document.querySelectorAll('#root g.node.block').length;
    if (pick) {
      pick.dispatchEvent(new MouseEvent('click', {bubbles: true}));
      const q = id => { const e = document.getElementById(id); return e ? e.textContent : null; };
      rec.clicked = {label: q('detail-label'), op: q('detail-op'), trace: q('detail-trace'),
                     source: q('detail-source'), layer: q('detail-layer'), selected: document.querySelectorAll('g.node.sel').length};
    }
    out.stages.push(rec);
  });
  sel.value = '0'; sel.dispatchEvent(new Event('change'));
  const hit = find('sum');
  out.find = {index: hit, label: hit >= 0 ? document.getElementById('detail-label').textContent : null,
              scale: view.k};
  sel.value = '0'; sel.dispatchEvent(new Event('change'));
  const pre = document.createElement('pre'); pre.id = 'selftest';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
}
})();
"""


def page_data(stages):
    """The JSON the page embeds (``</`` escaped so it cannot close the script)."""
    return json.dumps({"stages": stages}, separators=(",", ":")).replace("</", "<\\/")


def render(stages, title):
    """The whole page for ``stages`` (laid out by ``symnet.viz``)."""
    t = html.escape(title)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n"
            f"<style>{_CSS}</style></head>\n<body>\n<div id=\"main\"><div id=\"bar\">"
            f"<b>{t}</b> &nbsp; stage <select id=\"stage\"></select>"
            f"<button id=\"fit\">fit</button> find <input id=\"find\" size=\"14\" "
            f"placeholder=\"op or name, Enter\"></div>\n"
            f"<svg id=\"view\" xmlns=\"http://www.w3.org/2000/svg\"><g id=\"root\"></g></svg>"
            f"</div>\n<div id=\"side\"></div>\n"
            f"<script id=\"graph-data\" type=\"application/json\">{page_data(stages)}</script>\n"
            f"<script>{_JS}</script>\n</body></html>\n")
