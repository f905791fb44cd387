// A small hand-made SVG line chart for the queue panels: a fixed time window ending now, one
// polyline per series, a y axis from 0 to a rounded maximum. No dependencies, no canvas, so the
// chart scales with the page and its numbers stay readable by assistive technology.

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 560;
const HEIGHT = 170;
const PAD = { left: 40, right: 8, top: 10, bottom: 22 };

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** 1, 2, 5 × 10^n at or above value, so axis labels stay round. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const exp = Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    const candidate = step * 10 ** exp;
    if (candidate >= value) return candidate;
  }
  return 10 ** (exp + 1);
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(value < 10 ? 1 : 0);
}

/**
 * Creates a chart inside `container`. series: [{ key, label }]; `update(samples, nowMs)` redraws
 * from samples [{ t, values: { [key]: number|null } }] (null = no value, the line breaks).
 */
export function createLineChart(container, { title, series, windowMs, testId }) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  if (testId) figure.dataset.testid = testId;
  const caption = document.createElement('figcaption');
  const heading = document.createElement('span');
  heading.className = 'chart-title';
  heading.textContent = title;
  caption.append(heading);
  const legend = document.createElement('span');
  legend.className = 'legend';
  const latest = new Map();
  series.forEach((s, i) => {
    const item = document.createElement('span');
    item.className = `legend-item series-${i}`;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    item.append(swatch, text);
    legend.append(item);
    latest.set(s.key, text);
  });
  caption.append(legend);

  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img' });
  const desc = el('title');
  svg.append(desc);
  const grid = el('g', { class: 'grid' });
  const lines = series.map((_, i) => el('path', { class: `line series-${i}`, fill: 'none' }));
  svg.append(grid, ...lines);
  figure.append(caption, svg);
  container.append(figure);

  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;

  function drawGrid(maxY) {
    grid.replaceChildren();
    for (const frac of [0, 0.5, 1]) {
      const y = PAD.top + plotH * (1 - frac);
      grid.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y }));
      const label = el('text', { x: PAD.left - 4, y: y + 3, 'text-anchor': 'end' });
      label.textContent = formatNumber(maxY * frac);
      grid.append(label);
    }
    const seconds = Math.round(windowMs / 1000);
    for (const [frac, text] of [[0, `-${seconds}s`], [0.5, `-${Math.round(seconds / 2)}s`], [1, 'now']]) {
      const label = el('text', { x: PAD.left + plotW * frac, y: HEIGHT - 6, 'text-anchor': frac === 0 ? 'start' : frac === 1 ? 'end' : 'middle' });
      label.textContent = text;
      grid.append(label);
    }
  }

  return {
    element: figure,
    update(samples, nowMs) {
      const from = nowMs - windowMs;
      const visible = samples.filter((s) => s.t >= from);
      let max = 0;
      for (const s of visible) for (const { key } of series) {
        const v = s.values[key];
        if (typeof v === 'number' && v > max) max = v;
      }
      const maxY = niceMax(max);
      drawGrid(maxY);
      const x = (t) => PAD.left + ((t - from) / windowMs) * plotW;
      const y = (v) => PAD.top + plotH * (1 - v / maxY);
      const summary = [];
      series.forEach(({ key, label }, i) => {
        let d = '';
        let isPenUp = true;
        for (const s of visible) {
          const v = s.values[key];
          if (typeof v !== 'number' || !Number.isFinite(v)) { isPenUp = true; continue; }
          d += `${isPenUp ? 'M' : 'L'}${x(s.t).toFixed(1)},${y(v).toFixed(1)}`;
          isPenUp = false;
        }
        lines[i].setAttribute('d', d);
        const last = [...visible].reverse().find((s) => typeof s.values[key] === 'number');
        const text = `${label}: ${last ? formatNumber(last.values[key]) : '–'}`;
        latest.get(key).textContent = text;
        summary.push(text);
      });
      desc.textContent = `${title}, last ${Math.round(windowMs / 1000)} seconds. Latest ${summary.join(', ')}.`;
      svg.setAttribute('aria-label', desc.textContent);
      figure.dataset.points = String(visible.length);
    },
  };
}
