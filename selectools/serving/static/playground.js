"use strict";
// The playground: chat over `{prefix}/stream`, tool cards, sessions, usage, approvals.
(() => {
  const { el, json, request, events, markdown, pretty } = Web;
  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("input"), send = $("send"), stop = $("stop");
  const REMEMBERED = "selectools.playground.sessions";
  let sessionId = null, running = null;

  $("key").value = Web.key();
  $("key").addEventListener("change", () => { Web.setKey($("key").value); loadSessions(); });
  $("new-chat").addEventListener("click", () => { sessionId = null; log.replaceChildren(); markCurrent(); input.focus(); });
  stop.addEventListener("click", () => running && running.abort());
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask").requestSubmit(); }
  });
  $("ask").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || running) return;
    input.value = "";
    if (!sessionId) sessionId = "pg-" + crypto.randomUUID().replaceAll("-", "").slice(0, 20);
    remember(sessionId);
    userTurn(text);
    run("/stream", { input: text, session_id: sessionId });
  });

  function userTurn(text) {
    const bubble = el("div", { class: "bubble" }, text);
    log.append(el("div", { class: "turn user" }, bubble));
    scroll();
  }

  function agentTurn() {
    const turn = el("div", { class: "turn agent", "data-state": "running" });
    const text = el("div", { class: "bubble answer" });
    text.hidden = true;
    turn.append(text);
    log.append(turn);
    return { turn, text, raw: "", cards: {} };
  }

  const scroll = () => { log.scrollTop = log.scrollHeight; };

  async function run(path, body) {
    const view = agentTurn();
    running = new AbortController();
    send.disabled = true; stop.disabled = false;
    try {
      const response = await fetch(Web.base + path, {
        method: "POST", headers: Web.headers(), body: JSON.stringify(body), signal: running.signal,
      });
      if (!response.ok) {
        let message = response.status + "";
        try { const b = await response.json(); message = (b.error && b.error.message) || b.detail || message; } catch (_) { /* not JSON */ }
        throw new Error(typeof message === "string" ? message : JSON.stringify(message));
      }
      for await (const { event, data } of events(response)) handle(view, event, data);
    } catch (error) {
      if (error.name !== "AbortError") view.turn.append(el("div", { class: "error" }, error.message));
      else view.turn.append(el("div", { class: "meta" }, "Stopped."));
    } finally {
      view.turn.dataset.state = "done";
      running = null; send.disabled = false; stop.disabled = true;
      loadSessions();
    }
  }

  function handle(view, event, data) {
    if (event === "text_delta") {
      view.raw += data.text;
      view.text.hidden = false;
      markdown(view.text, view.raw);
    } else if (event === "tool_call_started") {
      view.cards[data.call_id] = toolCard(view.turn, data.name, data.arguments ?? data.raw_arguments);
    } else if (event === "tool_progress") {
      const card = view.cards[data.call_id];
      if (card) card.progress.append(el("li", {}, typeof data.chunk === "string" ? data.chunk : JSON.stringify(data.chunk)));
    } else if (event === "tool_call_finished") {
      const card = view.cards[data.call_id] || (view.cards[data.call_id] = toolCard(view.turn, data.name, data.arguments ?? data.raw_arguments));
      finishCard(card, data);
    } else if (event === "approval_required") {
      approvalCard(view.turn, data);
    } else if (event === "approval_decided") {
      const card = el("div", { class: "card " + (data.approved ? "ok" : "failed") },
        (data.approved ? "Approved " : "Rejected ") + data.tool + (data.reason ? ": " + data.reason : ""));
      view.turn.insertBefore(card, view.text);
    } else if (event === "run_finished") {
      if (!view.raw && data.output) { view.text.hidden = false; markdown(view.text, data.output); }
      view.turn.append(usageLine(data));
    } else if (event === "error") {
      view.turn.append(el("div", { class: "error" }, data.error.message));
    }
    scroll();
  }

  function toolCard(turn, name, args) {
    const status = el("span", { class: "status" }, "running…");
    const progress = el("ul", { class: "progress" });
    const result = el("div");
    const card = el("details", { class: "card tool", open: "" },
      el("summary", {}, "🔧 ", el("strong", {}, name), " · ", status),
      el("div", { class: "label" }, "arguments"), el("pre", {}, pretty(args)),
      progress, result);
    const answer = turn.querySelector(".answer");
    turn.insertBefore(card, answer);
    return { card, status, progress, result };
  }

  function finishCard(card, data) {
    const failed = data.error !== null && data.error !== undefined;
    card.card.classList.add(failed ? "failed" : "ok");
    card.status.textContent = (failed ? "error" : "done") + " · " + Math.round(data.duration_ms) + " ms";
    card.result.replaceChildren(
      el("div", { class: "label" }, failed ? "error" + (data.error_type ? " (" + data.error_type + ")" : "") : "result"),
      el("pre", {}, failed ? data.error : pretty(data.output)));
  }

  function approvalCard(turn, data) {
    const reason = el("input", { type: "text", placeholder: "Reason (optional)", "aria-label": "Reason" });
    const buttons = el("div", { class: "row" });
    const card = el("div", { class: "card approval" },
      el("div", { class: "label" }, "waiting for your approval"),
      ...data.pending.map((p) => el("div", {}, el("strong", {}, p.tool), el("pre", {}, pretty(p.arguments)))),
      buttons);
    const decide = (approve) => {
      buttons.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      card.append(el("div", { class: "meta" }, approve ? "Approved." : "Rejected."));
      run("/approvals/" + encodeURIComponent(data.approval_id) + "/stream",
        { approve, reason: reason.value || null });
    };
    buttons.append(
      el("button", { class: "primary", type: "button", onclick: () => decide(true) }, "Approve"),
      el("button", { type: "button", onclick: () => decide(false) }, "Reject"), reason);
    turn.insertBefore(card, turn.querySelector(".answer"));
  }

  function usageLine(data) {
    const u = data.usage || {};
    const cost = data.cost_usd === null || data.cost_usd === undefined ? "cost unknown" : "$" + data.cost_usd.toFixed(6);
    return el("div", { class: "meta usage" },
      `${u.input_tokens ?? 0} in · ${u.output_tokens ?? 0} out tokens · ${cost} · ${data.model || ""}`);
  }

  // -- sessions: the server's list of the caller's sessions, plus ones this browser started
  function remembered() {
    try { return JSON.parse(localStorage.getItem(REMEMBERED) || "[]"); } catch (_) { return []; }
  }
  function remember(id) {
    const ids = [id, ...remembered().filter((x) => x !== id)].slice(0, 50);
    localStorage.setItem(REMEMBERED, JSON.stringify(ids));
  }

  async function loadSessions() {
    let listed = null, note = "";
    try {
      const answer = await json("GET", "/sessions");
      if (answer.listed) listed = answer.sessions.map((s) => ({ id: s.session_id, count: s.message_count }));
      else note = "Showing the sessions started in this browser.";
    } catch (error) {
      note = error.status === 401 || error.status === 403 ? "Set your API key above." : error.message;
    }
    if (listed === null) listed = remembered().map((id) => ({ id, count: null }));
    const list = $("sessions");
    list.replaceChildren(...listed.map((s) => el("li", {},
      el("button", { type: "button", "data-session": s.id, title: s.id, onclick: () => openSession(s.id) },
        s.id + (s.count === null ? "" : " (" + s.count + ")")))));
    $("sessions-note").textContent = note;
    markCurrent();
  }

  function markCurrent() {
    document.querySelectorAll("#sessions button").forEach((b) => b.classList.toggle("current", b.dataset.session === sessionId));
  }

  async function openSession(id) {
    if (running) return;
    let stored;
    try { stored = await json("GET", "/sessions/" + encodeURIComponent(id)); }
    catch (error) { log.replaceChildren(el("div", { class: "error" }, error.message)); return; }
    sessionId = id;
    log.replaceChildren();
    let view = null;
    const calls = {};
    for (const m of stored.messages) {
      if (m.role === "user") { userTurn(m.content || ""); view = null; continue; }
      if (m.role === "system") continue;
      if (!view) { view = agentTurn(); view.turn.dataset.state = "done"; }
      if (m.role === "assistant") {
        for (const c of m.tool_calls || []) calls[c.id] = view.cards[c.id] = toolCard(view.turn, c.function.name, c.function.arguments);
        if (m.content) { view.raw += (view.raw ? "\n\n" : "") + m.content; view.text.hidden = false; markdown(view.text, view.raw); }
      } else if (m.role === "tool" && calls[m.tool_call_id]) {
        const card = calls[m.tool_call_id];
        card.card.classList.add("ok");
        card.status.textContent = "done";
        card.result.replaceChildren(el("div", { class: "label" }, "result"), el("pre", {}, pretty(m.content || "")));
      }
    }
    markCurrent();
    scroll();
  }

  loadSessions();
})();
