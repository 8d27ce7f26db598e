"use strict";
// Shared by the playground and the builder: where the agent's routes are, auth, SSE, safe text.
const Web = (() => {
  const page = location.pathname.replace(/\/+$/, "");
  const base = page.slice(0, page.lastIndexOf("/"));
  const params = new URLSearchParams(location.search);
  // A key in the link (hosts that accept `?key=`, like the demo): send it as a header too.
  // It stays in the address bar, since reloading the page needs it again.
  if (params.has("key")) sessionStorage.setItem("selectools.key", params.get("key"));
  const key = () => sessionStorage.getItem("selectools.key") || "";
  const setKey = (value) => sessionStorage.setItem("selectools.key", value);

  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    if (key()) { h["X-API-Key"] = key(); h["Authorization"] = "Bearer " + key(); }
    return h;
  }

  async function request(method, path, body) {
    const response = await fetch(base + path, {
      method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) throw await failure(response);
    return response;
  }

  async function json(method, path, body) {
    const response = await request(method, path, body);
    return response.status === 204 ? null : response.json();
  }

  async function failure(response) {
    let message = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
      else if (body && body.detail) message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    return error;
  }

  // Server-Sent Events from a fetch response (EventSource cannot POST).
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message", data = "";
        for (const line of raw.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) yield { event: name, data: JSON.parse(data) };
      }
    }
  }

  // DOM helper: text always goes in as text, never as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // A small Markdown subset (paragraphs, lists, headings, code, bold, italics) built from
  // text nodes: model output can never become markup, links or script.
  function inline(text) {
    const out = [];
    const pattern = /(`[^`\n]+`|\*\*[^*\n]+\*\*|\*[^*\n]+\*)/g;
    let last = 0, match;
    while ((match = pattern.exec(text))) {
      if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
      const token = match[0];
      if (token.startsWith("`")) out.push(el("code", {}, token.slice(1, -1)));
      else if (token.startsWith("**")) out.push(el("strong", {}, token.slice(2, -2)));
      else out.push(el("em", {}, token.slice(1, -1)));
      last = match.index + token.length;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
    return out;
  }

  function markdown(target, text) {
    target.replaceChildren();
    const parts = text.split(/```[^\n]*\n?/);
    parts.forEach((part, index) => {
      if (index % 2 === 1) { target.append(el("pre", {}, el("code", {}, part.replace(/\n$/, "")))); return; }
      for (const chunk of part.split(/\n{2,}/)) {
        const block = chunk.replace(/^\n+|\n+$/g, "");
        if (!block.trim()) continue;
        const lines = block.split("\n");
        if (lines.every((l) => /^\s*[-*] /.test(l))) {
          target.append(el("ul", {}, ...lines.map((l) => el("li", {}, ...inline(l.replace(/^\s*[-*] /, ""))))));
        } else if (/^#{1,6} /.test(block)) {
          target.append(el("h4", {}, ...inline(block.replace(/^#{1,6} /, ""))));
        } else {
          const p = el("p");
          lines.forEach((line, i) => { if (i) p.append(el("br")); p.append(...inline(line)); });
          target.append(p);
        }
      }
    });
  }

  const pretty = (value) => {
    if (typeof value === "string") {
      try { return JSON.stringify(JSON.parse(value), null, 2); } catch (_) { return value; }
    }
    return JSON.stringify(value, null, 2);
  };

  return { base, key, setKey, headers, request, json, events, el, markdown, pretty };
})();
