// The audit log (engineers): a range of it, newest first, and the hash chain's check.

import { get } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const LIMIT = 1000;

function value(json) {
  return json === null || json === undefined ? "" : JSON.stringify(json);
}

async function load() {
  const answer = await get("/api/v1/audit", { from: $("audit-from").value, action: $("audit-action").value.trim(), limit: LIMIT });
  const rows = [...answer.entries].reverse();
  $("audit-table").tBodies[0].replaceChildren(...rows.map((row) => fillRow(
    element("tr", { "data-action": row.action, "data-result": row.result, "data-actor": row.actor }), [
      String(row.id), formatTime(row.ts), row.actor, row.role ?? "", row.via, row.source, row.action, row.target,
      [value(row.old_value), "json"], [value(row.new_value), "json"], [row.result, `result-${row.result}`], row.detail,
    ])));
  $("audit-more").hidden = answer.next_after === null;
}

export function start() {
  $("audit-verify").addEventListener("click", async () => {
    const verdict = $("audit-verdict");
    verdict.textContent = "checking…";
    try {
      const result = await get("/api/v1/audit/verify");
      verdict.textContent = result.ok
        ? `The chain holds: ${result.checked} rows checked, head #${result.head_id}`
        : `DAMAGED (${result.problem_count}): ${result.problems.map((p) => `row ${p.id}: ${p.message}`).join("; ")}`;
      verdict.className = result.ok ? "status ok" : "status error";
    } catch (error) {
      verdict.textContent = error.message;
    }
  });
  $("audit-from").addEventListener("change", load);
  $("audit-action").addEventListener("change", load);
  $("audit-refresh").addEventListener("click", load);
  load();
}
