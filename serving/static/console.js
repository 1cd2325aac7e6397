/* samyu operator console: the admin API (docs/deployment.md) in a page, no build step.
 * The token stays in this tab (sessionStorage) and is sent as a bearer token. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const tokenInput = $("token");
  const select = $("collection");
  tokenInput.value = sessionStorage.getItem("samyu-admin-token") || "";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function table(headers, rows) {
    const head = el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })));
    const body = rows.map((cells) => el("tr", {}, cells.map((c) => (c instanceof Node ? el("td", {}, [c]) :
      el("td", { class: typeof c === "number" ? "num" : "", text: c == null ? "–" : String(c) })))));
    return el("table", {}, [el("thead", {}, [head]), el("tbody", {}, body)]);
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${tokenInput.value}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${response.status}: ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data)}`);
    return data;
  }

  function show(target, ...nodes) {
    $(target).replaceChildren(...nodes);
  }

  function fail(target, err) {
    show(target, el("p", { class: "error", role: "alert", text: String(err.message || err) }));
  }

  const collection = () => encodeURIComponent(select.value);

  function overrides() {
    const out = {};
    for (const name of ["dense_weight", "bm25_weight", "rrf_c", "min_score"]) {
      const value = $(name).value;
      if (value !== "") out[name] = Number(value);
    }
    return out;
  }

  async function connect() {
    sessionStorage.setItem("samyu-admin-token", tokenInput.value);
    try {
      const { collections } = await api("GET", "admin/collections");
      select.replaceChildren(...collections.map((c) => el("option", { value: c, text: c })));
      $("connection").textContent = `Connected: ${collections.length} collections`;
      if (collections.length) await loadSettings();
    } catch (err) {
      $("connection").textContent = `Not connected (${err.message})`;
    }
  }

  async function loadSettings() {
    const settings = await api("GET", `admin/collections/${collection()}/settings`);
    for (const name of ["dense_weight", "bm25_weight", "rrf_c", "min_score"]) $(name).placeholder = settings[name];
    $("k").value = settings.k;
  }

  function contribution(explain) {
    const bar = el("div", { class: "bar", role: "img",
      "aria-label": `dense ${Math.round(explain.dense_share * 100)}%, BM25 ${Math.round(explain.bm25_share * 100)}%` }, [
      el("div", { class: "dense", style: `width:${explain.dense_share * 100}%` }),
      el("div", { class: "bm25", style: `width:${explain.bm25_share * 100}%` }),
    ]);
    return el("div", {}, [bar, el("div", { class: "why", text: explain.summary })]);
  }

  async function runQuery(event) {
    event.preventDefault();
    try {
      const body = { query: $("query").value, k: Number($("k").value) || undefined, explain: true, options: overrides() };
      const { hits } = await api("POST", `admin/collections/${collection()}/query`, body);
      const rows = hits.map((h, i) => [i + 1, el("span", { class: "id", text: h.doc_id }), h.title,
        h.score.toFixed(3), h.explain.dense_rank ? `#${h.explain.dense_rank} (${(h.explain.dense_score || 0).toFixed(2)})` : "–",
        h.explain.bm25_rank ? `#${h.explain.bm25_rank} (${(h.explain.bm25_score || 0).toFixed(1)})` : "–",
        contribution(h.explain)]);
      show("query-result", hits.length ? table(["#", "document", "title", "fused", "dense rank (cosine)",
        "BM25 rank (score)", "contribution"], rows) : el("p", { text: "No hits." }));
    } catch (err) {
      fail("query-result", err);
    }
  }

  async function runEval() {
    try {
      const questions = $("questions").value.split("\n").filter((l) => l.trim()).map((l, i) => {
        try { return JSON.parse(l); } catch { throw new Error(`line ${i + 1} is not JSON`); }
      });
      const report = await api("POST", `admin/collections/${collection()}/eval`, { questions, options: overrides() });
      const langs = Object.entries(report.by_language);
      const metrics = table(["language", "recall@1", "recall@5", "recall@10", "MRR", "nDCG@10"],
        [...langs, ["all", report]].map(([lang, m]) => [lang, m["recall@1"], m["recall@5"], m["recall@10"], m.mrr, m["ndcg@10"]]));
      const rows = [
        ...report.misses.map((m) => [el("span", { class: "miss", text: "miss" }), m.language, m.query, m.missing.join(", "), m.got.join(", ")]),
        ...report.partial.map((m) => [el("span", { class: "partial", text: "partial" }), m.language, m.query, m.missing.join(", "), m.got.join(", ")]),
      ];
      show("eval-result", metrics, el("h3", { text: `${report.misses.length} misses, ${report.partial.length} partial (top 5)` }),
        rows.length ? table(["", "language", "question", "missing", "top 5 instead"], rows) : el("p", { text: "Every question found all its documents." }));
    } catch (err) {
      fail("eval-result", err);
    }
  }

  async function runReport(event) {
    event.preventDefault();
    try {
      const r = await api("GET", `admin/report?hours=${Number($("hours").value) || 24}&collection=${collection()}`);
      const outcomes = [...new Set(Object.values(r.outcomes).flatMap((o) => Object.keys(o)))].sort();
      const parts = [el("p", { text: `${r.turns} turns in the last ${r.hours} hours.` })];
      parts.push(el("h3", { text: "Outcomes by language" }),
        table(["language", ...outcomes], Object.entries(r.outcomes).map(([lang, c]) => [lang, ...outcomes.map((o) => c[o] || 0)])));
      parts.push(el("h3", { text: "Latency by stage (ms)" }),
        table(["stage", "turns", "p50", "p95"], Object.entries(r.stages_ms).map(([s, f]) => [s, f.count, f.p50, f.p95])));
      parts.push(el("h3", { text: "Most refused questions (redacted)" }),
        table(["times", "question"], r.top_refused.map((q) => [q.count, q.question])));
      parts.push(el("h3", { text: "Refused, fallback and failed turns (latest first)" }),
        table(["when", "language", "outcome", "cause", "question"], r.not_answered.map((t) => [
          new Date(t.ts * 1000).toLocaleString(), t.language, t.outcome, t.cause, t.question])));
      for (const [name, ids] of Object.entries(r.never_retrieved)) {
        parts.push(el("details", {}, [el("summary", { text: `${name}: ${ids.length} documents never retrieved` }),
          el("ul", {}, ids.map((id) => el("li", { class: "id", text: id })))]));
      }
      show("report-result", ...parts);
    } catch (err) {
      fail("report-result", err);
    }
  }

  async function runFiles() {
    try {
      const [{ files }, { disagreements }] = await Promise.all([
        api("GET", `admin/collections/${collection()}/files`),
        api("GET", `admin/collections/${collection()}/disagreements`),
      ]);
      const rows = disagreements.map((d) => [el("span", { class: "id", text: d.documents.join(" ↔ ") }),
        Object.entries(d.only_in).map(([doc, nums]) => `${doc}: ${nums.join(", ") || "–"}`).join("; ")]);
      show("files-result", table(["file", "documents", "chunks"], files.map((f) => [el("span", { class: "id", text: f.path }), f.documents, f.chunks])),
        el("h3", { text: `${disagreements.length} language versions disagree on numbers` }),
        rows.length ? table(["documents", "numbers found in only one"], rows) : el("p", { text: "None." }));
    } catch (err) {
      fail("files-result", err);
    }
  }

  $("connect").addEventListener("click", connect);
  $("query-form").addEventListener("submit", runQuery);
  $("eval").addEventListener("click", runEval);
  $("report-form").addEventListener("submit", runReport);
  $("files").addEventListener("click", runFiles);
  select.addEventListener("change", () => loadSettings().catch((err) => fail("query-result", err)));
  if (tokenInput.value) connect();
})();
