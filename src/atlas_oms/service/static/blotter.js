// Atlas OMS blotter: plain JavaScript over the REST API and the /v1/ws stream. No build step.
"use strict";

const KEY_STORE = "atlas.apiKey";
const ACCOUNT_STORE = "atlas.account";
const $ = (id) => document.getElementById(id);

const state = {
  key: null,
  me: null,
  account: null,
  instruments: {},
  ws: null,
  wsGen: 0,
  retryMs: 500,
  lastSeq: {},          // account -> last event seq received (to resume after a reconnect)
  refreshTimer: null,
  editing: null,        // {orderId, price, qty} while an order row is being modified
  closed: new Map(),    // order id -> view of orders that stopped being live this session
  marketSymbol: null,
  cbook: null,          // the symbol of the consolidated book panel
  top: {},              // symbol -> {bid, ask}
  expanded: new Set(),  // parent order ids whose children are shown
};

// ------------------------------------------------------------------ REST
class ApiError extends Error {
  constructor(status, body) {
    const reason = (body && body.reason) || (status ? `HTTP_${status}` : "NETWORK");
    const detail = (body && (body.detail || body.title)) || "";
    super(`${reason}: ${detail}`);
    this.status = status;
    this.reason = reason;
    this.detail = detail;
  }
}

async function api(method, path, body) {
  const headers = { "X-API-Key": state.key };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { reason: "NETWORK", detail: `the server cannot be reached (${err.message})` });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

const q = (params) => new URLSearchParams(params).toString();

// ------------------------------------------------------------------ messages
function showMessage(text, kind) {
  $("message-text").textContent = text;
  $("message").className = kind;
  $("message").hidden = false;
}

function showError(action, err) {
  if (err instanceof ApiError) {
    showMessage(`${action} failed — ${err.reason}${err.detail ? ": " + err.detail : ""}`, "error");
  } else {
    showMessage(`${action} failed — ${err && err.message ? err.message : err}`, "error");
    console.error(err);
  }
}

function showOk(text) { showMessage(text, "ok"); }

// ------------------------------------------------------------------ small DOM helpers
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function button(label, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

function signClass(value) {
  const n = Number(value);
  return n > 0 ? "num pos" : n < 0 ? "num neg" : "num";
}

function time(ns) {
  if (!ns) return "";
  return new Date(Number(ns) / 1e6).toLocaleTimeString();
}

function clear(tbody) { while (tbody.firstChild) tbody.removeChild(tbody.firstChild); }

// ------------------------------------------------------------------ connect with a key
async function connect(key) {
  state.key = key;
  try {
    state.me = await api("GET", "/v1/me");
  } catch (err) {
    showError("Connecting", err);
    state.key = null;
    return;
  }
  localStorage.setItem(KEY_STORE, key);
  $("api-key").value = key;
  const me = state.me;
  $("whoami").textContent = `key ${me.key_id}${me.label ? " (" + me.label + ")" : ""} · roles: ${me.roles.join(", ")}`;
  $("kill-box").hidden = !me.can_kill;
  try {
    const [accounts, instruments] = await Promise.all([
      api("GET", "/v1/accounts"),
      api("GET", "/v1/instruments"),
    ]);
    fillAccounts(accounts);
    fillInstruments(instruments);
  } catch (err) {
    showError("Loading accounts", err);
    return;
  }
  $("intro").hidden = true;
  $("desk").hidden = false;
  $("message").hidden = true;
  openSocket();
  await refreshAll();
}

function fillAccounts(accounts) {
  const select = $("account");
  clear(select);
  for (const a of accounts) {
    const opt = document.createElement("option");
    opt.value = a.account_id;
    opt.textContent = a.name ? `${a.account_id} — ${a.name}` : a.account_id;
    select.appendChild(opt);
  }
  const saved = localStorage.getItem(ACCOUNT_STORE);
  const ids = accounts.map((a) => a.account_id);
  state.account = ids.includes(saved) ? saved : ids[0] || null;
  if (state.account) select.value = state.account;
  if (!ids.length) showMessage("This key has no accounts to show.", "error");
}

function fillInstruments(instruments) {
  const select = $("o-symbol");
  clear(select);
  state.instruments = {};
  for (const inst of instruments) {
    state.instruments[inst.symbol] = inst;
    if (inst.tradable === false) continue;
    const opt = document.createElement("option");
    opt.value = inst.symbol;
    opt.textContent = inst.symbol;
    select.appendChild(opt);
  }
  updateHint();
}

function forget() {
  localStorage.removeItem(KEY_STORE);
  state.key = null;
  state.me = null;
  state.wsGen += 1;
  if (state.ws) state.ws.close(1000, "key forgotten");
  state.ws = null;
  $("api-key").value = "";
  $("desk").hidden = true;
  $("intro").hidden = false;
  $("whoami").textContent = "";
  setStatus("offline", "off");
  showOk("The key was removed from this browser.");
}

// ------------------------------------------------------------------ tables
function scheduleRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    refreshAll();
  }, 100);
}

async function refreshAll() {
  const account = state.account;
  if (!account || !state.key) return;
  const a = q({ account_id: account });
  try {
    const [orders, positions, balances, fills, risk, trades, venuePositions, algos] = await Promise.all([
      api("GET", `/v1/orders?${q({ account_id: account, open_only: true, limit: 1000 })}`),
      api("GET", `/v1/positions?${a}`),
      api("GET", `/v1/balances?${a}`),
      api("GET", `/v1/fills?${a}`),
      api("GET", `/v1/risk/status?${a}`),
      api("GET", `/v1/trades?${a}`),
      api("GET", `/v1/venue-positions?${a}`),
      api("GET", `/v1/algos?${a}`),
    ]);
    if (account !== state.account) return; // the account changed meanwhile
    renderOrders(orders.orders);
    renderPositions(positions, venuePositions);
    renderBalances(balances);
    renderFills(fills);
    renderRisk(risk);
    renderTrades(trades.trades);
    renderAlgos(algos.algos);
    renderClosed();
  } catch (err) {
    showError("Refreshing", err);
  }
}

function renderOrders(orders) {
  const tbody = $("orders").tBodies[0];
  clear(tbody);
  $("orders-empty").hidden = orders.length > 0;
  $("orders-count").textContent = orders.length ? `(${orders.length})` : "";
  const editing = state.editing;
  if (editing && !orders.some((o) => o.order_id === editing.orderId)) state.editing = null;
  for (const o of orders) {
    const tr = document.createElement("tr");
    tr.dataset.orderId = String(o.order_id);
    cell(tr, o.order_id);
    cell(tr, time(o.ts_init));
    cell(tr, o.symbol);
    cell(tr, o.side, o.side);
    cell(tr, o.order_type);
    const isEditing = state.editing && state.editing.orderId === o.order_id;
    if (isEditing) {
      editCell(tr, "qty", o.qty);
      editCell(tr, "price", o.price);
    } else {
      const qty = cell(tr, o.qty, "num order-qty");
      if (o.display_qty) {
        // An iceberg: only display_qty of it shows in the venue's book at a time.
        qty.appendChild(document.createTextNode(" "));
        const shown = document.createElement("small");
        shown.className = "order-display-qty";
        shown.textContent = `(${o.display_qty} shown)`;
        qty.appendChild(shown);
      }
      cell(tr, o.price, "num order-price");
    }
    cell(tr, o.cum_qty, "num");
    cell(tr, o.avg_px, "num");
    cell(tr, o.status, "order-status");
    const actions = cell(tr, "");
    if (isEditing) {
      actions.appendChild(button("Save", () => saveModify(o), "save"));
      actions.appendChild(button("Back", () => { state.editing = null; scheduleRefresh(); }, "back"));
    } else {
      actions.appendChild(button("Modify", () => {
        state.editing = { orderId: o.order_id, qty: o.qty, price: o.price ?? "" };
        renderOrders(orders);
      }, "modify"));
      actions.appendChild(button("Cancel", () => cancelOrder(o), "cancel"));
    }
    tbody.appendChild(tr);
  }
}

function editCell(tr, field, value) {
  const td = cell(tr, "", "num");
  const input = document.createElement("input");
  input.className = `edit-${field}`;
  input.setAttribute("aria-label", `new ${field}`);
  input.value = state.editing[field] ?? value ?? "";
  input.addEventListener("input", () => { state.editing[field] = input.value; });
  td.appendChild(input);
}

function renderClosed() {
  const tbody = $("closed").tBodies[0];
  clear(tbody);
  const rows = [...state.closed.values()].sort((a, b) => b.order_id - a.order_id).slice(0, 20);
  for (const o of rows) {
    const tr = document.createElement("tr");
    tr.dataset.orderId = String(o.order_id);
    cell(tr, o.order_id);
    cell(tr, o.symbol);
    cell(tr, o.side, o.side);
    cell(tr, o.qty, "num");
    cell(tr, o.price, "num");
    cell(tr, o.cum_qty, "num");
    cell(tr, o.status, "order-status");
    cell(tr, o.reason);
    tbody.appendChild(tr);
  }
}

// A position held at an external venue also shows the venue's own liquidation price and
// maintenance margin from its last position report (issue 15 §2), next to Atlas's estimate.
function renderPositions(positions, venuePositions = []) {
  const tbody = $("positions").tBodies[0];
  const reported = new Map(venuePositions.map((v) => [`${v.symbol}|${v.position_side}`, v]));
  clear(tbody);
  $("positions-empty").hidden = positions.length > 0;
  for (const p of positions) {
    const tr = document.createElement("tr");
    cell(tr, p.symbol);
    cell(tr, p.position_side === "BOTH" ? (Number(p.qty) >= 0 ? "LONG" : "SHORT") : p.position_side);
    cell(tr, p.qty, "num");
    cell(tr, p.avg_entry_px, "num");
    cell(tr, p.mark_px, "num");
    cell(tr, p.unrealized_pnl, signClass(p.unrealized_pnl));
    cell(tr, p.realized_pnl, signClass(p.realized_pnl));
    cell(tr, p.liquidation_price ?? "—", "num");
    const venue = reported.get(`${p.symbol}|${p.position_side}`);
    cell(tr, venue?.venue_liquidation_price ?? "—", "num");
    cell(tr, venue?.venue_maint_margin ?? "—", "num");
    cell(tr, p.margin_ratio === null || p.margin_ratio === undefined ? "—" : `${(Number(p.margin_ratio) * 100).toFixed(2)}%`, "num");
    tbody.appendChild(tr);
  }
}

// Managed trades (issue 13): state, position, the stop (with break-even) and each tranche's
// target: price x planned qty, and what filled.
function renderTrades(trades) {
  const tbody = $("trades").tBodies[0];
  clear(tbody);
  $("trades-empty").hidden = trades.length > 0;
  $("trades-count").textContent = trades.length ? `(${trades.length})` : "";
  for (const t of trades) {
    const tr = document.createElement("tr");
    tr.dataset.tradeId = t.trade_id;
    cell(tr, t.trade_id);
    cell(tr, t.symbol);
    cell(tr, t.side, t.side);
    cell(tr, t.phase, "trade-phase");
    cell(tr, t.position, "num trade-position");
    cell(tr, t.entry_avg_px ?? "—", "num");
    const stop = t.stop_trigger ?? "—";
    cell(tr, t.break_even ? `${stop} (BE)` : stop, "num trade-stop");
    const targets = (t.tranches || []).map((x) => {
      const done = x.status === "FILLED" ? " ✓" : Number(x.filled_qty) > 0 ? ` (${x.filled_qty} filled)` : "";
      return `T${x.index} ${x.price}×${x.planned_qty}${done}`;
    });
    cell(tr, targets.join(", ") || "—", "trade-targets");
    cell(tr, t.realized_pnl, signClass(t.realized_pnl));
    cell(tr, t.unrealized_pnl ?? "—", signClass(t.unrealized_pnl));
    tbody.appendChild(tr);
  }
}

// Parent orders (issue 16): kind, progress (filled / qty), average price, status; a row expands
// into the children (venue, account, qty, price, filled, status); pause, resume, cancel.
function renderAlgos(algos) {
  const tbody = $("algos").tBodies[0];
  clear(tbody);
  $("algos-empty").hidden = algos.length > 0;
  const open = algos.filter((a) => a.status === "WORKING" || a.status === "PAUSED").length;
  $("algos-count").textContent = algos.length ? `(${open} open of ${algos.length})` : "";
  for (const a of algos.slice().reverse()) {
    const tr = document.createElement("tr");
    tr.dataset.algoId = a.algo_id;
    const shown = state.expanded.has(a.algo_id);
    const toggle = cell(tr, "");
    toggle.appendChild(button(shown ? "▾" : "▸", () => {
      if (shown) state.expanded.delete(a.algo_id); else state.expanded.add(a.algo_id);
      renderAlgos(algos);
    }, "algo-toggle"));
    cell(tr, a.algo_id);
    cell(tr, a.venue === "SMART" && a.kind !== "SMART" ? `${a.kind} · SMART` : a.kind, "algo-kind");
    cell(tr, a.symbol);
    cell(tr, a.side, a.side);
    cell(tr, `${a.cum_qty} / ${a.qty}`, "num algo-progress");
    cell(tr, a.avg_px ?? "—", "num algo-avg");
    cell(tr, a.limit_price ?? "—", "num");
    cell(tr, a.end_reason ? `${a.status} (${a.end_reason})` : a.status, "algo-status");
    const actions = cell(tr, "");
    if (a.status === "WORKING") actions.appendChild(button("Pause", () => algoAction(a, "pause")));
    if (a.status === "PAUSED") actions.appendChild(button("Resume", () => algoAction(a, "resume")));
    if (a.status === "WORKING" || a.status === "PAUSED") {
      actions.appendChild(button("Cancel", () => algoAction(a, "cancel"), "danger"));
    }
    tbody.appendChild(tr);
    if (!shown) continue;
    const sub = document.createElement("tr");
    sub.className = "algo-children";
    sub.dataset.parent = a.algo_id;
    const td = cell(sub, "");
    td.colSpan = 10;
    const lines = (a.children || []).map((c) =>
      `#${c.order_id} ${c.venue}/${c.account_id} ${c.symbol} ${c.side} ${c.qty}` +
      `${c.price ? " @ " + c.price : ""}: ${c.cum_qty} filled` +
      `${c.avg_px ? " @ " + c.avg_px : ""} · ${c.status}`);
    for (const r of a.refused || []) lines.push(`refused (slice ${r.slice_no}): ${r.reason}: ${r.message}`);
    const rep = a.report || {};
    lines.push(`arrival ${rep.arrival_price ?? "—"} · avg ${rep.avg_px ?? "—"} · slippage ` +
      `${rep.slippage_bps ?? "—"} bps · participation ${rep.participation_pct ?? "—"}%`);
    const list = document.createElement("ul");
    for (const line of lines.length > 1 ? lines : ["No children yet.", ...lines]) {
      const li = document.createElement("li");
      li.textContent = line;
      list.appendChild(li);
    }
    td.appendChild(list);
    tbody.appendChild(sub);
  }
}

async function algoAction(a, verb) {
  try {
    const view = await api("POST", `/v1/algos/${encodeURIComponent(a.algo_id)}/${verb}`);
    showOk(`Parent ${view.algo_id} ${view.status.toLowerCase()}.`);
    scheduleRefresh();
  } catch (err) {
    showError(`${verb[0].toUpperCase()}${verb.slice(1)} parent ${a.algo_id}`, err);
  }
}

function renderBalances(balances) {
  const tbody = $("balances").tBodies[0];
  clear(tbody);
  for (const b of balances) {
    const tr = document.createElement("tr");
    cell(tr, b.asset);
    cell(tr, b.total, "num");
    cell(tr, b.locked, "num");
    cell(tr, b.free, "num");
    tbody.appendChild(tr);
  }
}

function renderFills(fills) {
  const tbody = $("fills").tBodies[0];
  clear(tbody);
  $("fills-empty").hidden = fills.length > 0;
  for (const f of fills.slice(-50).reverse()) {
    const tr = document.createElement("tr");
    cell(tr, time(f.ts_event));
    cell(tr, f.order_id);
    cell(tr, f.symbol);
    cell(tr, f.side, f.side);
    cell(tr, f.last_qty, "num");
    cell(tr, f.last_px, "num");
    cell(tr, `${f.fee} ${f.fee_asset}`, "num");
    cell(tr, f.liquidity_side);
    tbody.appendChild(tr);
  }
}

function renderRisk(risk) {
  const box = $("risk");
  clear(box);
  const summary = $("risk-summary");
  const kills = risk.kill_switches || [];
  const states = (risk.trading_states || []).filter((s) => s.state !== "ACTIVE");
  const breakers = (risk.circuit_breakers || []).filter((b) => b && b.state && b.state !== "CLOSED");
  if (kills.length) {
    summary.textContent = "KILL SWITCH ON: trading stopped";
    summary.className = "badge bad";
  } else if (states.length || breakers.length) {
    summary.textContent = "Trading restricted";
    summary.className = "badge warn";
  } else {
    summary.textContent = "Trading active";
    summary.className = "badge on";
  }
  const list = (title, items, text) => {
    const h = document.createElement("h3");
    h.textContent = title;
    h.style.fontSize = "13px";
    h.style.margin = "6px 0 2px";
    box.appendChild(h);
    const ul = document.createElement("ul");
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "none";
      ul.appendChild(li);
    }
    for (const item of items) {
      const li = document.createElement("li");
      li.textContent = text(item);
      ul.appendChild(li);
    }
    box.appendChild(ul);
  };
  const scope = (x) => (x.scope === "global" ? "firm-wide" : `${x.scope} ${x.scope_id}`);
  list("Kill switches", kills, (k) => `${scope(k)} — by ${k.actor}: ${k.reason}${k.flatten ? " (flatten)" : ""}`);
  list("Trading states", risk.trading_states || [], (s) => `${scope(s)}: ${s.state} — by ${s.actor}: ${s.reason}`);
  list("Circuit breakers", risk.circuit_breakers || [], (b) => `${scope(b)}: ${b.state}${b.cause ? " (" + b.cause + ")" : ""}`);
  list("Limits", risk.limits || [], (l) => `${scope(l)}: ${Object.entries(l.limits).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ") || "none set"}`);
}

// ------------------------------------------------------------------ actions
async function submitOrder(event) {
  event.preventDefault();
  const type = $("o-type").value;
  const body = {
    account_id: state.account,
    symbol: $("o-symbol").value,
    side: $("o-side").value,
    order_type: type,
    qty: $("o-qty").value.trim(),
  };
  if (!body.qty) { showMessage("Enter a quantity.", "error"); return; }
  if (type === "LIMIT") {
    const price = $("o-price").value.trim();
    if (!price) { showMessage("A limit order needs a price.", "error"); return; }
    body.price = price;
  }
  $("o-submit").disabled = true;
  try {
    const order = await api("POST", "/v1/orders", body);
    showOk(`Order ${order.order_id} ${order.status.toLowerCase()}: ${order.side} ${order.qty} ${order.symbol}${order.price ? " @ " + order.price : ""}`);
    scheduleRefresh();
  } catch (err) {
    showError("Submitting the order", err);
  } finally {
    $("o-submit").disabled = false;
  }
}

async function saveModify(o) {
  const edit = state.editing;
  const body = { account_id: o.account_id };
  const qty = String(edit.qty ?? "").trim();
  const price = String(edit.price ?? "").trim();
  if (qty && qty !== o.qty) body.qty = qty;
  if (price && price !== (o.price ?? "")) body.price = price;
  if (!("qty" in body) && !("price" in body)) {
    showMessage("Change the price or the quantity first.", "error");
    return;
  }
  try {
    const view = await api("PATCH", `/v1/orders/${o.order_id}?${q({ account_id: o.account_id })}`, body);
    state.editing = null;
    showOk(`Order ${view.order_id} modified: ${view.qty} @ ${view.price ?? "market"}`);
    scheduleRefresh();
  } catch (err) {
    showError(`Modifying order ${o.order_id}`, err);
  }
}

async function cancelOrder(o) {
  try {
    const view = await api("DELETE", `/v1/orders/${o.order_id}?${q({ account_id: o.account_id })}`);
    showOk(`Order ${view.order_id} ${view.status.toLowerCase()}.`);
    if (state.editing && state.editing.orderId === o.order_id) state.editing = null;
    scheduleRefresh();
  } catch (err) {
    showError(`Cancelling order ${o.order_id}`, err);
  }
}

async function kill() {
  const account = state.account;
  const reason = window.prompt(`Kill switch for account ${account}: every open order is cancelled and no new order is accepted until reset. Reason?`, "stopped from the blotter");
  if (!reason) return;
  try {
    await api("POST", "/v1/risk/kill", { scope: "account", scope_id: account, reason, flatten: $("kill-flatten").checked });
    showOk(`Kill switch on for account ${account}.`);
    scheduleRefresh();
  } catch (err) {
    showError("Kill switch", err);
  }
}

async function resetKill() {
  const account = state.account;
  const reason = window.prompt(`Reset the kill switch of account ${account}? Reason:`, "reset from the blotter");
  if (!reason) return;
  try {
    await api("POST", "/v1/risk/kill/reset", { scope: "account", scope_id: account, reason });
    showOk(`Kill switch of account ${account} reset.`);
    scheduleRefresh();
  } catch (err) {
    showError("Resetting the kill switch", err);
  }
}

function updateHint() {
  const symbol = $("o-symbol").value;
  const inst = state.instruments[symbol];
  const isLimit = $("o-type").value === "LIMIT";
  $("o-price").disabled = !isLimit;
  $("o-price-label").classList.toggle("muted", !isLimit);
  if (!inst) { $("o-hint").textContent = ""; return; }
  const top = state.top[symbol] || {};
  const parts = [`tick ${inst.tick_size}`, `lot ${inst.lot_size}`];
  if (inst.min_notional && Number(inst.min_notional)) parts.push(`min notional ${inst.min_notional}`);
  parts.push(`best bid ${top.bid ?? "—"}`, `best ask ${top.ask ?? "—"}`);
  if (top.last) parts.push(`last trade ${top.last}`);
  $("o-hint").textContent = `${symbol}: ${parts.join(" · ")}`;
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.marketSymbol !== symbol) subscribeMarket(symbol);
}

// ------------------------------------------------------------------ live updates
function setStatus(text, cls) {
  const el = $("ws-status");
  el.textContent = text;
  el.className = `badge ${cls}`;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function subscribeAccount(account) {
  const message = { op: "subscribe", channel: "account", account_id: account };
  if (state.lastSeq[account] !== undefined) message.since_seq = state.lastSeq[account];
  send(message);
  send({ op: "subscribe", channel: "algos", account_id: account });
}

function subscribeMarket(symbol) {
  if (state.marketSymbol) send({ op: "unsubscribe", channel: "market", symbol: state.marketSymbol });
  state.marketSymbol = symbol;
  send({ op: "subscribe", channel: "market", symbol, levels: 1 });
}

function openSocket() {
  const gen = ++state.wsGen;
  if (state.ws) state.ws.close(1000, "reconnecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`);
  state.ws = ws;
  state.marketSymbol = null;
  setStatus("connecting…", "off");
  ws.addEventListener("open", () => ws.send(JSON.stringify({ op: "auth", token: state.key })));
  ws.addEventListener("message", (e) => {
    if (gen !== state.wsGen) return;
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    onMessage(m);
  });
  ws.addEventListener("close", (e) => {
    if (gen !== state.wsGen) return;
    state.ws = null;
    if (e.code === 4401) {
      setStatus("not authorised", "bad");
      showMessage(`Live updates refused — ${e.reason || "the API key is not valid"}`, "error");
      return;
    }
    setStatus(`offline${e.reason ? ": " + e.reason : ""} — reconnecting`, "off");
    const wait = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, 10000);
    setTimeout(() => { if (gen === state.wsGen && state.key) openSocket(); }, wait);
  });
}

function onMessage(m) {
  if (m.op === "authenticated") {
    state.retryMs = 500;
    if (state.account) subscribeAccount(state.account);
    const symbol = $("o-symbol").value;
    if (symbol) subscribeMarket(symbol);
    if (state.cbook) subscribeBook(state.cbook);
    setStatus("live", "on");
    scheduleRefresh(); // catch up with anything that happened while offline
    return;
  }
  if (m.op === "live") {
    setStatus(`live · seq ${m.seq}`, "on");
    return;
  }
  if (m.op === "error") {
    showMessage(`Live updates: ${m.reason}: ${m.detail}`, "error");
    return;
  }
  if (m.op) return; // subscribed, unsubscribed, pong
  if (m.channel === "account") {
    if (m.subscription !== state.account) return;
    state.lastSeq[m.subscription] = m.seq;
    const order = m.view && m.view.order;
    if (order) {
      const done = ["DENIED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"];
      if (done.includes(order.status)) state.closed.set(order.order_id, order);
      else state.closed.delete(order.order_id);
    }
    logEvent(m);
    setStatus(`live · seq ${m.seq}`, "on");
    scheduleRefresh();
  } else if (m.channel === "algos") {
    if (m.account_id === state.account || m.subscription === state.account) scheduleRefresh();
  } else if (m.channel === "consolidated") {
    if (m.symbol === state.cbook) renderBook(m);
  } else if (m.channel === "market") {
    const top = state.top[m.symbol] || (state.top[m.symbol] = {});
    if (m.type === "book") {
      top.bid = m.bids.length ? m.bids[0][0] : null;
      top.ask = m.asks.length ? m.asks[0][0] : null;
    } else if (m.type === "trade") {
      top.last = `${m.qty} @ ${m.price}`;
    }
    if (m.symbol === $("o-symbol").value) updateHint();
  }
}

function logEvent(m) {
  const parts = [`#${m.seq}`, m.type];
  if (m.order_id !== undefined) parts.push(`order ${m.order_id}`);
  if (m.symbol) parts.push(m.symbol);
  if (m.side) parts.push(m.side);
  if (m.last_qty) parts.push(`${m.last_qty} @ ${m.last_px}`);
  else if (m.qty && m.type !== "OrderSubmitted") parts.push(`qty ${m.qty}${m.price ? " @ " + m.price : ""}`);
  if (m.intent) parts.push(`${m.intent.side} ${m.intent.qty} ${m.intent.symbol}${m.intent.price ? " @ " + m.intent.price : ""}`);
  if (m.amount) parts.push(`${m.amount} ${m.asset || ""}`);
  if (m.reason) parts.push(`(${m.reason})`);
  const li = document.createElement("li");
  li.value = m.seq;
  li.textContent = parts.join(" ");
  const list = $("events");
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 100) list.removeChild(list.lastChild);
}

// ------------------------------------------------------------------ consolidated book
function subscribeBook(symbol) {
  const msg = { op: "subscribe", channel: "consolidated", symbol, depth: 10 };
  if (state.account) msg.account_id = state.account;
  send(msg);
}

async function showBook(event) {
  if (event) event.preventDefault();
  const symbol = $("cbook-symbol").value.trim();
  if (!symbol) return;
  if (state.cbook && state.cbook !== symbol) {
    send({ op: "unsubscribe", channel: "consolidated", symbol: state.cbook });
  }
  state.cbook = symbol;
  const params = { depth: 10 };
  if (state.account) params.account_id = state.account;
  try {
    renderBook(await api("GET", `/v1/books/${symbol}/consolidated?${q(params)}`));
  } catch (err) {
    renderBook(null);
    if (err.reason !== "NO_BOOK") showError("Consolidated book", err);
  }
  subscribeBook(symbol);
}

function renderBook(view) {
  const tbody = $("cbook").tBodies[0];
  const venues = $("cbook-venues").tBodies[0];
  clear(tbody);
  clear(venues);
  $("cbook-empty").hidden = !!view;
  $("cbook-empty").textContent = state.cbook ? `No venue has a book of ${state.cbook} yet.` : "Choose a symbol.";
  $("cbook-quote").textContent = view ? `(in ${view.quote})` : "";
  if (!view) return;
  const rows = [...view.asks.slice().reverse().map((l) => ["SELL", l]), ...view.bids.map((l) => ["BUY", l])];
  for (const [side, l] of rows) {
    const tr = document.createElement("tr");
    cell(tr, side === "SELL" ? "ask" : "bid", side);
    cell(tr, l.venue);
    cell(tr, l.symbol);
    cell(tr, `${l.price} ${l.quote}`, "num");
    cell(tr, l.normalized_price, "num");
    cell(tr, l.fee_adjusted_price, "num");
    cell(tr, l.qty, "num");
    tbody.appendChild(tr);
  }
  for (const v of view.venues) {
    const tr = document.createElement("tr");
    cell(tr, v.venue);
    cell(tr, v.symbol);
    cell(tr, v.bid, "num");
    cell(tr, v.ask, "num");
    cell(tr, v.age_ms, "num");
    cell(tr, v.stale ? "stale" : "");
    venues.appendChild(tr);
  }
}

// ------------------------------------------------------------------ wiring
document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) { showMessage("Paste an API key first.", "error"); return; }
    connect(key);
  });
  $("key-forget").addEventListener("click", forget);
  $("message-close").addEventListener("click", () => { $("message").hidden = true; });
  $("account").addEventListener("change", () => {
    const previous = state.account;
    state.account = $("account").value;
    localStorage.setItem(ACCOUNT_STORE, state.account);
    state.editing = null;
    state.closed.clear();
    clear($("events"));
    if (previous) send({ op: "unsubscribe", channel: "account", account_id: previous });
    if (previous) send({ op: "unsubscribe", channel: "algos", account_id: previous });
    state.expanded.clear();
    delete state.lastSeq[state.account];
    subscribeAccount(state.account);
    refreshAll();
  });
  $("o-symbol").addEventListener("change", updateHint);
  $("o-type").addEventListener("change", updateHint);
  $("order-form").addEventListener("submit", submitOrder);
  $("kill").addEventListener("click", kill);
  $("kill-reset").addEventListener("click", resetKill);
  $("cbook-form").addEventListener("submit", showBook);
  const saved = localStorage.getItem(KEY_STORE);
  if (saved) connect(saved);
});
