// graphassoc explorer: vanilla JS over the service's JSON API; no framework, no CDN (works offline).
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { basket: [], rulesItem: null, sort: "lift", descending: true, basketSeq: 0 };

async function api(path, options) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${res.status}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const fmt = (x, digits = 3) => (x === null || x === undefined ? "-" : Number(x).toFixed(digits));
const itemLink = (id, title) => el("a", { class: "item", "data-item": id, onclick: () => openItem(id) }, title || id);
const addButton = (id) => el("button", { type: "button", class: "add", title: "add to basket", onclick: () => addToBasket(id) }, "+ basket");

function status(text, warn = false) {
  const s = $("#status");
  s.textContent = text;
  s.className = warn ? "warn" : "muted";
}

// -- search -----------------------------------------------------------------------------------
async function search(q) {
  const list = $("#search-results");
  list.replaceChildren();
  try {
    const res = await api(`/search?q=${encodeURIComponent(q)}&k=10`);
    for (const it of res.items) list.append(el("li", {}, itemLink(it.item_id, it.title), el("span", { class: "muted small" }, ` ${it.item_id}`), addButton(it.item_id)));
    if (!res.items.length) list.append(el("li", { class: "muted" }, "no match"));
  } catch (err) {
    list.append(el("li", { class: "warn" }, err.message));
  }
}

// -- one item: related products with evidence, and its neighbourhood ---------------------------
function ruleText(rule) {
  return rule ? `${rule.antecedents.join(" + ")} → ${rule.consequents.join(" + ")}` : "-";
}

async function openItem(id) {
  try {
    const [info, related] = await Promise.all([api(`/items/${encodeURIComponent(id)}`), api(`/related/${encodeURIComponent(id)}?k=10`)]);
    $("#item-panel").hidden = false;
    $("#item-title").textContent = `${info.title} (${info.item_id})`;
    const price = info.price === null || info.price === undefined ? "" : ` · price ${info.price}`;
    $("#item-meta").textContent = `bought in ${info.popularity ?? 0} train baskets${price}${info.new ? " · new product (no co-purchase history)" : ""} · ranker ${related.method}`;
    const body = $("#related-table tbody");
    body.replaceChildren();
    related.items.forEach((it, i) => {
      const ev = it.evidence || {};
      const rule = ev.rule;
      body.append(el("tr", {},
        el("td", { class: "num" }, i + 1), el("td", {}, itemLink(it.item_id, it.item_id)), el("td", {}, it.title),
        el("td", { class: "num" }, fmt(it.score, 4)), el("td", {}, ruleText(rule)),
        el("td", { class: "num" }, rule ? fmt(rule.confidence) : "-"), el("td", { class: "num" }, rule ? fmt(rule.lift, 2) : "-"),
        el("td", { class: "num" }, ev.copurchase_count ?? "-"), el("td", { class: "num" }, fmt(ev.text_similarity)),
        el("td", {}, addButton(it.item_id))));
    });
    drawGraph(info);
    state.rulesItem = id;
    loadRules();
  } catch (err) {
    status(err.message, true);
  }
}

function drawGraph(info) {
  // The item in the centre, its strongest co-purchase partners on a circle, edges among them.
  const svg = $("#graph");
  const ns = "http://www.w3.org/2000/svg";
  const node = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  svg.replaceChildren();
  const pos = { [info.item_id]: [0, 0] };
  const n = info.neighbours.length;
  info.neighbours.forEach((nb, i) => { const a = (2 * Math.PI * i) / Math.max(n, 1); pos[nb.item_id] = [110 * Math.cos(a), 110 * Math.sin(a)]; });
  const maxCount = Math.max(1, ...info.neighbours.map((nb) => nb.count));
  const width = (c) => 0.5 + (4 * c) / maxCount;
  for (const nb of info.neighbours) svg.append(node("line", { x1: 0, y1: 0, x2: pos[nb.item_id][0], y2: pos[nb.item_id][1], "stroke-width": width(nb.count) }));
  for (const [a, b, c] of info.edges) svg.append(node("line", { x1: pos[a][0], y1: pos[a][1], x2: pos[b][0], y2: pos[b][1], "stroke-width": width(c), "stroke-opacity": 0.5 }));
  const all = [{ item_id: info.item_id, title: info.title, count: null }, ...info.neighbours];
  for (const it of all) {
    const [x, y] = pos[it.item_id];
    const c = node("circle", { cx: x, cy: y, r: it.count === null ? 9 : 6, class: it.count === null ? "centre" : "", "data-item": it.item_id });
    const tip = node("title", {}); tip.textContent = `${it.title} (${it.item_id})${it.count === null ? "" : ` · co-bought ${it.count}×`}`;
    c.append(tip);
    c.addEventListener("click", () => openItem(it.item_id));
    svg.append(c);
    const label = node("text", { x: x + 8, y: y + 3 }); label.textContent = (it.title || it.item_id).slice(0, 22);
    svg.append(label);
  }
  if (!n) { const t = node("text", { x: -70, y: 40 }); t.textContent = "no co-purchase in the train baskets"; svg.append(t); }
}

// -- basket builder ----------------------------------------------------------------------------
function addToBasket(id) {
  id = String(id).trim();
  if (id && !state.basket.includes(id)) state.basket.push(id);
  renderBasket();
}

async function renderBasket() {
  const chips = $("#basket");
  chips.replaceChildren(...state.basket.map((id) => el("li", { "data-item": id }, id,
    el("button", { type: "button", title: "remove", onclick: () => { state.basket = state.basket.filter((x) => x !== id); renderBasket(); } }, "×"))));
  const recs = $("#basket-recs");
  const seq = ++state.basketSeq; // only the latest answer is drawn when requests overlap
  if (!state.basket.length) { recs.replaceChildren(); $("#basket-unknown").hidden = true; return; }
  try {
    const res = await api("/recommend", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ basket: state.basket, k: 10 }) });
    if (seq !== state.basketSeq) return;
    const unknown = $("#basket-unknown");
    unknown.hidden = !res.unknown.length;
    unknown.textContent = res.unknown.length ? `not in the catalogue: ${res.unknown.join(", ")}` : "";
    recs.replaceChildren(...res.items.map((it) => el("li", {}, itemLink(it.item_id, it.title),
      el("span", { class: "muted small" }, ` ${fmt(it.score, 3)} · ${it.evidence && it.evidence.rule ? ruleText(it.evidence.rule) : `co-bought ${it.evidence ? it.evidence.copurchase_count : 0}×`}`),
      addButton(it.item_id))));
  } catch (err) {
    if (seq === state.basketSeq) recs.replaceChildren(el("li", { class: "warn" }, err.message));
  }
}

// -- rules table (sort by a column header, filter by confidence / lift) -------------------------
const named = (ids, titles) => ids.map((id, i) => `${id} ${(titles[i] || "").toLowerCase()}`.trim()).join(" + ");

async function loadRules() {
  const params = new URLSearchParams({ sort: state.sort, descending: state.descending, limit: $("#rules-limit").value,
    min_confidence: $("#min-conf").value || 0, min_lift: $("#min-lift").value || 0 });
  if (state.rulesItem) params.set("item", state.rulesItem);
  $("#rules-scope").textContent = state.rulesItem ? `mentioning ${state.rulesItem}` : "(all)";
  const body = $("#rules-table tbody");
  try {
    const res = await api(`/rules?${params}`);
    $("#rules-total").textContent = `${res.rules.length} of ${res.total} rules`;
    body.replaceChildren(...res.rules.map((r) => el("tr", {},
      el("td", {}, named(r.antecedents, r.antecedent_titles)), el("td", {}, named(r.consequents, r.consequent_titles)),
      el("td", { class: "num" }, fmt(r.support, 4)), el("td", { class: "num" }, fmt(r.confidence)),
      el("td", { class: "num" }, fmt(r.lift, 2)), el("td", { class: "num" }, r.count),
      el("td", { class: "num" }, fmt(r.leverage, 4)), el("td", { class: "num" }, r.conviction === null ? "∞" : fmt(r.conviction, 2)))));
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { class: "warn", colspan: 8 }, err.message)));
  }
}

function setupRules() {
  for (const th of document.querySelectorAll("#rules-table th[data-sort]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.sort;
      state.descending = state.sort === key ? !state.descending : true;
      state.sort = key;
      for (const other of document.querySelectorAll("#rules-table th")) other.classList.remove("sorted", "asc", "desc");
      th.classList.add("sorted", state.descending ? "desc" : "asc");
      loadRules();
    });
  }
  for (const id of ["#min-conf", "#min-lift", "#rules-limit"]) $(id).addEventListener("change", loadRules);
  $("#rules-all").addEventListener("click", () => { state.rulesItem = null; loadRules(); });
}

async function start() {
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); const q = $("#search-input").value.trim(); if (q) search(q); });
  $("#basket-form").addEventListener("submit", (e) => { e.preventDefault(); addToBasket($("#basket-input").value); $("#basket-input").value = ""; });
  $("#basket-clear").addEventListener("click", () => { state.basket = []; renderBasket(); });
  setupRules();
  for (let attempt = 0; attempt < 60; attempt++) { // the run may still be loading: /readyz says when
    const res = await fetch("/readyz").then((r) => r.json()).catch(() => ({}));
    if (res.status === "ready") {
      status(`${res.run} · version ${res.version} · ${res.items} items · ${res.methods.join(", ")}`);
      document.body.dataset.ready = "1";
      loadRules();
      return;
    }
    status(res.error || "loading the run…", Boolean(res.error));
    await new Promise((r) => setTimeout(r, 1000));
  }
}

start();
