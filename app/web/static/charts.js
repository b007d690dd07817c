// Charts drawn as SVG by the page (no chart library, no CDN): the equity curve and exits by rule,
// shared by the Performance and Backtest pages.

import { fmtNum, fmtSol, fmtTime } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
export const RULES = {
  stop_loss: "Stop-loss", trailing_stop: "Trailing stop", take_profit: "Take-profit", timeout: "Timeout",
  manual: "Manual sell", end_of_demo: "End of demo", unknown: "Unknown",
};

/** An SVG element with attributes (and text). */
export function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Number(seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

// --- equity curve ----------------------------------------------------------------

export function equityChart(curve, start) {
  const W = 960, H = 280, left = 84, right = 16, top = 16, bottom = 34;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "equity-chart", role: "img" });
  if (!curve.length) {
    chart.setAttribute("aria-label", "no closed positions in this period");
    chart.append(svg("text", { x: W / 2, y: H / 2, class: "chart-empty", "text-anchor": "middle" },
      "No closed positions in this period."));
    return chart;
  }
  const times = curve.map((p) => Date.parse(p.at));
  const values = [start, ...curve.map((p) => Number(p.equity_sol))];
  const t0 = times[0], t1 = times[times.length - 1];
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  const y0 = lo - pad, y1 = hi + pad;
  const sx = (t) => left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - left - right);
  const sy = (v) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  const last = values[values.length - 1];
  chart.setAttribute("aria-label", `equity from ${fmtNum(start)} to ${fmtNum(last)} SOL over ${curve.length} closes`);
  chart.append(...gridLines(y0, y1, sy, left, W - right), baseLine(start, sy, left, W - right));
  // a step line: equity holds until the next close
  const points = [[sx(t0), sy(start)]];
  curve.forEach((p, i) => points.push([sx(times[i]), points[points.length - 1][1]], [sx(times[i]), sy(values[i + 1])]));
  chart.append(svg("polyline", {
    points: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "),
    class: `equity-line ${last >= start ? "up" : "down"}`,
  }));
  curve.forEach((p, i) => {
    const dot = svg("circle", { cx: sx(times[i]).toFixed(1), cy: sy(values[i + 1]).toFixed(1), r: 3.5,
      class: `equity-dot ${Number(p.pnl_sol) >= 0 ? "up" : "down"}` });
    dot.append(svg("title", {}, `${fmtTime(p.at)}: ${fmtSol(p.pnl_sol, true)} → ${fmtSol(p.equity_sol, true)}`));
    chart.append(dot);
  });
  chart.append(
    svg("text", { x: left, y: H - 10, class: "axis-label" }, fmtTime(curve[0].at)),
    svg("text", { x: W - right, y: H - 10, class: "axis-label", "text-anchor": "end" }, fmtTime(curve[curve.length - 1].at)),
  );
  return chart;
}

function gridLines(y0, y1, sy, x0, x1) {
  const lines = [];
  for (let k = 0; k <= 4; k += 1) {
    const v = y0 + ((y1 - y0) * k) / 4;
    lines.push(svg("line", { x1: x0, x2: x1, y1: sy(v).toFixed(1), y2: sy(v).toFixed(1), class: "grid-line" }),
      svg("text", { x: x0 - 8, y: (sy(v) + 4).toFixed(1), class: "axis-label", "text-anchor": "end" }, fmtNum(v, 3)));
  }
  return lines;
}

function baseLine(start, sy, x0, x1) {
  return svg("line", { x1: x0, x2: x1, y1: sy(start).toFixed(1), y2: sy(start).toFixed(1), class: "base-line" });
}

// --- exits by rule -----------------------------------------------------------------

export function exitsChart(rules) {
  const W = 460, row = 34, top = 8, labelW = 110, valueW = 130;
  const H = Math.max(rules.length, 1) * row + top * 2;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "exits-chart", role: "img" });
  if (!rules.length) {
    chart.setAttribute("aria-label", "no exits in this period");
    chart.append(svg("text", { x: W / 2, y: H / 2 + 4, class: "chart-empty", "text-anchor": "middle" }, "No exits."));
    return chart;
  }
  chart.setAttribute("aria-label", rules.map((r) => `${RULES[r.rule] || r.rule}: ${r.exits}`).join(", "));
  const most = Math.max(...rules.map((r) => r.exits));
  rules.forEach((r, i) => {
    const y = top + i * row;
    const width = Math.max(2, (r.exits / most) * (W - labelW - valueW));
    const bar = svg("rect", { x: labelW, y: y + 6, width: width.toFixed(1), height: row - 12, rx: 3,
      class: `exit-bar ${Number(r.realized_pnl_sol) >= 0 ? "up" : "down"}`, "data-rule": r.rule });
    bar.append(svg("title", {}, `${RULES[r.rule] || r.rule}: ${r.exits} sells, ${fmtSol(r.realized_pnl_sol, true)}`));
    chart.append(
      svg("text", { x: labelW - 8, y: y + row / 2 + 4, class: "bar-label", "text-anchor": "end" }, RULES[r.rule] || r.rule),
      bar,
      svg("text", { x: labelW + width + 6, y: y + row / 2 + 4, class: "bar-value" },
        `${r.exits} · ${fmtSol(r.realized_pnl_sol, true)}`),
    );
  });
  return chart;
}
