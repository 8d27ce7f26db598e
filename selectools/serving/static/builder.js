"use strict";
// The builder: pick tools, prompt, provider, limits and policies; try the agent; export a spec.
(() => {
  const { el, json, events, markdown, pretty } = Web;
  const $ = (id) => document.getElementById(id);
  let catalog = null, sessionId = null;

  $("key").value = Web.key();
  $("key").addEventListener("change", () => { Web.setKey($("key").value); load(); });

  async function load() {
    try { catalog = await json("GET", "/builder/catalog"); }
    catch (error) { $("tools").replaceChildren(el("div", { class: "error" }, error.message)); return; }
    $("tools").replaceChildren(...catalog.tools.map((t) => toolRow(t.name, t.description, t.ref, t.writes)));
    $("toolkits").replaceChildren(...catalog.toolkits.filter((k) => k.tools !== null).map((k) =>
      el("label", { class: "row" }, el("input", { type: "checkbox", "data-toolkit": k.name }),
        el("span", {}, k.name, " ", el("span", { class: "meta" }, k.description)))));
    $("provider").replaceChildren(...catalog.providers.map((p) => el("option", { value: p }, p)));
    $("prompt").value = catalog.system_prompt || "";
    for (const [name, value] of Object.entries(catalog.limits)) if (value !== null) $(name).value = value;
  }

  function toolRow(name, description, ref, writes) {
    return el("div", { class: "card" },
      el("label", {}, el("input", { type: "checkbox", "data-tool": name, "data-ref": ref || "", disabled: ref ? null : "" }),
        " ", el("strong", {}, name)),
      el("label", { class: "meta" }, " ✋ ", el("input", { type: "checkbox", "data-approval": name, ...(writes ? { checked: "" } : {}) })),
      el("div", { class: "meta" }, description));
  }

  const number = (id) => ($(id).value === "" ? undefined : Number($(id).value));

  function spec() {
    const tools = [...document.querySelectorAll("[data-tool]:checked")].map((c) => c.dataset.ref);
    for (const c of document.querySelectorAll("[data-toolkit]:checked")) tools.push({ toolkit: c.dataset.toolkit });
    const chosen = new Set([...document.querySelectorAll("[data-tool]:checked")].map((c) => c.dataset.tool));
    const approval = [...document.querySelectorAll("[data-approval]:checked")].map((c) => c.dataset.approval).filter((n) => chosen.has(n));
    const picked = $("provider").value;  // a provider by name, or a `module:name` factory
    const provider = picked.includes(":") ? { factory: picked } : { name: picked };
    if ($("model").value) provider.model = $("model").value;
    const limits = { max_iterations: number("max_iterations"), run_timeout: number("run_timeout"), tool_timeout: number("tool_timeout") };
    const policies = {};
    if (number("retry")) policies.retry = { attempts: number("retry") };
    if ($("rate_limit").value) policies.rate_limit = $("rate_limit").value;
    if (number("breaker")) policies.circuit_breaker = { failures: number("breaker") };
    if (number("cache_ttl")) policies.cache = { ttl: number("cache_ttl") };
    if (approval.length) policies.approval = approval;
    const drop = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    return { name: $("name").value || "agent", system_prompt: $("prompt").value || undefined, provider, tools, limits: drop(limits), policies };
  }

  $("export").addEventListener("click", async () => {
    let files;
    try { files = await json("POST", "/builder/export", { spec: spec() }); }
    catch (error) { $("exports").replaceChildren(el("div", { class: "error" }, error.message)); return; }
    const name = ($("name").value || "agent").replace(/[^\w.-]/g, "_");
    $("exports").replaceChildren(...[["yaml", name + ".yaml"], ["toml", name + ".toml"], ["python", name + ".py"]].map(([kind, file]) => {
      const link = el("a", { href: URL.createObjectURL(new Blob([files[kind]], { type: "text/plain" })), download: file, "data-export": kind }, "Download " + file);
      return el("details", { class: "card", open: kind === "yaml" ? "" : null }, el("summary", {}, file, " · ", link), el("pre", { "data-export-text": kind }, files[kind]));
    }));
  });

  $("try").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("input").value.trim();
    if (!text) return;
    $("input").value = "";
    if (!sessionId) sessionId = "bld-" + crypto.randomUUID().replaceAll("-", "").slice(0, 20);
    const log = $("trylog");
    log.append(el("div", { class: "turn user" }, el("div", { class: "bubble" }, text)));
    const turn = el("div", { class: "turn agent", "data-state": "running" });
    const answer = el("div", { class: "bubble answer" });
    turn.append(answer);
    log.append(turn);
    let raw = "";
    $("send").disabled = true;
    try {
      const response = await fetch(Web.base + "/builder/try", { method: "POST", headers: Web.headers(), body: JSON.stringify({ spec: spec(), input: text, session_id: sessionId }) });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error((body.error && body.error.message) || String(response.status));
      }
      for await (const { event, data } of events(response)) {
        if (event === "text_delta") { raw += data.text; markdown(answer, raw); }
        else if (event === "tool_call_finished") turn.insertBefore(el("div", { class: "card tool " + (data.error ? "failed" : "ok") }, "🔧 ", el("strong", {}, data.name), " ", el("pre", {}, data.error || pretty(data.output))), answer);
        else if (event === "run_finished") turn.append(el("div", { class: "meta usage" }, `${data.usage.input_tokens} in · ${data.usage.output_tokens} out tokens`));
        else if (event === "error") turn.append(el("div", { class: "error" }, data.error.message));
      }
    } catch (error) {
      turn.append(el("div", { class: "error" }, error.message));
    } finally {
      turn.dataset.state = "done";
      $("send").disabled = false;
    }
  });

  load();
})();
