// The meeting review page: list, upload, read, listen, rename, correct, export, publish.
// Plain browser JavaScript (no build), talking to the token-protected /meetings API.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  let current = null; // the open meeting record
  let audioUrl = null;

  $("token").value = sessionStorage.getItem("samyu-token") || "";
  $("token").addEventListener("change", () => sessionStorage.setItem("samyu-token", $("token").value));

  function say(message, error = false) {
    $("status").textContent = message;
    $("status").className = error ? "error" : "";
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${$("token").value}` }, options.headers || {});
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(`${response.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    }
    return response;
  }

  const clock = (s) => new Date(Math.max(0, s) * 1000).toISOString().substring(11, 19);
  const colourOf = (speaker) => COLOURS[Math.max(0, current.transcript.speakers.indexOf(speaker)) % COLOURS.length];

  async function listMeetings() {
    try {
      const collection = encodeURIComponent($("collection").value.trim());
      const data = await (await api(`meetings?collection=${collection}`)).json();
      const list = $("meetings");
      list.replaceChildren();
      for (const m of data.meetings) {
        const item = document.createElement("li");
        item.textContent = `${m.title} · ${m.created.substring(0, 16).replace("T", " ")} · ${m.status}`;
        if (m.error) item.title = m.error;
        item.addEventListener("click", () => openMeeting(m.id));
        if (current && current.id === m.id) item.className = "on";
        list.append(item);
      }
      say(data.meetings.length ? "" : "No meetings in this collection yet.");
    } catch (e) { say(e.message, true); }
  }

  async function openMeeting(id) {
    try {
      const record = await (await api(`meetings/${id}`)).json();
      if (record.status !== "done") { say(`This meeting is ${record.status}${record.error ? ": " + record.error : ""}`, record.status === "failed"); return; }
      current = record;
      render();
      loadAudio(record);
      listMeetings();
    } catch (e) { say(e.message, true); }
  }

  async function loadAudio(record) {
    const audio = $("audio");
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = null;
    audio.hidden = true;
    if (!record.audio) return;
    try {
      const blob = await (await api(`meetings/${record.id}/audio`)).blob();
      audioUrl = URL.createObjectURL(blob);
      audio.src = audioUrl;
      audio.hidden = false;
    } catch (_) { /* the recording was not kept */ }
  }

  function render() {
    $("meeting").hidden = false;
    $("m-title").textContent = `${current.title} (${clock(current.transcript.duration_s)})`;
    const bar = $("speakers-bar");
    bar.replaceChildren();
    for (const speaker of current.transcript.speakers) {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.style.setProperty("--c", colourOf(speaker));
      chip.textContent = speaker;
      chip.addEventListener("click", () => rename(speaker));
      bar.append(chip);
    }
    renderMinutes();
    const box = $("transcript");
    box.replaceChildren();
    for (const seg of current.transcript.segments) {
      const row = document.createElement("div");
      row.className = "segment";
      row.dataset.start = seg.start;
      row.dataset.end = seg.end;
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = clock(seg.start);
      time.addEventListener("click", () => seek(seg.start));
      const who = document.createElement("span");
      who.className = "who";
      who.style.setProperty("--c", colourOf(seg.speaker));
      who.textContent = seg.speaker;
      const lang = document.createElement("span");
      lang.className = "lang";
      lang.textContent = seg.language + (seg.overlap ? " · overlap" : "");
      who.append(lang);
      const text = document.createElement("span");
      text.className = "text";
      text.contentEditable = "true";
      text.textContent = seg.text;
      text.addEventListener("blur", () => saveText(seg, text));
      row.append(time, who, text);
      box.append(row);
    }
  }

  function renderMinutes() {
    const box = $("minutes");
    box.replaceChildren();
    const minutes = current.minutes;
    if (!minutes) return;
    const parts = [["Summary 摘要", minutes.summary], ["Decisions 決定", minutes.decisions],
      ["Action items 跟進事項", minutes.actions], ["Open questions 未決問題", minutes.questions]];
    for (const [title, items] of parts) {
      if (!items || !items.length) continue;
      const head = document.createElement("h2");
      head.textContent = title;
      const list = document.createElement("ul");
      for (const item of items) {
        const li = document.createElement("li");
        const when = document.createElement("span");
        when.className = "time";
        when.textContent = clock(item.start);
        when.addEventListener("click", () => seek(item.start));
        const owner = item.who ? `${item.who}: ` : "";
        const due = item.when ? ` (${item.when})` : "";
        li.append(`${owner}${item.text}${due} `, when);
        list.append(li);
      }
      box.append(head, list);
    }
    const note = document.createElement("p");
    note.className = "lang";
    note.textContent = `minutes: ${minutes.engine}${minutes.note ? " — " + minutes.note : ""}`;
    box.append(note);
  }

  function seek(seconds) {
    const audio = $("audio");
    if (audio.hidden) { say("The recording was not kept (meetings.keep_audio)."); return; }
    audio.currentTime = seconds;
    audio.play();
  }

  $("audio").addEventListener("timeupdate", () => {
    const t = $("audio").currentTime;
    for (const row of document.querySelectorAll(".segment")) {
      row.classList.toggle("playing", t >= +row.dataset.start && t < +row.dataset.end);
    }
  });

  async function rename(speaker) {
    const name = prompt(`New name for ${speaker}`, speaker);
    if (!name || name === speaker) return;
    try {
      current = await (await api(`meetings/${current.id}/speakers`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ names: { [speaker]: name } }),
      })).json();
      render();
    } catch (e) { say(e.message, true); }
  }

  async function saveText(seg, element) {
    const text = element.textContent.trim();
    if (text === seg.text) return;
    try {
      const saved = await (await api(`meetings/${current.id}/segments/${seg.id}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text }),
      })).json();
      Object.assign(seg, saved);
      say("Saved.");
    } catch (e) { say(e.message, true); element.textContent = seg.text; }
  }

  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", async () => {
      try {
        const fmt = button.dataset.export;
        const redact = $("redact").checked ? "&redact=true" : "";
        const blob = await (await api(`meetings/${current.id}/export?format=${fmt}${redact}`)).blob();
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `${current.title || "meeting"}.${fmt}`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      } catch (e) { say(e.message, true); }
    });
  }

  $("minutes-btn").addEventListener("click", async () => {
    say("Writing minutes…");
    try {
      current.minutes = await (await api(`meetings/${current.id}/minutes`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
      })).json();
      renderMinutes();
      say("Minutes rewritten from the corrected transcript.");
    } catch (e) { say(e.message, true); }
  });

  $("publish-btn").addEventListener("click", async () => {
    try {
      const done = await (await api(`meetings/${current.id}/publish`, { method: "POST" })).json();
      say(`Added to collection ${done.collection} as ${done.doc_id}: the assistant can now cite it.`);
    } catch (e) { say(e.message, true); }
  });

  $("upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData();
    form.append("file", $("file").files[0]);
    if ($("title").value) form.append("title", $("title").value);
    if ($("speakers").value) form.append("speakers", $("speakers").value);
    try {
      const collection = encodeURIComponent($("collection").value.trim());
      const job = await (await api(`meetings?collection=${collection}`, { method: "POST", body: form })).json();
      say("Transcribing… (about the recording's length on a small CPU)");
      const poll = async () => {
        const s = await (await api(`meetings/${job.id}/status`)).json();
        if (s.status === "done") { openMeeting(job.id); say("Done."); }
        else if (s.status === "failed") { say(`Failed: ${s.error}`, true); listMeetings(); }
        else setTimeout(poll, 2000);
      };
      poll();
    } catch (e) { say(e.message, true); }
  });

  $("refresh").addEventListener("click", listMeetings);
})();
