// Formatting values, times and quality for display (text only: nothing here builds HTML).

export function formatNumber(value, digits = 3) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 100) return value.toFixed(1);
  return Number(value.toPrecision(digits)).toString();
}

export function formatTime(text) {
  if (!text) return "";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function qualityNote(sample) {
  if (!sample) return "no reading yet";
  const when = formatTime(sample.ts);
  if (sample.quality === "good") return `good, ${when}`;
  return `${sample.quality}: ${sample.reason || "unknown"} (${when})`;
}

// Replace an element's children with text cells: rows of strings or [text, className].
export function fillRow(row, cells) {
  row.replaceChildren(...cells.map((cell) => {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else if (Array.isArray(cell)) { td.textContent = cell[0]; td.className = cell[1]; }
    else td.textContent = cell ?? "";
    return td;
  }));
  return row;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" ||
             key === "type" || key === "title" || key === "value" || key === "for" || key === "id") {
      node.setAttribute(key, value === true ? "" : value);
    } else node[key] = value;
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export const PRIORITIES = ["critical", "high", "medium", "low"];
