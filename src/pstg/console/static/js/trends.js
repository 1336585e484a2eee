// Trends: tags picked by name or description, a range (presets or free), one chart with an
// axis per unit. Each request asks /api/v1/trends for as many buckets as the chart has pixel
// columns (M4: first, min, max, last per column); zooming (drag across the chart) and panning
// ask again for the new range. Empty buckets are gaps (breaks in the line); buckets holding
// bad-quality samples are shaded. The CSV holds exactly the buckets shown.

import { get } from "./api.js";
import { element, formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const COLOURS = ["#1f4e8c", "#8c1f5a", "#2f6b2f", "#7a4a00", "#4b2d8c", "#00606b", "#6b3a2f", "#333333"];
const PRESETS = { "15m": 15 * 60e3, "1h": 3600e3, "8h": 8 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

let catalog = [];          // numeric tags: {name, unit, description}
let chosen = [];           // the tags on the chart
let range = null;          // {from: ms, to: ms, preset: "1h" | null}
let shown = [];            // [{tag, answer}] of the last draw
let plot = null;
let loading = 0;
let follow = null;

function chartWidth() {
  const width = plot.bbox.width / devicePixelRatio;
  return Math.max(10, Math.min(5000, Math.round(width)));
}

function setPreset(name) {
  const to = Date.now();
  range = { from: to - PRESETS[name], to, preset: name };
  for (const button of document.querySelectorAll("[data-preset]")) button.setAttribute("aria-pressed", String(button.dataset.preset === name));
  load();
}

function setRange(from, to) {
  if (!(to > from)) return;
  range = { from, to, preset: null };
  for (const button of document.querySelectorAll("[data-preset]")) button.setAttribute("aria-pressed", "false");
  load();
}

function localInput(ms) {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return date.toISOString().slice(0, 19);
}

async function load() {
  const ticket = ++loading;
  $("range-from").value = localInput(range.from);
  $("range-to").value = localInput(range.to);
  syncUrl();
  if (!chosen.length) {
    draw([]);
    $("trend-status").textContent = "Pick a tag to show.";
    return;
  }
  // The chart's axes decide its plot width, and so the buckets to ask for: lay it out first.
  const layout = chosen.map((tag) => `${tag.name}:${tag.unit}`).join(",");
  if (!plot || plot.layout !== layout) draw(chosen.map((tag) => ({ tag, answer: { buckets: [] } })));
  const points = chartWidth();
  $("trend-status").textContent = "Loading…";
  try {
    const answers = await Promise.all(chosen.map((tag) => get("/api/v1/trends", {
      tag: tag.name, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), points,
    })));
    if (ticket !== loading) return;  // a newer request is on its way
    shown = chosen.map((tag, i) => ({ tag, answer: answers[i] }));
    draw(shown);
    const source = [...new Set(answers.map((answer) => answer.source))].join(", ");
    $("trend-status").textContent = `${formatTime(new Date(range.from).toISOString())} to ${formatTime(new Date(range.to).toISOString())}: ${points} buckets per tag from ${source}`;
    $("chart").dataset.from = new Date(range.from).toISOString();
    $("chart").dataset.to = new Date(range.to).toISOString();
    $("chart").dataset.points = String(points);
    $("chart").dataset.draws = String(Number($("chart").dataset.draws ?? 0) + 1);
  } catch (error) {
    if (ticket === loading) $("trend-status").textContent = `Could not load: ${error.message}`;
  }
}

// M4: four points per bucket at fixed places inside it; a gap is one null.
function series(shown) {
  const first = shown[0]?.answer.buckets ?? [];
  const xs = [];
  for (const bucket of first) {
    const start = Date.parse(bucket.start) / 1000;
    const end = Date.parse(bucket.end) / 1000;
    const width = end - start;
    xs.push(start, start + width * 0.25, start + width * 0.5, start + width * 0.75);
  }
  const ys = shown.map(({ answer }) => {
    const out = [];
    for (const bucket of answer.buckets) {
      if (bucket.gap || bucket.first === null) out.push(null, null, null, null);
      else out.push(bucket.first, bucket.min, bucket.max, bucket.last);
    }
    return out;
  });
  return [xs, ...ys];
}

function badRanges(shown) {
  const spans = [];
  for (const { answer } of shown) {
    for (const bucket of answer.buckets) {
      if (bucket.count > bucket.good_count) spans.push([Date.parse(bucket.start) / 1000, Date.parse(bucket.end) / 1000]);
    }
  }
  return spans;
}

function draw(shown) {
  const box = $("chart");
  const units = [...new Set(shown.map(({ tag }) => tag.unit || "(no unit)"))];
  const options = {
    width: box.clientWidth,
    height: Math.max(320, Math.min(640, window.innerHeight - 330)),
    scales: { x: { time: true }, ...Object.fromEntries(units.map((unit) => [unit, { auto: true }])) },
    series: [
      { label: "time" },
      ...shown.map(({ tag }, i) => ({
        label: `${tag.name} (${tag.unit || "no unit"})`,
        scale: tag.unit || "(no unit)",
        stroke: COLOURS[i % COLOURS.length],
        width: 1.5,
        spanGaps: false,
        points: { show: false },
      })),
    ],
    axes: [
      { stroke: "#1a1a1a", grid: { stroke: "#e0e0e0" } },
      ...units.map((unit, i) => ({
        scale: unit, label: unit, stroke: "#1a1a1a", side: i % 2 ? 1 : 3,
        grid: { show: i === 0, stroke: "#e0e0e0" },
      })),
    ],
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 3) return;
        const from = u.posToVal(u.select.left, "x") * 1000;
        const to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
        u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
        setRange(Math.round(from), Math.round(to));
      }],
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "rgba(107, 0, 107, 0.18)";
        for (const [start, end] of badRanges(shown)) {
          const left = u.valToPos(start, "x", true);
          const right = u.valToPos(end, "x", true);
          ctx.fillRect(left, u.bbox.top, Math.max(1, right - left), u.bbox.height);
        }
        ctx.restore();
      }],
    },
  };
  const data = shown.length ? series(shown) : [[]];
  if (plot) plot.destroy();
  plot = new uPlot(options, data, box);  // eslint-disable-line no-undef
  plot.layout = shown.map(({ tag }) => `${tag.name}:${tag.unit}`).join(",");
  if (range) plot.setScale("x", { min: range.from / 1000, max: range.to / 1000 });
}

function renderChosen() {
  $("chosen").replaceChildren(...chosen.map((tag, i) => {
    const remove = element("button", { type: "button", class: "quiet", "aria-label": `Remove ${tag.name}`, text: "×" });
    remove.addEventListener("click", () => { chosen = chosen.filter((other) => other !== tag); renderChosen(); load(); });
    const swatch = element("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = COLOURS[i % COLOURS.length];
    return element("li", {}, swatch, element("span", { text: `${tag.name} (${tag.unit || "no unit"})` }), remove);
  }));
}

function add(tag) {
  if (!chosen.some((other) => other.name === tag.name)) chosen.push(tag);
  $("tag-search").value = "";
  $("tag-results").replaceChildren();
  renderChosen();
  load();
}

function search() {
  const needle = $("tag-search").value.trim().toLowerCase();
  const list = $("tag-results");
  if (!needle) { list.replaceChildren(); return; }
  const found = catalog.filter((tag) => tag.name.toLowerCase().includes(needle) || tag.description.toLowerCase().includes(needle)).slice(0, 30);
  list.replaceChildren(...found.map((tag, i) => {
    const item = element("li", { role: "option", id: `tag-option-${i}`, "data-tag": tag.name, "aria-selected": i === 0 ? "true" : "false" },
      element("strong", { text: tag.name }), ` ${tag.description} ${tag.unit ? `(${tag.unit})` : ""}`);
    item.addEventListener("click", () => add(tag));
    return item;
  }));
}

function searchKeys(event) {
  const options = [...$("tag-results").children];
  if (!options.length) return;
  let index = options.findIndex((option) => option.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    index = (index + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    $("tag-search").setAttribute("aria-activedescendant", options[index].id);
  } else if (event.key === "Enter") {
    event.preventDefault();
    const tag = catalog.find((item) => item.name === options[Math.max(0, index)].dataset.tag);
    if (tag) add(tag);
  } else if (event.key === "Escape") {
    $("tag-results").replaceChildren();
  }
}

function csv() {
  if (!shown.length) return;
  const quote = (text) => `"${String(text).replaceAll('"', '""')}"`;
  const head = ["start", "end"];
  for (const { tag } of shown) head.push(...["first", "min", "max", "last", "avg", "count", "good_count", "gap"].map((what) => `${tag.name} ${what}`));
  const lines = [head.map(quote).join(",")];
  const buckets = shown[0].answer.buckets;
  buckets.forEach((bucket, i) => {
    const row = [bucket.start, bucket.end];
    for (const { answer } of shown) {
      const b = answer.buckets[i];
      row.push(...[b.first, b.min, b.max, b.last, b.avg].map((v) => (v === null ? "" : String(v))), String(b.count), String(b.good_count), String(b.gap));
    }
    lines.push(row.join(","));
  });
  const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
  const link = element("a", { download: `trend-${new Date(range.from).toISOString()}.csv` });
  link.href = URL.createObjectURL(blob);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function syncUrl() {
  const params = new URLSearchParams();
  for (const tag of chosen) params.append("tag", tag.name);
  if (range.preset) params.set("range", range.preset);
  else { params.set("from", new Date(range.from).toISOString()); params.set("to", new Date(range.to).toISOString()); }
  history.replaceState(null, "", `/trends?${params}`);
}

export async function start() {
  const tags = await get("/api/v1/tags");
  catalog = tags.filter((tag) => !["bool", "string"].includes(tag.type))
    .map((tag) => ({ name: tag.name, unit: tag.unit, description: tag.description }));
  const params = new URLSearchParams(location.search);
  chosen = params.getAll("tag").map((name) => catalog.find((tag) => tag.name === name)).filter(Boolean);
  renderChosen();
  for (const button of document.querySelectorAll("[data-preset]")) button.addEventListener("click", () => setPreset(button.dataset.preset));
  $("tag-search").addEventListener("input", search);
  $("tag-search").addEventListener("keydown", searchKeys);
  $("range-apply").addEventListener("click", () => setRange(new Date($("range-from").value).getTime(), new Date($("range-to").value).getTime()));
  $("pan-back").addEventListener("click", () => { const half = (range.to - range.from) / 2; setRange(range.from - half, range.to - half); });
  $("pan-forward").addEventListener("click", () => { const half = (range.to - range.from) / 2; setRange(range.from + half, range.to + half); });
  $("zoom-out").addEventListener("click", () => { const span = range.to - range.from; setRange(range.from - span / 2, range.to + span / 2); });
  $("csv").addEventListener("click", csv);
  window.addEventListener("resize", () => { if (plot) { plot.destroy(); plot = null; load(); } });
  const from = Date.parse(params.get("from") ?? "");
  const to = Date.parse(params.get("to") ?? "");
  if (from && to) setRange(from, to);
  else setPreset(PRESETS[params.get("range")] ? params.get("range") : "1h");
  // A preset follows the clock.
  follow = setInterval(() => { if (range.preset && !document.hidden) setPreset(range.preset); }, 30_000);
}
