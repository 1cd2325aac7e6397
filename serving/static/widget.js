/* samyu 三語 voice widget: one script tag, no build step.
 *
 *   <script src="https://HOST/widget.js" data-collection="demo"></script>
 *
 * Options (data- attributes of the script tag):
 *   data-collection  collection to ask (default: the server's default)
 *   data-language    auto | yue | cmn | en (default auto)
 *   data-mode        push_to_talk | hands_free (default push_to_talk)
 *   data-target      CSS selector of an element to render into (default: a floating panel)
 *   data-server      base URL of the samyu server (default: where this script came from)
 *   data-title       heading text
 *
 * Protocol: docs/protocol.md (version 1). The UI lives in a shadow root so the host page's
 * styles neither leak in nor out. State for tests and screen readers is mirrored in data-
 * attributes of the host element: data-state, data-turns, data-played-buffers,
 * data-interruptions, data-connected.
 */
(function () {
  "use strict";

  const PROTOCOL = 1;
  const TARGET_RATE = 16000;
  const script = document.currentScript;
  const opts = (script && script.dataset) || {};
  const scriptUrl = new URL((script && script.src) || "widget.js", document.baseURI);
  const base = new URL(opts.server || ".", scriptUrl);

  const LANGUAGES = [
    ["auto", "Auto", "auto"],
    ["yue", "廣東話", "zh-HK"],
    ["cmn", "普通话", "zh-CN"],
    ["en", "English", "en"],
  ];
  const TEXT = {
    title: opts.title || "政府服務查詢 · Government services",
    talk: "Hold to talk",
    talkHandsFree: "Start listening",
    stopListening: "Stop listening",
    stopAnswer: "Stop answer",
    send: "Send",
    typed: "Type your question",
    you: "You",
    assistant: "Assistant",
    sources: "Sources",
    states: {
      idle: "Ready",
      connecting: "Connecting…",
      listening: "Listening…",
      thinking: "Thinking…",
      speaking: "Speaking…",
      offline: "Disconnected",
    },
  };

  const CSS = `
    :host { all: initial; font: 15px/1.45 system-ui, "Noto Sans HK", "PingFang HK", sans-serif; color: #1b1f24; }
    .panel { box-sizing: border-box; width: 100%; max-width: 460px; background: #fff; border: 1px solid #c9d1d9;
             border-radius: 12px; box-shadow: 0 6px 24px rgba(0,0,0,.12); display: flex; flex-direction: column; }
    .floating { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; }
    header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 10px 14px;
             border-bottom: 1px solid #e5e9ee; background: #0b4f8a; color: #fff; border-radius: 12px 12px 0 0; }
    h2 { font-size: 16px; margin: 0; font-weight: 600; }
    .status { font-size: 13px; opacity: .95; }
    .controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; padding: 10px 14px; }
    label { font-size: 13px; }
    select, input[type=text] { font: inherit; padding: 6px 8px; border: 1px solid #8c959f; border-radius: 6px; }
    fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 8px; align-items: center; }
    legend { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    button { font: inherit; cursor: pointer; border-radius: 8px; border: 1px solid #0b4f8a; padding: 8px 14px;
             background: #fff; color: #0b4f8a; }
    button.primary { background: #0b4f8a; color: #fff; min-width: 150px; }
    button[aria-pressed=true] { background: #b3261e; border-color: #b3261e; color: #fff; }
    button:disabled { opacity: .5; cursor: default; }
    button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
    .log { height: 300px; overflow-y: auto; padding: 8px 14px; border-top: 1px solid #e5e9ee; border-bottom: 1px solid #e5e9ee; }
    .turn { margin: 6px 0; }
    .who { font-weight: 600; margin-right: 4px; }
    .you .text { color: #24292f; }
    .partial { color: #57606a; font-style: italic; }
    .assistant .text { color: #0b3d6b; }
    .sources { margin: 4px 0 0 18px; padding: 0; font-size: 13px; }
    .sources li { margin: 2px 0; }
    .meta { font-size: 12px; color: #57606a; }
    .error { color: #b3261e; font-size: 13px; padding: 0 14px; min-height: 1em; }
    form { display: flex; gap: 8px; padding: 10px 14px; }
    form input { flex: 1; min-width: 0; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  class SamyuWidget {
    constructor(mount, floating) {
      this.host = el("div", { class: "samyu-widget", "data-state": "idle", "data-turns": "0",
        "data-played-buffers": "0", "data-interruptions": "0", "data-connected": "false" });
      mount.append(this.host);
      this.root = this.host.attachShadow({ mode: "open" });
      this.language = LANGUAGES.some((l) => l[0] === opts.language) ? opts.language : "auto";
      this.mode = opts.mode === "hands_free" ? "hands_free" : "push_to_talk";
      this.collection = opts.collection || null;
      this.ws = null;
      this.ready = null; // resolves when the server sent `ready`
      this.audioCtx = null;
      this.micNode = null;
      this.micStream = null;
      this.sending = false; // microphone frames go to the server
      this.pressed = false; // push-to-talk button held
      this.playing = new Set();
      this.playAt = 0;
      this.outRate = 16000;
      this.current = null; // the caption entry of the turn in progress
      this.userLine = null;
      this.counts = { turns: 0, played: 0, interruptions: 0 };
      this.render(floating);
    }

    // ---- UI ---------------------------------------------------------------------------
    render(floating) {
      const style = el("style", { text: CSS });
      this.statusEl = el("span", { class: "status", role: "status", "aria-live": "polite", text: TEXT.states.idle });
      const header = el("header", {}, [el("h2", { id: "samyu-title", text: TEXT.title }), this.statusEl]);

      this.langSelect = el("select", { id: "samyu-lang", "aria-label": "Language 語言" });
      for (const [value, label, lang] of LANGUAGES) {
        const option = el("option", { value, lang, text: label });
        if (value === this.language) option.selected = true;
        this.langSelect.append(option);
      }
      this.langSelect.addEventListener("change", () => this.setLanguage(this.langSelect.value));

      const modes = el("fieldset", { role: "radiogroup" }, [el("legend", { text: "Talk mode" })]);
      for (const [value, label] of [["push_to_talk", "Push to talk"], ["hands_free", "Hands-free"]]) {
        const input = el("input", { type: "radio", name: "samyu-mode", id: `samyu-${value}`, value });
        if (value === this.mode) input.checked = true;
        input.addEventListener("change", () => this.setMode(value));
        modes.append(el("label", { for: `samyu-${value}` }, [input, " " + label]));
      }

      this.talkBtn = el("button", { class: "primary talk", type: "button", "aria-pressed": "false",
        "aria-describedby": "samyu-talk-help" });
      this.bindTalkButton();
      this.stopBtn = el("button", { class: "stop", type: "button", text: TEXT.stopAnswer, disabled: "" });
      this.stopBtn.addEventListener("click", () => this.stopAnswer());
      const help = el("span", { id: "samyu-talk-help", class: "sr-only",
        text: "Push to talk: hold the button, or hold Space or Enter while it is focused, and release to send." });

      const controls = el("div", { class: "controls" }, [
        el("label", { for: "samyu-lang", text: "Language 語言" }), this.langSelect, modes,
        this.talkBtn, this.stopBtn, help,
      ]);

      this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation captions",
        tabindex: "0" });
      this.partialEl = el("div", { class: "partial", "aria-hidden": "true" });
      this.errorEl = el("div", { class: "error", role: "alert" });

      this.input = el("input", { type: "text", id: "samyu-text", autocomplete: "off", maxlength: "1000",
        "aria-label": TEXT.typed, placeholder: TEXT.typed });
      const form = el("form", { "aria-label": "Typed question" }, [
        this.input, el("button", { type: "submit", class: "send", text: TEXT.send }),
      ]);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.askText(this.input.value);
      });

      const panel = el("section", { class: "panel" + (floating ? " floating" : ""), "aria-labelledby": "samyu-title" },
        [header, controls, this.log, this.partialEl, this.errorEl, form]);
      this.root.append(style, panel);
      this.updateTalkLabel();
    }

    bindTalkButton() {
      const press = (event) => {
        if (this.mode !== "push_to_talk") return;
        event.preventDefault();
        this.pressed = true;
        this.startTalking();
      };
      const release = (event) => {
        if (this.mode !== "push_to_talk") return;
        event.preventDefault();
        this.pressed = false; // a release before the microphone opened cancels the start
        this.stopTalking();
      };
      this.talkBtn.addEventListener("pointerdown", press);
      this.talkBtn.addEventListener("pointerup", release);
      this.talkBtn.addEventListener("pointerleave", (e) => this.sending && release(e));
      this.talkBtn.addEventListener("keydown", (event) => {
        if ((event.key === " " || event.key === "Enter") && !event.repeat) {
          if (this.mode === "push_to_talk") press(event);
          else { event.preventDefault(); this.toggleHandsFree(); }
        }
      });
      this.talkBtn.addEventListener("keyup", (event) => {
        if (event.key === " " || event.key === "Enter") release(event);
      });
      this.talkBtn.addEventListener("click", (event) => {
        if (this.mode === "hands_free" && event.detail !== 0) this.toggleHandsFree();
      });
    }

    updateTalkLabel() {
      const label = this.mode === "push_to_talk" ? TEXT.talk : this.sending ? TEXT.stopListening : TEXT.talkHandsFree;
      this.talkBtn.textContent = label;
      this.talkBtn.setAttribute("aria-pressed", String(this.sending));
    }

    setState(state) {
      this.host.dataset.state = state;
      this.statusEl.textContent = TEXT.states[state] || state;
    }

    showError(message) {
      this.errorEl.textContent = message || "";
    }

    addTurn(kind, text) {
      const who = kind === "you" ? TEXT.you : TEXT.assistant;
      const textEl = el("span", { class: "text", text: text || "" });
      const entry = el("div", { class: `turn ${kind}` }, [el("span", { class: "who", text: who + ":" }), textEl]);
      this.log.append(entry);
      this.log.scrollTop = this.log.scrollHeight;
      return { entry, textEl };
    }

    // ---- connection ----------------------------------------------------------------
    connect() {
      if (this.ready) return this.ready;
      this.setState("connecting");
      const url = new URL("ws/talk", base);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      this.ready = new Promise((resolve, reject) => {
        ws.onopen = () => {
          const start = { type: "start", protocol: PROTOCOL, sample_rate: TARGET_RATE,
            language: this.language, mode: this.mode };
          if (this.collection) start.collection = this.collection;
          ws.send(JSON.stringify(start));
        };
        ws.onmessage = (event) => {
          if (typeof event.data !== "string") return this.playChunk(event.data);
          let frame;
          try { frame = JSON.parse(event.data); } catch { return; }
          if (frame.type === "ready") {
            this.host.dataset.connected = "true";
            this.host.dataset.sessionId = frame.session_id;
            this.setState(this.sending ? "listening" : "idle");
            resolve(frame);
          }
          this.onFrame(frame);
        };
        ws.onclose = (event) => {
          reject(new Error(event.reason || "closed"));
          if (this.ws !== ws) return; // an older socket, replaced by reconnect()
          this.host.dataset.connected = "false";
          this.ready = null;
          this.ws = null;
          this.sending = false;
          this.updateTalkLabel();
          this.setState("offline");
        };
        ws.onerror = () => this.showError("The voice service cannot be reached.");
      });
      this.ready.catch(() => {});
      return this.ready;
    }

    send(data) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
    }

    reconnect() {
      const old = this.ws;
      this.ws = null;
      this.ready = null;
      if (old) {
        if (old.readyState === WebSocket.OPEN) old.send(JSON.stringify({ type: "stop" }));
        old.close(1000, "settings changed");
        this.host.dataset.connected = "false";
        if (this.sending) this.connect(); // hands-free keeps listening in the new session
      }
    }

    setLanguage(language) {
      this.language = language;
      this.reconnect();
    }

    setMode(mode) {
      if (this.sending) this.stopTalking();
      this.mode = mode;
      this.updateTalkLabel();
      this.reconnect(); // the server end-points differently per mode
    }

    // ---- microphone ------------------------------------------------------------------
    async ensureAudio() {
      if (!this.audioCtx) {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        this.audioCtx = new Ctx({ latencyHint: "interactive" });
      }
      if (this.audioCtx.state === "suspended") await this.audioCtx.resume();
      return this.audioCtx;
    }

    async ensureMic() {
      const ctx = await this.ensureAudio();
      if (this.micNode) return this.micNode;
      this.micStream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      await ctx.audioWorklet.addModule(new URL("pcm-worklet.js", scriptUrl).href);
      const source = ctx.createMediaStreamSource(this.micStream);
      const node = new AudioWorkletNode(ctx, "samyu-pcm-resampler", {
        processorOptions: { targetRate: TARGET_RATE, frameMs: 40 },
      });
      node.port.onmessage = (event) => {
        if (this.sending) this.send(event.data);
      };
      source.connect(node);
      // keep the graph pulled without making the microphone audible
      const mute = ctx.createGain();
      mute.gain.value = 0;
      node.connect(mute).connect(ctx.destination);
      this.micNode = node;
      return node;
    }

    async startTalking() {
      if (this.sending) return;
      this.showError("");
      try {
        await this.ensureMic();
        await this.connect();
      } catch (err) {
        this.showError(err && err.name === "NotAllowedError"
          ? "Microphone access was refused; you can type your question instead."
          : "Could not start: " + (err && err.message ? err.message : err));
        return;
      }
      if (this.mode === "push_to_talk" && !this.pressed) {
        this.setState("idle"); // released while the microphone was opening
        return;
      }
      this.sending = true;
      this.host.dataset.micStarted = String(Date.now());
      this.updateTalkLabel();
      this.setState("listening");
    }

    stopTalking() {
      if (!this.sending) return;
      this.sending = false;
      this.updateTalkLabel();
      if (this.micNode) this.micNode.port.postMessage({ flush: true });
      if (this.mode === "push_to_talk") {
        // let the flushed frame go first
        setTimeout(() => this.send(JSON.stringify({ type: "end_of_speech" })), 20);
        this.setState("thinking");
      } else {
        this.setState("idle");
      }
    }

    toggleHandsFree() {
      if (this.sending) this.stopTalking();
      else this.startTalking();
    }

    // ---- typed questions ----------------------------------------------------------------
    async askText(text) {
      text = (text || "").trim();
      if (!text) return;
      this.showError("");
      try {
        await this.ensureAudio();
        await this.connect();
      } catch (err) {
        this.showError("The voice service cannot be reached.");
        return;
      }
      this.input.value = "";
      this.send(JSON.stringify({ type: "text", text }));
    }

    stopAnswer() {
      this.stopPlayback();
      this.send(JSON.stringify({ type: "stop", scope: "turn" }));
    }

    // ---- playback ------------------------------------------------------------------------
    playChunk(buffer) {
      const ctx = this.audioCtx;
      if (!ctx || !buffer.byteLength) return;
      const pcm = new Int16Array(buffer);
      const audio = ctx.createBuffer(1, pcm.length, this.outRate);
      const data = audio.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
      const source = ctx.createBufferSource();
      source.buffer = audio;
      source.connect(ctx.destination);
      const at = Math.max(ctx.currentTime + 0.02, this.playAt);
      source.start(at);
      this.playAt = at + audio.duration;
      this.playing.add(source);
      this.setState("speaking");
      source.onended = () => {
        if (!this.playing.delete(source)) return; // stopped by a barge-in: not counted
        this.counts.played += 1;
        this.host.dataset.playedBuffers = String(this.counts.played);
        if (!this.playing.size) this.setState(this.sending ? "listening" : "idle");
      };
    }

    stopPlayback() {
      const sources = [...this.playing];
      this.playing.clear();
      for (const source of sources) {
        try { source.stop(); } catch { /* already ended */ }
      }
      this.playAt = 0;
      this.stopBtn.disabled = true;
    }

    // ---- protocol frames -----------------------------------------------------------------
    onFrame(frame) {
      switch (frame.type) {
        case "speech_started":
          if (!this.userLine) this.partialEl.textContent = "…";
          break;
        case "partial":
          this.partialEl.textContent = frame.text;
          break;
        case "transcript":
          this.partialEl.textContent = "";
          if (frame.text) this.addTurn("you", frame.text).entry.lang = langTag(frame.language);
          else if (this.mode === "push_to_talk") this.setState("idle");
          break;
        case "turn_start":
          if (frame.input === "text") this.addTurn("you", frame.text);
          this.current = this.addTurn("assistant", "");
          this.current.turnId = frame.turn_id;
          this.stopBtn.disabled = false;
          this.setState("thinking");
          break;
        case "answer":
          if (this.current && this.current.turnId === frame.turn_id) {
            this.current.textEl.textContent += frame.delta;
            this.log.scrollTop = this.log.scrollHeight;
          }
          break;
        case "sources":
          if (this.current) this.renderSources(this.current, frame.sources || []);
          break;
        case "audio_start":
          this.outRate = frame.sample_rate || 16000;
          break;
        case "audio_end":
          break;
        case "interrupted":
          this.stopPlayback();
          this.counts.interruptions += 1;
          this.host.dataset.interruptions = String(this.counts.interruptions);
          if (this.current && this.current.turnId === frame.turn_id) {
            this.current.entry.append(el("span", { class: "meta", text: " (interrupted)" }));
          }
          break;
        case "turn_end":
          this.counts.turns += 1;
          this.host.dataset.turns = String(this.counts.turns);
          if (this.current && this.current.turnId === frame.turn_id) {
            if (frame.language) this.current.entry.lang = langTag(frame.language);
            if (!this.current.textEl.textContent) this.current.textEl.textContent = frame.answer;
            const t = frame.timings || {};
            const parts = [];
            if (t.voice_to_voice != null) parts.push(`voice-to-voice ${Math.round(t.voice_to_voice)} ms`);
            if (t.first_audio != null) parts.push(`first audio ${Math.round(t.first_audio)} ms`);
            if (parts.length) this.current.entry.append(el("div", { class: "meta", text: parts.join(" · ") }));
          }
          if (!this.playing.size) {
            this.stopBtn.disabled = true;
            this.setState(this.sending ? "listening" : "idle");
          }
          break;
        case "error":
          this.showError(frame.message);
          if (frame.fatal) this.setState("offline");
          break;
        default:
          break; // newer frame types are ignored (protocol versioning)
      }
    }

    renderSources(turn, sources) {
      if (!sources.length) return;
      const list = el("ol", { class: "sources", "aria-label": TEXT.sources });
      for (const source of sources) {
        const label = source.title || source.doc_id;
        const item = el("li");
        if (source.link) {
          item.append(el("a", { href: source.link, target: "_blank", rel: "noopener", text: label }));
        } else {
          item.append(el("span", { class: "source", title: source.doc_id, text: label }));
        }
        list.append(item);
      }
      turn.entry.append(list);
    }
  }

  function langTag(language) {
    const found = LANGUAGES.find((l) => l[0] === language);
    return found ? found[2] : "";
  }

  function mount() {
    const target = opts.target ? document.querySelector(opts.target) : null;
    const widget = new SamyuWidget(target || document.body, !target);
    window.samyuWidget = widget;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
