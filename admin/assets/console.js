// The b2bridge admin console: a client of /admin/v1 with an admin key held in this tab,
// and live charts from the bridge's own /metrics.
"use strict";

const $ = (sel) => document.querySelector(sel);
const COLUMNS = {
  skus: { key: "sku", fields: ["storefront", "sku", "erp_sku", "unit", "factor"], edit: ["erp_sku", "unit", "factor"] },
  customers: { key: "customer", fields: ["storefront", "customer", "account"], edit: ["account"] },
  regions: { key: "region", fields: ["region", "warehouses"], edit: ["warehouses"] },
};
const state = { key: sessionStorage.getItem("b2bridge-admin-key"), cursor: null, auditCursor: null, csvChecked: null, samples: [] };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function banner(text) { $("#banner").textContent = text; $("#banner").hidden = !text; }

// api calls /admin/v1 with the admin key; a 401 or 403 signs the tab out.
async function api(method, path, { body, headers = {}, raw } = {}) {
  const h = { Authorization: "Bearer " + state.key, ...headers };
  if (body !== undefined && !raw) h["Content-Type"] = "application/json";
  const resp = await fetch("/admin/v1" + path, { method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await resp.text();
  const type = resp.headers.get("Content-Type") || "";
  const out = { status: resp.status, etag: resp.headers.get("ETag"), text, body: type.includes("json") && text ? JSON.parse(text) : null };
  if (resp.status === 401 || resp.status === 403) {
    if (path !== "/mappings/skus?limit=1") signOut(out.body?.detail);
    throw new Error(out.body?.detail || "not allowed");
  }
  if (resp.status >= 500) banner(out.body?.detail || `The bridge answered ${resp.status}`); else banner("");
  return out;
}

function signOut(why) {
  state.key = null;
  sessionStorage.removeItem("b2bridge-admin-key");
  $("#console").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  banner(why || "");
}

async function signIn(key) {
  state.key = key;
  const r = await api("GET", "/mappings/skus?limit=1").catch((e) => ({ status: 0, error: e }));
  if (r.status !== 200) {
    state.key = null;
    banner(r.error ? `This key is refused (${r.error.message}).` : `The bridge answered ${r.status}.`);
    return;
  }
  sessionStorage.setItem("b2bridge-admin-key", key);
  $("#login").hidden = true;
  $("#logout").hidden = false;
  $("#console").hidden = false;
  banner("");
  await Promise.all([loadStatus(), loadMappings(true), loadAudit(true)]);
  document.body.dataset.ready = "true"; // for tests
}

async function loadStatus() {
  const [b, c, f] = await Promise.all([api("GET", "/breakers"), api("GET", "/cache"), api("GET", "/faults").catch(() => null)]);
  const faults = Object.fromEntries((f?.status === 200 ? f.body.faults : []).map((x) => [x.class, x]));
  $("#breakers tbody").replaceChildren(...Object.entries(b.body.breakers).sort().map(([cls, st]) => {
    const failing = faults[cls]?.error_rate >= 1;
    const toggle = f?.status === 200
      ? el("label", {}, el("input", { type: "checkbox", "aria-label": `Fail every ${cls} call`, ...(failing ? { checked: "" } : {}),
        onchange: (e) => setFault(cls, e.target.checked) }), " fail every call")
      : "—";
    return el("tr", {}, el("td", {}, cls), el("td", { class: "state-" + st }, st), el("td", {}, toggle));
  }));
  $("#caches tbody").replaceChildren(...Object.entries(c.body.caches).sort().map(([name, s]) =>
    el("tr", {}, el("td", {}, name), el("td", {}, String(s.hits)), el("td", {}, String(s.misses)), el("td", {}, String(s.stale_served)), el("td", {}, String(s.cost_bytes)))));
}

async function setFault(cls, failing) {
  await api("PUT", "/faults", { body: { class: cls, error_rate: failing ? 1 : 0 } });
  await loadStatus();
}

function mappingsQuery() {
  const q = new URLSearchParams({ limit: "20" });
  if ($("#prefix").value) q.set("prefix", $("#prefix").value);
  if ($("#sf").value) q.set("storefront", $("#sf").value);
  if (state.cursor) q.set("cursor", state.cursor);
  return q;
}

async function loadMappings(fresh) {
  const kind = $("#kind").value;
  if (fresh) state.cursor = null;
  const r = await api("GET", `/mappings/${kind}?${mappingsQuery()}`);
  if (r.status !== 200) { banner(r.body?.detail || "could not list mappings"); return; }
  const cols = COLUMNS[kind];
  $("#mappings thead").replaceChildren(el("tr", {}, ...cols.fields.map((f) => el("th", {}, f)), el("th", {}, "updated"), el("th", {}, el("span", { class: "hint" }, "edit"))));
  const rows = r.body.mappings.map((m) => mappingRow(kind, m));
  if (fresh) $("#mappings tbody").replaceChildren(...rows); else $("#mappings tbody").append(...rows);
  state.cursor = r.body.next_cursor;
  $("#next").hidden = !state.cursor;
}

function show(v) { return Array.isArray(v) ? v.join(",") : v ?? ""; }

function mappingRow(kind, m) {
  const cols = COLUMNS[kind];
  const tr = el("tr", { "data-key": m[cols.key] });
  const render = (m) => tr.replaceChildren(...cols.fields.map((f) => el("td", {}, show(m[f]))), el("td", {}, (m.updated_at || "").slice(0, 19)),
    el("td", {}, el("button", { type: "button", class: "link", "aria-label": `Edit ${m[cols.key]}`, onclick: () => edit(m) }, "Edit")));
  // edit reads the mapping's ETag when editing starts: a change saved since is a conflict.
  const edit = async (m) => {
    const path = `/mappings/${kind}/${encodeURIComponent(m[cols.key])}` + (m.storefront ? `?storefront=${encodeURIComponent(m.storefront)}` : "");
    const got = await api("GET", path);
    if (got.status !== 200) { banner(got.body?.detail || "could not read the mapping"); return; }
    const current = got.body;
    const inputs = {};
    tr.replaceChildren(...cols.fields.map((f) => {
      if (!cols.edit.includes(f)) return el("td", {}, show(current[f]));
      inputs[f] = el("input", { value: show(current[f]), "aria-label": `${f} of ${m[cols.key]}` });
      return el("td", {}, inputs[f]);
    }), el("td", {}, ""), el("td", {},
      el("button", { type: "button", onclick: async () => {
        const body = {};
        for (const f of cols.edit) {
          const v = inputs[f].value.trim();
          body[f] = f === "factor" ? parseInt(v, 10) : f === "warehouses" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
        }
        const r = await api("PUT", path, { body, headers: { "If-Match": got.etag } });
        if (r.status === 200) { render(r.body); banner(""); loadAudit(true); return; }
        if (r.status === 412) {
          render((await api("GET", path)).body);
          banner(`${m[cols.key]} was changed by someone else since you opened it; it is shown as it is now.`);
          return;
        }
        banner(r.body?.detail || `not saved (${r.status})`);
      } }, "Save"),
      el("button", { type: "button", class: "link", onclick: () => render(current) }, "Cancel")));
    inputs[cols.edit[0]].focus();
  };
  render(m);
  return tr;
}

async function loadCurrentCSV() {
  const r = await api("GET", `/mappings/${$("#kind").value}`, { headers: { Accept: "text/csv" } });
  $("#csv").value = r.text;
  state.csvChecked = null;
  $("#apply").disabled = true;
}

// importCSV runs the import; only a dry run of this very text enables Apply.
async function importCSV(dryRun) {
  const kind = $("#kind").value;
  const text = $("#csv").value;
  const r = await api("PUT", `/mappings/${kind}${dryRun ? "?dry_run=true" : ""}`, { raw: text, headers: { "Content-Type": "text/csv" } });
  const rep = r.body?.report || r.body;
  const box = $("#report");
  box.replaceChildren();
  if (!rep || rep.created === undefined) { box.textContent = r.body?.detail || `refused (${r.status})`; return; }
  box.append(el("p", {}, `${dryRun ? "Dry run: would" : "Applied:"} create `, el("span", { class: "created" }, String(rep.created)),
    ", change ", el("span", { class: "changed" }, String(rep.changed)), ", delete ", el("span", { class: "deleted" }, String(rep.deleted)),
    `; ${rep.unchanged} unchanged.`));
  if (rep.refused.length) {
    box.append(el("p", { class: "refused" }, `${rep.refused.length} rows refused; nothing can be applied:`),
      el("ul", {}, ...rep.refused.map((x) => el("li", { class: "refused" }, `line ${x.line}: ${x.reason}`))));
  }
  if (rep.rows.length) box.append(el("ul", {}, ...rep.rows.map((x) => el("li", { class: x.action === "create" ? "created" : "changed" }, `line ${x.line}: ${x.action}`))));
  if (rep.deletions.length) box.append(el("ul", {}, ...rep.deletions.map((m) => el("li", { class: "deleted" }, `delete ${m[COLUMNS[kind].key]}`))));
  state.csvChecked = dryRun && r.status === 200 && rep.refused.length === 0 ? kind + "\n" + text : null;
  $("#apply").disabled = !state.csvChecked;
  if (!dryRun && r.status === 200) { loadMappings(true); loadAudit(true); }
}

async function loadAudit(fresh) {
  if (fresh) state.auditCursor = null;
  const r = await api("GET", "/mappings/audit?limit=10" + (state.auditCursor ? `&cursor=${state.auditCursor}` : ""));
  if (r.status !== 200) return;
  const brief = (m) => m ? Object.entries(m).filter(([k]) => k !== "updated_at").map(([k, v]) => `${k}=${show(v)}`).join(" ") : "—";
  const rows = r.body.entries.map((e) => el("tr", {}, el("td", {}, e.at.slice(0, 19)), el("td", {}, e.actor), el("td", {}, e.source),
    el("td", {}, e.kind), el("td", {}, brief(e.before)), el("td", {}, brief(e.after))));
  if (fresh) $("#audit tbody").replaceChildren(...rows); else $("#audit tbody").append(...rows);
  state.auditCursor = r.body.next_cursor;
  $("#older").hidden = !state.auditCursor;
}

// Live charts: /metrics polled every 2s; rates and the p99 from the counters' deltas.
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (ms, name, pred = () => true) => ms.filter((m) => m.name === name && pred(m.labels)).reduce((a, m) => a + m.value, 0);

const CHARTS = [
  { id: "rate", title: "requests/s", color: "#5b3cc4", value: (a, b, dt) => (sum(b, "b2bridge_http_requests_total") - sum(a, "b2bridge_http_requests_total")) / dt },
  { id: "p99", title: "p99 latency, ms", color: "#a4161a", value: (a, b) => p99(a, b) },
  { id: "hits", title: "cache hit ratio, %", color: "#17603a", value: (a, b) => {
    const h = sum(b, "b2bridge_cache_hits_total") - sum(a, "b2bridge_cache_hits_total");
    const m = sum(b, "b2bridge_cache_misses_total") - sum(a, "b2bridge_cache_misses_total");
    return h + m ? 100 * h / (h + m) : null;
  } },
  { id: "erp-ok", title: "ERP calls ok/s", color: "#1d4f9c", value: (a, b, dt) => erpRate(a, b, dt, (o) => o === "ok" || o === "refused" || o === "not_found") },
  { id: "erp-failed", title: "ERP calls failed/s", color: "#7a5200", value: (a, b, dt) => erpRate(a, b, dt, (o) => !(o === "ok" || o === "refused" || o === "not_found")) },
];

function erpRate(a, b, dt, pick) {
  const f = (l) => pick(l.outcome);
  return (sum(b, "b2bridge_erp_calls_total", f) - sum(a, "b2bridge_erp_calls_total", f)) / dt;
}

function p99(a, b) {
  const buckets = {};
  for (const m of b) if (m.name === "b2bridge_http_request_duration_seconds_bucket") buckets[m.labels.le] = (buckets[m.labels.le] || 0) + m.value;
  for (const m of a) if (m.name === "b2bridge_http_request_duration_seconds_bucket") buckets[m.labels.le] -= m.value;
  const les = Object.keys(buckets).sort((x, y) => Number(x) - Number(y));
  const total = buckets["+Inf"] || 0;
  if (!total) return null;
  for (const le of les) if (buckets[le] >= 0.99 * total) return le === "+Inf" ? null : 1000 * Number(le);
  return null;
}

function drawCharts() {
  const s = state.samples;
  $("#charts").replaceChildren(...CHARTS.map((c) => {
    const values = s.map((x) => x[c.id]);
    const known = values.filter((v) => v != null);
    const max = Math.max(1e-9, ...known);
    const points = values.map((v, i) => v == null ? null : `${(i / 59) * 300},${58 - (v / max) * 54}`).filter(Boolean).join(" ");
    const last = known.length ? known[known.length - 1] : null;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 300 60");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${c.title}, last 2 minutes`);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points);
    line.setAttribute("stroke", c.color);
    svg.append(line);
    return el("figure", { class: "chart", id: "chart-" + c.id }, el("figcaption", {}, c.title + " ", el("strong", {}, last == null ? "—" : last.toFixed(c.id === "hits" ? 1 : 2))), svg);
  }));
}

async function poll() {
  let prev = null, prevAt = 0;
  for (;;) {
    if (state.key) {
      try {
        const text = await (await fetch("/metrics")).text();
        const now = performance.now();
        const cur = parseMetrics(text);
        if (prev) {
          const dt = (now - prevAt) / 1000;
          const sample = {};
          for (const c of CHARTS) sample[c.id] = c.value(prev, cur, dt);
          state.samples.push(sample);
          if (state.samples.length > 60) state.samples.shift();
          drawCharts();
        }
        prev = cur; prevAt = now;
        if (state.samples.length % 5 === 0) loadStatus().catch(() => {});
      } catch { /* the next poll tries again */ }
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

$("#login").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#key").value.trim()); });
$("#logout").addEventListener("click", () => signOut(""));
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); loadMappings(true); });
$("#kind").addEventListener("change", () => { loadMappings(true); state.csvChecked = null; $("#apply").disabled = true; });
$("#next").addEventListener("click", () => loadMappings(false));
$("#older").addEventListener("click", () => loadAudit(false));
$("#purge").addEventListener("click", async () => { await api("DELETE", "/cache"); loadStatus(); });
$("#load-current").addEventListener("click", loadCurrentCSV);
$("#dry-run").addEventListener("click", () => importCSV(true));
$("#apply").addEventListener("click", () => {
  if (state.csvChecked === $("#kind").value + "\n" + $("#csv").value) importCSV(false);
});
$("#csv").addEventListener("input", () => { $("#apply").disabled = true; });
drawCharts();
poll();
if (state.key) signIn(state.key);
