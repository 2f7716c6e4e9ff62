// The class board: every student's run of the class's demo as one overlay of loss curves, the
// class's experiment as a scatter of final loss against a param, and counts, all from the one
// stream GET /api/classes/{code}/events (the teacher's cookie goes with it).

import { api, detailText } from "../playground/api.js";
import { readTheme, rgba } from "../playground/colors.js";
import { el } from "../playground/dom.js";
import { fmtNum, fmtParam, fmtTick, humanize } from "../playground/format.js";
import { logRange, logSplits, padRange } from "../playground/scales.js";
import { BoardState } from "./board-state.js";

// `uPlot` is the global from /static/vendor/uPlot.iife.min.js, loaded before this module.

const board = document.querySelector(".class-board");
const state = new BoardState();
const curvesBox = board.querySelector(".class-curves");
const scatterBox = board.querySelector(".class-scatter");
const paramChoice = board.querySelector("select[name=scatter-param]");
const hideNames = board.querySelector("input[name=hide-names]");
const runList = board.querySelector(".class-runs");
let stream = null;
let highlighted = null;
let drawPending = false;
let curves = null;
let scatter = null;
let pinned = null;

function connect() {
  stream?.close();
  const names = hideNames?.checked ? "false" : "true"; // a projector link's stream hides them anyway
  stream = new EventSource(`/api/classes/${board.dataset.code}/events?names=${names}`);
  for (const kind of ["class", "run", "points", "end"]) {
    stream.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data);
      state.apply(kind, data);
      if (kind === "class") fillParams(data.params);
      redrawSoon();
    });
  }
}

function fillParams(params) {
  const chosen = paramChoice.value || (params.includes("lr") ? "lr" : params[0]);
  paramChoice.replaceChildren(...params.map((p) => Object.assign(el("option", "", humanize(p)), { value: p })));
  if (params.includes(chosen)) paramChoice.value = chosen;
}

function redrawSoon() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function label(run) {
  const param = paramChoice.value;
  return param in run.params ? `${run.name} · ${humanize(param)} ${fmtParam(run.params[param])}` : run.name;
}

function draw() {
  const counts = state.counts();
  for (const [key, value] of Object.entries(counts)) board.querySelector(`[data-count=${key}]`).textContent = value;
  drawList();
  drawCurves();
  drawScatter();
}

function drawList() {
  const items = [...state.runs.values()].map((run) => {
    const item = el("li", `class-run is-${run.status}`);
    item.dataset.runId = run.id;
    item.dataset.status = run.status;
    if (run.id === highlighted) item.classList.add("is-highlighted");
    const button = el("button", "class-run-name", label(run));
    button.type = "button";
    button.setAttribute("aria-pressed", String(run.id === highlighted));
    const ending = run.status === "running" ? "running" : `${run.status}, final loss ${fmtNum(run.loss)}`;
    item.append(button, el("span", "class-run-status", ending));
    if (steer) {
      const pin = el("button", "button class-run-pin", run.id === pinned ? "Unpin" : "Pin as reference");
      pin.type = "button";
      pin.dataset.action = "pin";
      item.append(pin);
    }
    return item;
  });
  runList.replaceChildren(...items);
}

runList.addEventListener("click", async (event) => {
  const item = event.target.closest("[data-run-id]");
  if (!item) return;
  if (event.target.closest("[data-action=pin]")) {
    const runId = item.dataset.runId === pinned ? null : item.dataset.runId;
    if (await steerRequest("PUT", "reference", { run_id: runId }, runId ? "Pinned in every student's panel." : "Unpinned.")) {
      pinned = runId;
      drawList();
    }
    return;
  }
  highlighted = highlighted === item.dataset.runId ? null : item.dataset.runId;
  curves?.destroy();
  curves = null; // its series' widths change: drawn again
  draw();
});

function size(box) {
  const width = Math.max(280, Math.floor(box.clientWidth || 600));
  return { width, height: Math.round(Math.min(420, Math.max(220, width * 0.55))) };
}

/** uPlot axes in the theme's colours; a log axis gets the playground's decade ticks. */
function axes(theme, [xLabel, logX], [yLabel, logY]) {
  const axis = (labelText, log) => ({
    label: labelText, stroke: theme.fgMuted, grid: { stroke: theme.grid }, ticks: { stroke: theme.grid },
    values: (_u, splits) => splits.map(fmtTick),
    ...(log ? { splits: (_u, _i, min, max) => logSplits(min, max, 6) } : {}),
  });
  return [axis(xLabel, logX), axis(yLabel, logY)];
}

const shown = (format) => (_u, v) => (v == null ? "–" : format(v));

function logScale(values) {
  const positive = values.filter((v) => v > 0);
  return positive.length === values.length && positive.length > 0;
}

function drawCurves() {
  const theme = readTheme(board);
  const { runs, data } = state.curves();
  curvesBox.dataset.runs = String(runs.filter((r) => r.points.length).length);
  curvesBox.dataset.points = String(runs.reduce((n, r) => n + r.points.length, 0));
  if (!data[0].length) return;
  const losses = data.slice(1).flat().filter((v) => v != null);
  const log = logScale(losses);
  const key = `${runs.map((r) => r.id).join()}|${log}|${theme.token}|${hideNames?.checked}|${paramChoice.value}`;
  if (curves && curves.boardKey !== key) {
    curves.destroy();
    curves = null;
  }
  if (!curves) {
    const series = runs.map((run, i) => {
      const color = theme.palette[i % theme.palette.length];
      const faded = highlighted && run.id !== highlighted;
      return {
        label: label(run), stroke: rgba(color, faded ? 0.25 : 1), width: run.id === highlighted ? 3 : 1.5,
        spanGaps: true, points: { show: false }, value: shown(fmtNum),
      };
    });
    const yScale = log
      ? { distr: 3, range: (_u, min, max) => logRange(min, max) }
      : { range: (_u, min, max) => padRange([min, max], false) };
    curves = new uPlot({
      ...size(curvesBox), legend: { show: runs.length <= 12 }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: yScale },
      axes: axes(theme, ["step", false], ["loss", log]),
      series: [{ label: "step" }, ...series],
    }, data, curvesBox);
    curves.boardKey = key;
  } else curves.setData(data);
}

function drawScatter() {
  const theme = readTheme(board);
  const param = paramChoice.value;
  const { finished, diverged } = state.scatter(param);
  scatterBox.dataset.dots = String(finished.length);
  scatterBox.dataset.diverged = String(diverged.length);
  const xs = [...new Set([...finished.map((p) => p[0]), ...diverged])].sort((a, b) => a - b);
  scatter?.destroy();
  scatter = null;
  if (!xs.length) return;
  const losses = finished.map((p) => p[1]);
  const top = losses.length ? Math.max(...losses) * 1.5 : 1; // where diverged runs sit: above every finished one
  const lossAt = new Map(finished.map(([x, y]) => [x, y])); // one dot per x: the latest run with it
  const divergedAt = new Set(diverged);
  const data = [xs, xs.map((x) => lossAt.get(x) ?? null), xs.map((x) => (divergedAt.has(x) ? top : null))];
  const logX = logScale(xs) && xs[xs.length - 1] / xs[0] >= 20;
  const logY = logScale(losses) && Math.max(...losses) / Math.min(...losses) >= 100;
  const yRange = logY ? () => logRange(Math.min(...losses), top) : () => padRange([...losses, top], false);
  const dots = (color, size) => ({ show: true, size, stroke: color, fill: color });
  scatter = new uPlot({
    ...size(scatterBox), cursor: { drag: { x: false, y: false } },
    scales: { x: logX ? { time: false, distr: 3 } : { time: false }, y: logY ? { distr: 3, range: yRange } : { range: yRange } },
    axes: axes(theme, [humanize(param), logX], ["final loss", logY]),
    series: [
      { label: humanize(param), value: shown(fmtParam) },
      { label: "final loss", paths: () => null, points: dots(rgba(theme.rgb.accent), 9), value: shown(fmtNum) },
      { label: "diverged (at the top)", paths: () => null, points: dots(rgba(theme.rgb.warn), 11), value: shown(() => "diverged") },
    ],
  }, data, scatterBox);
}

// Steering (absent once the class has ended): each change is one request with the teacher's cookie.
const steer = board.querySelector(".class-steer");

async function steerRequest(method, path, json, done) {
  const result = await api(`/api/classes/${board.dataset.code}/${path}`, { method, json });
  steer.querySelector(".class-steer-status").textContent = result.ok ? done : detailText(result.body, result.status);
  return result.ok;
}

/** "lr=0.11&steps=200" -> {lr: 0.11, steps: 200}: numbers and true/false as such, the rest as text. */
function settingsOf(text) {
  const typed = (v) => (v === "true" || v === "false" ? v === "true" : v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v);
  return Object.fromEntries([...new URLSearchParams(text.trim())].map(([k, v]) => [k, typed(v)]));
}

steer?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = steer.elements;
  const json = { question: form.question.value, answer: form.answer.value, params: settingsOf(form.params.value) };
  steerRequest("PUT", "preset", json, "Pushed to every student's panel.");
});
steer?.querySelector("[data-action=reveal]").addEventListener("click", () => {
  steerRequest("POST", "preset/reveal", undefined, "The answer is shown in every student's panel.");
});
steer?.querySelector("[data-action=end]").addEventListener("click", () => {
  steerRequest("DELETE", "preset", undefined, "The exercise is gone from the students' panels.");
});

paramChoice.addEventListener("change", () => {
  curves?.destroy();
  curves = null;
  draw();
});
hideNames?.addEventListener("change", connect);
new ResizeObserver(() => {
  curves?.setSize(size(curvesBox));
  if (scatter) drawScatter();
}).observe(curvesBox);
connect();
