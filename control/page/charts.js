// Charts drawn as SVG from data, for the control center: no library needed for two kinds of lines
// and bars. Text goes in as text, never as markup.

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#2f6fdf", "#d9822b", "#2b9d55", "#b03a8d", "#7a5cdb", "#c0392b"];

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Lines that only go up (running totals) over time: `series` is [{ name, points: [[t, y]] }],
 * `t` in ms. Each series gets a colour, a legend entry and its last value.
 */
export function lineChart(target, series, unit) {
  const width = 640, height = 220, left = 60, bottom = 24;
  const all = series.flatMap((s) => s.points);
  size(target, width + 180, height);
  if (all.length === 0) {
    target.replaceChildren(el("text", { x: 10, y: 20 }, "no model calls yet"));
    return;
  }
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(t0 + 1, ...all.map((p) => p[0]));
  const top = Math.max(1e-9, ...all.map((p) => p[1]));
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left);
  const y = (v) => height - bottom - (v / top) * (height - bottom - 10);
  const parts = [
    el("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
    el("line", { class: "axis", x1: left, y1: 10, x2: left, y2: height - bottom }),
    el("text", { x: left - 4, y: 16, "text-anchor": "end" }, `${fmt(top)}`),
    el("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, "0"),
    el("text", { x: left, y: height - 6 }, new Date(t0).toLocaleTimeString()),
    el(
      "text",
      { x: width, y: height - 6, "text-anchor": "end" },
      new Date(t1).toLocaleTimeString(),
    ),
    el("text", { x: left + 4, y: 16 }, unit),
  ];
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const last = s.points.at(-1)?.[1] ?? 0;
    parts.push(
      el("polyline", {
        class: "series",
        "data-testid": `series-${s.name}`,
        stroke: colour,
        points: s.points.map(([t, v]) => `${x(t)},${y(v)}`).join(" "),
      }),
      el("rect", { x: width + 10, y: 14 + i * 18, width: 10, height: 10, fill: colour }),
      el("text", { x: width + 26, y: 23 + i * 18 }, `${s.name}: ${fmt(last)}`),
    );
  });
  target.replaceChildren(...parts);
}

/** Bars of `values` under their `labels`, scaled to the largest. */
export function barChart(target, labels, values, title) {
  const width = 640, height = 240, bottom = 60, left = 60;
  const shown = values.slice(0, 40);
  const top = Math.max(1e-9, ...shown.map((v) => Math.abs(v)));
  const step = (width - left) / Math.max(1, shown.length);
  size(target, width, height);
  const parts = [
    el("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
    el("text", { x: left - 4, y: 16, "text-anchor": "end" }, fmt(top)),
    el("text", { x: left + 4, y: 16 }, title),
  ];
  shown.forEach((v, i) => {
    const h = (Math.abs(v) / top) * (height - bottom - 24);
    const bar = el("rect", {
      class: "bar",
      "data-testid": "sql-bar",
      x: left + i * step + 2,
      y: height - bottom - h,
      width: Math.max(2, step - 4),
      height: h,
    });
    bar.append(el("title", {}, `${labels[i]}: ${v}`));
    parts.push(
      bar,
      // Slanted, so that long labels side by side stay readable.
      el("text", {
        x: left + i * step + step / 2,
        y: height - bottom + 12,
        "text-anchor": "end",
        transform: `rotate(-35 ${left + i * step + step / 2} ${height - bottom + 12})`,
      }, String(labels[i]).slice(0, 14)),
    );
  });
  target.replaceChildren(...parts);
}

/** Scales with its box: the chart keeps its proportions at any width. */
function size(target, width, height) {
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.setAttribute("width", "100%");
  target.setAttribute("preserveAspectRatio", "xMinYMin meet");
  target.style.maxWidth = `${width}px`;
}

function fmt(v) {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") : String(+v.toPrecision(3));
}
