"use strict";
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const refName = (r) => r.split("/").pop();
function schemaText(s, spec, depth = 0) {
  if (!s) return "";
  if (s.$ref) {
    const name = refName(s.$ref);
    if (depth > 3) return name;
    return name + " " + schemaText(spec.components.schemas[name], spec, depth + 1);
  }
  if (s.type === "array") return "[" + schemaText(s.items, spec, depth) + "]";
  if (s.properties) {
    const pad = "  ".repeat(depth + 1);
    const lines = Object.entries(s.properties).map(([k, v]) => pad + k + ": " + schemaText(v, spec, depth + 1));
    return "{\n" + lines.join("\n") + "\n" + "  ".repeat(depth) + "}";
  }
  if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).map((x) => schemaText(x, spec, depth)).join(" | ");
  return Array.isArray(s.type) ? s.type.join("|") : (s.type || (s.enum ? s.enum.join("|") : "any"));
}
function render(spec) {
  const byTag = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      (byTag[tag] = byTag[tag] || []).push({path, method, op});
    }
  }
  const tagInfo = Object.fromEntries((spec.tags || []).map((t) => [t.name, t.description]));
  let html = `<p>${esc(spec.info.description)} Version ${esc(spec.info.version)}.</p>`;
  for (const [tag, ops] of Object.entries(byTag)) {
    html += `<h2>${esc(tagInfo[tag] || tag)}</h2>`;
    for (const {path, method, op} of ops) {
      html += `<details><summary><span class="m ${method}">${method.toUpperCase()}</span>${esc(path)}</summary><div class="body">`;
      if (op.description || op.summary) html += `<p>${esc(op.description || op.summary)}</p>`;
      if (op.parameters && op.parameters.length) {
        html += "<h4>Parameters</h4><table>";
        for (const p of op.parameters) html += `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${esc(p.description)}</td></tr>`;
        html += "</table>";
      }
      if (op.requestBody) {
        html += "<h4>Request body</h4>";
        if (op.requestBody.description) html += `<p>${esc(op.requestBody.description)}</p>`;
        for (const [ct, media] of Object.entries(op.requestBody.content || {})) {
          html += `<p><code>${esc(ct)}</code></p>`;
          if (media.schema) html += `<pre>${esc(schemaText(media.schema, spec))}</pre>`;
        }
      }
      html += "<h4>Responses</h4><table>";
      for (const [code, r] of Object.entries(op.responses || {})) {
        const media = r.content && Object.values(r.content)[0];
        html += `<tr><td><code>${esc(code)}</code></td><td>${esc(r.description)}${media && media.schema ? `<pre>${esc(schemaText(media.schema, spec))}</pre>` : ""}</td></tr>`;
      }
      html += "</table></div></details>";
    }
  }
  document.getElementById("root").innerHTML = html;
}
fetch("/api/openapi.json").then((r) => r.json()).then(render).catch((e) => {
  document.getElementById("root").textContent = "Cannot load /api/openapi.json: " + e;
});
