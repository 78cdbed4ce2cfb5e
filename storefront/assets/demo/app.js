// The b2bridge demo storefront: a browser client of /v1 with a browser token, as a
// storefront's pages would be. Only the token minting uses a storefront key, which a real
// storefront keeps on its server; the demo's keys are public demo data.
"use strict";

const $ = (sel) => document.querySelector(sel);
const BREAKS = [1, 5, 10, 25, 50, 100];
const state = { demo: null, storefront: null, account: null, token: null, tokenExpires: 0,
  item: null, cart: [], attempt: null, placing: false, cursor: null };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function banner(text, kind) {
  const b = $("#banner");
  b.textContent = text;
  b.className = kind || "";
  b.hidden = !text;
}

// newKey is one Idempotency-Key: 128 random bits, hex (crypto.randomUUID needs HTTPS).
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// token returns the buyer's browser token, minting a new one when it is near its end.
async function token() {
  if (state.token && Date.now() < state.tokenExpires - 30_000) return state.token;
  const r = await fetch(`/v1/accounts/${encodeURIComponent(state.account)}/tokens`, {
    method: "POST", headers: { Authorization: "Bearer " + state.storefront.key } });
  const body = await r.json();
  if (r.status !== 201) throw new Error(body.detail || "no token");
  state.token = body.token;
  state.tokenExpires = Date.parse(body.expires_at);
  return state.token;
}

// api calls /v1 with the buyer's token. It throws only when the bridge cannot be reached.
async function api(method, path, body, headers = {}) {
  const h = { Authorization: "Bearer " + await token(), ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    banner("The bridge cannot be reached. Your cart is kept; try again.");
    throw e;
  }
  const text = await resp.text();
  const out = { status: resp.status, body: text ? JSON.parse(text) : null };
  if (resp.status === 503) {
    banner(out.body?.code === "outcome_unknown"
      ? "The ERP did not confirm in time; checking with the same request…"
      : "ERP unreachable: prices, stock and orders cannot be confirmed right now.");
  } else if (resp.status === 401) {
    state.token = null; // expired: the next call mints another
  } else if (resp.status < 500) {
    banner("");
  }
  return out;
}

function money(v, currency) { return v == null ? "—" : `${v} ${currency || ""}`.trim(); }

function ageOf(asOf) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(asOf)) / 1000));
  return s < 60 ? `${s}s old` : `${Math.round(s / 60)}m old`;
}

function badge(node, source, asOf) {
  node.className = "badge " + source;
  node.textContent = source === "stale" ? `stale · ${ageOf(asOf)}` : `${source} · ${ageOf(asOf)}`;
  node.title = source === "stale"
    ? "The ERP cannot be reached: the last known figure, past its freshness"
    : source === "cache" ? "From the bridge's cache" : "Read from the ERP now";
}

async function chooseBuyer(value) {
  const [sf, account] = value.split("/");
  state.storefront = state.demo.storefronts.find((s) => s.name === sf);
  state.account = account;
  state.token = null;
  state.cart = [];
  state.attempt = null;
  $("#order-result").textContent = "";
  renderCart(null);
  await reloadHistory();
  if (state.item) await lookup(state.item.sku);
}

// search lists the catalog items whose SKU or name holds the words typed.
async function search() {
  const q = $("#q").value.trim();
  if (!q) { $("#results").replaceChildren(); return []; }
  const r = await fetch(`/demo/catalog?q=${encodeURIComponent(q)}`);
  const items = r.ok ? (await r.json()).items : [];
  $("#results").replaceChildren(...(items.length ? items.map((it) => el("li", {}, el("button", { type: "button",
    onclick: () => { $("#q").value = it.sku; lookup(it.sku); } }, `${it.sku} · ${it.name}`))) : [el("li", {}, "No item matches.")]));
  return items;
}

async function lookup(sku) {
  sku = sku.trim();
  if (!sku) return;
  const prices = BREAKS.map((q) => `sku=${encodeURIComponent(sku)}&qty=${q}`).join("&");
  const [a, p] = await Promise.all([
    api("GET", `/v1/availability?sku=${encodeURIComponent(sku)}`),
    api("GET", `/v1/accounts/${encodeURIComponent(state.account)}/prices?${prices}`),
  ]);
  const box = $("#item");
  box.hidden = false;
  $("#item-sku").textContent = sku;
  if (a.status !== 200 || p.status !== 200) {
    $("#item-available").textContent = (a.body || p.body)?.detail || "Not available now.";
    $("#item-source").textContent = "";
    state.item = null;
    return;
  }
  const it = a.body.items[0];
  if (it.error) {
    $("#item-available").textContent = "No such SKU.";
    $("#item-source").textContent = "";
    $("#item-stock tbody").replaceChildren();
    $("#item-prices tbody").replaceChildren();
    state.item = null;
    return;
  }
  $("#item-available").textContent = `${it.available} ${it.unit} available`;
  badge($("#item-source"), it.source, it.as_of);
  $("#item-stock tbody").replaceChildren(...it.warehouses.map((w) =>
    el("tr", {}, el("td", {}, w.warehouse), el("td", { class: "num" }, String(w.available)))));
  // One row per quantity break: where the unit price changes.
  const lines = p.body.lines.filter((l, i, all) => !l.error && (i === 0 || l.unit_price !== all[i - 1].unit_price));
  $("#item-prices tbody").replaceChildren(...lines.map((l) => el("tr", {},
    el("td", {}, `${l.qty}+`),
    el("td", { class: "num" }, money(l.unit_price, p.body.currency)),
    el("td", {}, l.agreement ? `agreement ${l.agreement}` : l.price_list ? `price list ${l.price_list}` : "list price"))));
  state.item = { sku, unit: it.unit, currency: p.body.currency };
  await priceForQty();
}

// priceForQty shows what the quantity in the box costs: its break, from the ERP's rules.
async function priceForQty() {
  const out = $("#qty-price");
  const qty = parseInt($("#qty").value, 10);
  if (!state.item || !(qty > 0)) { out.textContent = ""; return; }
  const r = await api("GET", `/v1/accounts/${encodeURIComponent(state.account)}/prices?sku=${encodeURIComponent(state.item.sku)}&qty=${qty}`);
  const l = r.body?.lines?.[0];
  if (r.status !== 200 || !l || l.error) { out.textContent = l?.error || r.body?.detail || ""; return; }
  state.item.price = l.unit_price;
  out.textContent = `${qty} × ${money(l.unit_price, r.body.currency)}` +
    (l.break_qty ? ` (break from ${l.break_qty})` : "");
}

// cartBody is the order: each line with the unit price the buyer was shown, so that the
// ERP refuses it (409 price_changed) rather than book another price.
function cartBody() {
  return { lines: state.cart.map((l) => ({ sku: l.sku, qty: l.qty, ...(l.unit_price ? { unit_price: l.unit_price } : {}) })) };
}

// quote prices the cart as the ERP would book it now; the prices shown become the ones
// the order carries.
async function quote() {
  if (state.cart.length === 0) { renderCart(null); return; }
  const r = await api("POST", `/v1/accounts/${encodeURIComponent(state.account)}/quotes`,
    { lines: state.cart.map((l) => ({ sku: l.sku, qty: l.qty })) });
  if (r.status === 200) {
    r.body.lines.forEach((ql, i) => { if (ql.unit_price) state.cart[i].unit_price = ql.unit_price; });
  }
  renderCart(r.status === 200 ? r.body : null, r.status === 200 ? "" : r.body?.detail);
}

function renderCart(q, problem) {
  const empty = state.cart.length === 0;
  $("#cart-empty").hidden = !empty;
  $("#cart").hidden = empty;
  $("#checkout").hidden = empty;
  $("#cart tbody").replaceChildren(...state.cart.map((l, i) => {
    const ql = q?.lines?.[i];
    const why = ql?.problem ? el("div", { class: "problem", role: "note" },
      ql.problem === "insufficient_stock" ? `insufficient stock: ${ql.available} available` : ql.problem.replaceAll("_", " ")) : "";
    return el("tr", {},
      el("td", {}, l.sku, why),
      el("td", { class: "num" }, String(l.qty)),
      el("td", { class: "num" }, ql?.unit_price ?? l.unit_price ?? "—"),
      el("td", { class: "num" }, ql?.line_total ?? "—"),
      el("td", {}, ql?.warehouse ?? "—"),
      el("td", {}, el("button", { type: "button", class: "link", "aria-label": `Remove ${l.sku}`,
        onclick: () => { state.cart.splice(i, 1); quote(); } }, "✕")));
  }));
  const text = $("#quote");
  if (!q) { text.textContent = problem || ""; return; }
  const credit = { ok: "credit ok", hold: "the order would go on credit hold", reject: "over the credit limit: the order would be refused" }[q.credit.decision];
  text.textContent = `Total ${money(q.total, q.currency)} · ${credit} (available ${money(q.credit.available, q.currency)})`;
}

// place books the cart once: one Idempotency-Key per attempt, kept across retries and
// double clicks, so that a flaky network never books twice.
async function place(ev) {
  ev.preventDefault();
  if (state.placing || state.cart.length === 0) return;
  state.placing = true;
  $("#place").disabled = true;
  const result = $("#order-result");
  result.textContent = "Placing the order…";
  const body = { ...cartBody(), ...($("#po").value ? { po_number: $("#po").value } : {}) };
  const text = JSON.stringify(body);
  if (!state.attempt || state.attempt.body !== text) state.attempt = { key: newKey(), body: text };
  let r = null;
  try {
    for (let i = 0; i < 4; i++) {
      try {
        r = await api("POST", `/v1/accounts/${encodeURIComponent(state.account)}/orders`, body, { "Idempotency-Key": state.attempt.key });
      } catch { await sleep(500 * (i + 1)); continue; }
      if (r.status === 503 && r.body?.code === "outcome_unknown") { await sleep(500 * (i + 1)); continue; }
      break;
    }
    showPlacement(r);
  } finally {
    state.placing = false;
    $("#place").disabled = false;
  }
}

function showPlacement(r) {
  const result = $("#order-result");
  result.replaceChildren();
  if (!r) { result.textContent = "The bridge cannot be reached; the order was not confirmed. Press Place order again: it will not book twice."; return; }
  if (r.status === 201 || r.status === 200) {
    result.append(el("p", { class: "ok" }, `Order ${r.body.erp_order_number || r.body.order_id} placed: ${money(r.body.total, r.body.currency)}, ${r.body.status.replaceAll("_", " ")}.`));
    state.cart = [];
    state.attempt = null;
    $("#po").value = "";
    renderCart(null);
    reloadHistory();
    return;
  }
  const p = r.body || {};
  if (p.code === "price_changed") {
    const changed = (p.lines || []).filter((l) => l.code === "price_changed" && l.unit_price);
    result.append(el("p", { class: "problem" }, "Prices changed since you saw them:"),
      el("ul", {}, ...changed.map((l) => el("li", {}, `${l.sku}: now ${l.unit_price}`))),
      el("button", { type: "button", onclick: () => {
        for (const l of changed) for (const c of state.cart) if (c.sku === l.sku) c.unit_price = l.unit_price;
        state.attempt = null; // a new body is a new order attempt
        result.textContent = "New prices accepted. Review the cart and place the order.";
        quote();
      } }, "Accept new prices"));
    return;
  }
  const lines = (p.lines || []).map((l) => el("li", {}, `${l.sku}: ${l.detail || l.code}`));
  result.append(el("p", { class: "problem" }, p.detail || `The order was refused (${r.status}).`), el("ul", {}, ...lines));
  if (r.status !== 503) quote();
}

// reloadHistory shows the buyer's orders from the newest again.
function reloadHistory() {
  state.cursor = null;
  $("#history tbody").replaceChildren();
  return loadHistory();
}

// loadHistory appends the next page of the buyer's orders.
async function loadHistory() {
  const r = await api("GET", `/v1/accounts/${encodeURIComponent(state.account)}/orders?limit=5` +
    (state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : ""));
  if (r.status !== 200) return;
  $("#history tbody").append(...r.body.orders.map((o) => el("tr", {},
    el("td", {}, o.erp_order_number || o.order_id),
    el("td", {}, o.status.replaceAll("_", " ")),
    el("td", { class: "num" }, money(o.total, o.currency)),
    el("td", {}, o.po_number || ""),
    el("td", {}, new Date(o.created_at).toLocaleString()))));
  state.cursor = r.body.next_cursor;
  $("#more").hidden = !state.cursor;
}

async function start() {
  const r = await fetch("/demo/storefronts");
  state.demo = await r.json();
  const select = $("#buyer");
  for (const sf of state.demo.storefronts) {
    select.append(el("optgroup", { label: sf.name }, ...sf.accounts.map((a) => el("option", { value: `${sf.name}/${a}` }, a))));
  }
  $("#suggestions").replaceChildren(...state.demo.skus.map((s) =>
    el("button", { type: "button", onclick: () => { $("#q").value = s; lookup(s); } }, s)));
  $("#q").addEventListener("input", () => { clearTimeout(state.searchTimer); state.searchTimer = setTimeout(search, 200); });
  select.addEventListener("change", () => chooseBuyer(select.value));
  $("#search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const found = await search();
    const q = $("#q").value.trim();
    // The item itself if the words name one; otherwise the words as a SKU (a storefront's
    // own SKU, mapped onto an ERP item, is not in the ERP's catalog).
    const hit = found.find((it) => it.sku.toLowerCase() === q.toLowerCase()) || (found.length === 1 ? found[0] : null);
    lookup(hit ? hit.sku : q);
  });
  $("#qty").addEventListener("input", priceForQty);
  $("#add").addEventListener("submit", (e) => {
    e.preventDefault();
    const qty = parseInt($("#qty").value, 10);
    if (!state.item || !(qty > 0)) return;
    const line = state.cart.find((l) => l.sku === state.item.sku);
    if (line) { line.qty += qty; } else { state.cart.push({ sku: state.item.sku, qty, unit_price: state.item.price }); }
    state.attempt = null;
    quote();
  });
  $("#checkout").addEventListener("submit", place);
  $("#more").addEventListener("click", loadHistory);
  await chooseBuyer(select.value);
  document.body.dataset.ready = "true"; // for tests: the first buyer is loaded
}

start().catch((e) => banner("The demo could not start: " + e.message));
