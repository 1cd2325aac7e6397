/* samyu 三語 voice widget: one script tag, no build step.
 *
 *   <script src="https://HOST/widget.js" data-collection="demo"></script>
 *
 * Options (data- attributes of the script tag):
 *   data-collection  collection to ask (default: the server's default)
 *   data-language    auto | yue | cmn | en (default auto)
 *   data-mode        push_to_talk | hands_free (default push_to_talk)
 *   data-target      CSS selector of an element to render into (default: a floating launcher
 *                    button that opens the panel; full-screen on a phone)
 *   data-open        with no data-target: start with the panel open
 *   data-server      base URL of the samyu server (default: where this script came from)
 *   data-title       heading text (default: in the interface language)
 *   data-debug       show engineering figures (timings) and raw error messages
 *
 * Every label, status and error is in the interface language: Traditional Chinese for
 * 廣東話, Simplified for 普通话, English for English. In Auto it starts from the page's (or
 * browser's) language and follows the language the caller is detected speaking.
 *
 * Protocol: docs/protocol.md (version 1). The UI lives in a shadow root so the host page's
 * styles neither leak in nor out. State for tests and screen readers is mirrored in data-
 * attributes of the host element: data-state, data-wait, data-ui-language, data-turns,
 * data-played-buffers, data-interruptions, data-connected, data-open.
 */
(function () {
  "use strict";

  const PROTOCOL = 1;
  const TARGET_RATE = 16000;
  const SLOW_AFTER_MS = 10000; // "still working" after this long without an answer
  const VERY_SLOW_AFTER_MS = 30000;
  const PLAYBACK_REPORT_MS = 300; // `playback` progress reports while an answer plays
  const script = document.currentScript;
  const opts = (script && script.dataset) || {};
  const scriptUrl = new URL((script && script.src) || "widget.js", document.baseURI);
  const base = new URL(opts.server || ".", scriptUrl);
  const DEBUG = opts.debug !== undefined && opts.debug !== "false";

  // [value, label in its own language, BCP 47 tag]
  const LANGUAGES = [
    ["auto", null, null],
    ["yue", "廣東話", "zh-HK"],
    ["cmn", "普通话", "zh-CN"],
    ["en", "English", "en"],
  ];

  const UI = {
    en: {
      title: "Ask about government services",
      auto: "Auto (detect)",
      language: "Language",
      modeLegend: "How to talk",
      pushToTalk: "Push to talk",
      handsFree: "Hands-free",
      talk: "Hold to talk",
      talkHandsFree: "Start listening",
      stopListening: "Stop listening",
      stopAnswer: "Stop answer",
      send: "Send",
      typed: "Type your question",
      typedForm: "Type a question",
      you: "You",
      assistant: "Assistant",
      sources: "Sources",
      captions: "Conversation",
      talkHelp: "Hold the button, or hold Space or Enter while it is focused, and release to send.",
      open: "Ask a question",
      close: "Close",
      interrupted: "(stopped)",
      states: {
        idle: "Ready",
        connecting: "Connecting…",
        listening: "Listening…",
        thinking: "Looking for the answer…",
        speaking: "Speaking…",
        offline: "Disconnected",
      },
      wait: {
        searching: "Looking for the answer in the documents…",
        writing: "Found it. Writing the answer…",
        slow: "Still working on it. Thank you for waiting.",
        verySlow: "This is taking longer than usual. Please keep waiting, or try again later.",
      },
      errors: {
        unreachable: "The service cannot be reached. Please try again later.",
        micRefused: "Microphone access was refused. You can type your question instead.",
        micFailed: "The microphone could not be started. You can type your question instead.",
        busy: "All lines are busy. Please try again in a minute.",
        notReady: "The service is starting. Please try again shortly.",
        tooMany: "Too many questions in a short time. Please wait a moment.",
        tooLong: "Your question is too long. Please ask it in short.",
        empty: "Please say or type a question.",
        notHeard: "Sorry, I did not catch that. Please say it again.",
        answerFailed: "Sorry, the answer could not be prepared. Please try again.",
        closed: "The conversation ended. Ask again to start a new one.",
        generic: "Sorry, something went wrong. Please try again.",
      },
    },
    yue: {
      title: "政府服務查詢",
      auto: "自動（偵測）",
      language: "語言",
      modeLegend: "講嘢方式",
      pushToTalk: "按鍵講嘢",
      handsFree: "免按鍵",
      talk: "按住講嘢",
      talkHandsFree: "開始聆聽",
      stopListening: "停止聆聽",
      stopAnswer: "停止回答",
      send: "送出",
      typed: "輸入你嘅問題",
      typedForm: "輸入問題",
      you: "你",
      assistant: "助理",
      sources: "資料來源",
      captions: "對話",
      talkHelp: "按住按鈕，或者喺按鈕上按住空白鍵或 Enter 鍵講嘢，放開就會送出。",
      open: "查詢",
      close: "關閉",
      interrupted: "（已停止）",
      states: {
        idle: "準備好",
        connecting: "連接中…",
        listening: "聆聽中…",
        thinking: "搵緊答案…",
        speaking: "回答中…",
        offline: "已斷線",
      },
      wait: {
        searching: "喺文件入面搵緊答案…",
        writing: "搵到資料，整理緊答案…",
        slow: "仲處理緊，多謝你耐心等候。",
        verySlow: "今次需時比平常長，請繼續等候，或者稍後再試。",
      },
      errors: {
        unreachable: "暫時連接唔到服務，請稍後再試。",
        micRefused: "咪高峰冇權限，你可以改為輸入問題。",
        micFailed: "開唔到咪高峰，你可以改為輸入問題。",
        busy: "所有線路繁忙，請一分鐘後再試。",
        notReady: "服務啟動緊，請稍後再試。",
        tooMany: "短時間內問咗太多問題，請等一陣。",
        tooLong: "你嘅問題太長，請簡短啲再問。",
        empty: "請講出或者輸入你嘅問題。",
        notHeard: "對唔住，我聽唔清楚，請再講一次。",
        answerFailed: "對唔住，暫時未能準備答案，請再試一次。",
        closed: "對話已結束，再問一次就會重新開始。",
        generic: "對唔住，出現問題，請再試一次。",
      },
    },
    cmn: {
      title: "政府服务查询",
      auto: "自动（检测）",
      language: "语言",
      modeLegend: "说话方式",
      pushToTalk: "按键说话",
      handsFree: "免按键",
      talk: "按住说话",
      talkHandsFree: "开始聆听",
      stopListening: "停止聆听",
      stopAnswer: "停止回答",
      send: "发送",
      typed: "输入你的问题",
      typedForm: "输入问题",
      you: "你",
      assistant: "助理",
      sources: "资料来源",
      captions: "对话",
      talkHelp: "按住按钮，或在按钮上按住空格键或 Enter 键说话，松开即发送。",
      open: "查询",
      close: "关闭",
      interrupted: "（已停止）",
      states: {
        idle: "准备就绪",
        connecting: "连接中…",
        listening: "正在聆听…",
        thinking: "正在查找答案…",
        speaking: "正在回答…",
        offline: "已断开",
      },
      wait: {
        searching: "正在文件中查找答案…",
        writing: "已找到资料，正在整理答案…",
        slow: "仍在处理，感谢耐心等候。",
        verySlow: "这次需要的时间比平常长，请继续等候，或稍后再试。",
      },
      errors: {
        unreachable: "暂时无法连接服务，请稍后再试。",
        micRefused: "麦克风没有权限，你可以改为输入问题。",
        micFailed: "无法打开麦克风，你可以改为输入问题。",
        busy: "所有线路繁忙，请一分钟后再试。",
        notReady: "服务正在启动，请稍后再试。",
        tooMany: "短时间内提问太多，请稍等。",
        tooLong: "你的问题太长，请简短一些再问。",
        empty: "请说出或输入你的问题。",
        notHeard: "对不起，我没听清楚，请再说一次。",
        answerFailed: "对不起，暂时无法准备答案，请再试一次。",
        closed: "对话已结束，再问一次即可重新开始。",
        generic: "对不起，出现问题，请再试一次。",
      },
    },
  };

  // server error codes -> the message key shown to a citizen (docs/protocol.md)
  const ERROR_KEYS = {
    busy: "busy",
    not_ready: "notReady",
    too_many_turns: "tooMany",
    rate_limited: "tooMany",
    text_too_long: "tooLong",
    question_too_long: "tooLong",
    empty_text: "empty",
    empty_question: "empty",
    no_words: "empty",
    idle_timeout: "closed",
    session_expired: "closed",
    retrieval_failed: "answerFailed",
    speech_failed: "answerFailed",
    turn_failed: "answerFailed",
    unreachable: "answerFailed",
    timeout: "answerFailed",
    server_error: "answerFailed",
    bad_response: "answerFailed",
    model_error: "answerFailed",
  };

  const CSS = `
    :host { all: initial; font: 15px/1.45 system-ui, "Noto Sans HK", "PingFang HK", "Microsoft JhengHei", sans-serif; color: #1b1f24; }
    .panel { box-sizing: border-box; width: 100%; max-width: 480px; background: #fff; border: 1px solid #c9d1d9;
             border-radius: 12px; box-shadow: 0 6px 24px rgba(0,0,0,.12); display: flex; flex-direction: column; }
    .panel.floating { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; width: min(440px, calc(100vw - 32px));
                      max-height: calc(100vh - 32px); }
    .panel[hidden] { display: none; }
    .launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483001; border-radius: 28px; min-height: 56px;
                padding: 0 22px; font: 600 16px/1 inherit; font-family: inherit; background: #0b4f8a; color: #fff;
                border: 2px solid #fff; box-shadow: 0 4px 16px rgba(0,0,0,.25); cursor: pointer; }
    .launcher[aria-expanded=true] { display: none; }
    header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 10px 14px;
             border-bottom: 1px solid #e5e9ee; background: #0b4f8a; color: #fff; border-radius: 12px 12px 0 0; }
    h2 { font-size: 17px; margin: 0; font-weight: 600; }
    .status { font-size: 14px; }
    .close { background: transparent; color: #fff; border: 1px solid #fff; padding: 4px 10px; }
    .controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; padding: 10px 14px; }
    label { font-size: 14px; }
    select, input[type=text] { font: inherit; padding: 8px; border: 1px solid #6e7781; border-radius: 6px; color: #1b1f24; background: #fff; }
    fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 10px; align-items: center; }
    legend { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    button { font: inherit; cursor: pointer; border-radius: 8px; border: 1px solid #0b4f8a; padding: 10px 14px; min-height: 44px;
             background: #fff; color: #0b4f8a; }
    button.primary { background: #0b4f8a; color: #fff; min-width: 150px; }
    button[aria-pressed=true] { background: #b3261e; border-color: #b3261e; color: #fff; }
    button:disabled { color: #57606a; border-color: #8c959f; background: #f6f8fa; cursor: default; }
    button:focus-visible, select:focus-visible, input:focus-visible, a:focus-visible, .log:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
    .log { height: 300px; overflow-y: auto; padding: 8px 14px; border-top: 1px solid #e5e9ee; border-bottom: 1px solid #e5e9ee; }
    .turn { margin: 8px 0; }
    .who { font-weight: 600; margin-right: 4px; }
    .you .text { color: #24292f; }
    .partial { color: #57606a; font-style: italic; padding: 0 14px; }
    .assistant .text { color: #0b3d6b; }
    .waiting { display: flex; align-items: center; gap: 8px; color: #3d4650; font-size: 14px; margin-top: 2px; }
    .dots { display: inline-flex; gap: 4px; }
    .dots i { width: 7px; height: 7px; border-radius: 50%; background: #0b4f8a; animation: samyu-blink 1.2s infinite ease-in-out; }
    .dots i:nth-child(2) { animation-delay: .2s; } .dots i:nth-child(3) { animation-delay: .4s; }
    @keyframes samyu-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
    @media (prefers-reduced-motion: reduce) { .dots i { animation: none; } }
    .sources { margin: 4px 0 0 18px; padding: 0; font-size: 14px; }
    .sources li { margin: 2px 0; }
    .sources a { color: #0b4f8a; }
    .meta { font-size: 12px; color: #57606a; }
    .error { color: #b3261e; font-size: 14px; padding: 0 14px; min-height: 1em; }
    form { display: flex; gap: 8px; padding: 10px 14px; }
    form input { flex: 1; min-width: 0; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    @media (max-width: 600px) {
      .panel.floating { inset: 0; right: 0; bottom: 0; width: 100vw; max-width: none; height: 100vh; height: 100dvh;
                        max-height: none; border-radius: 0; border: 0; }
      .panel.floating header { border-radius: 0; }
      .panel.floating .log { flex: 1; height: auto; min-height: 120px; }
      .launcher { right: 12px; bottom: 12px; }
    }
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

  function guessUiLanguage() {
    const tags = [document.documentElement.lang, ...(navigator.languages || [navigator.language])];
    for (const raw of tags) {
      const tag = (raw || "").toLowerCase();
      if (!tag) continue;
      if (tag.startsWith("en")) return "en";
      if (tag.startsWith("zh-cn") || tag.startsWith("zh-sg") || tag.includes("hans")) return "cmn";
      if (tag.startsWith("zh") || tag.startsWith("yue")) return "yue";
    }
    return "yue"; // a Hong Kong service: Traditional Chinese first
  }

  class SamyuWidget {
    constructor(mount, floating) {
      this.floating = floating;
      this.host = el("div", { class: "samyu-widget", "data-state": "idle", "data-turns": "0",
        "data-played-buffers": "0", "data-interruptions": "0", "data-connected": "false", "data-wait": "" });
      mount.append(this.host);
      this.root = this.host.attachShadow({ mode: "open" });
      this.language = LANGUAGES.some((l) => l[0] === opts.language) ? opts.language : "auto";
      this.detected = null; // the language the caller was last detected speaking (Auto)
      this.fallbackUi = guessUiLanguage();
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
      this.audioTurn = null; // turn_id of the answer audio now arriving (its audio_start)
      this.heard = null; // playback progress of that turn's audio, reported to the server
      this.current = null; // the caption entry of the turn in progress
      this.turnOpen = false; // a turn started and its turn_end has not come
      this.state = "idle";
      this.errorKey = null;
      this.counts = { turns: 0, played: 0, interruptions: 0, reports: 0 };
      this.render();
      this.applyTexts();
    }

    get ui() {
      return UI[this.uiLanguage()];
    }

    uiLanguage() {
      if (this.language !== "auto") return this.language;
      return this.detected || this.fallbackUi;
    }

    // ---- UI ---------------------------------------------------------------------------
    render() {
      const style = el("style", { text: CSS });
      this.statusEl = el("span", { class: "status", role: "status", "aria-live": "polite" });
      this.titleEl = el("h2", { id: "samyu-title" });
      const headerItems = [this.titleEl, this.statusEl];
      if (this.floating) {
        this.closeBtn = el("button", { class: "close", type: "button" });
        this.closeBtn.addEventListener("click", () => this.setOpen(false));
        headerItems.push(this.closeBtn);
      }
      const header = el("header", {}, headerItems);

      this.langLabel = el("label", { for: "samyu-lang" });
      this.langSelect = el("select", { id: "samyu-lang" });
      for (const [value, label, lang] of LANGUAGES) {
        const option = el("option", { value });
        if (label) {
          option.textContent = label;
          option.lang = lang;
        }
        if (value === this.language) option.selected = true;
        this.langSelect.append(option);
      }
      this.langSelect.addEventListener("change", () => this.setLanguage(this.langSelect.value));

      this.modeLegend = el("legend");
      const modes = el("fieldset", { role: "radiogroup" }, [this.modeLegend]);
      this.modeLabels = {};
      for (const value of ["push_to_talk", "hands_free"]) {
        const input = el("input", { type: "radio", name: "samyu-mode", id: `samyu-${value}`, value });
        if (value === this.mode) input.checked = true;
        input.addEventListener("change", () => this.setMode(value));
        const text = el("span");
        this.modeLabels[value] = text;
        modes.append(el("label", { for: `samyu-${value}` }, [input, " ", text]));
      }

      this.talkBtn = el("button", { class: "primary talk", type: "button", "aria-pressed": "false",
        "aria-describedby": "samyu-talk-help" });
      this.bindTalkButton();
      this.stopBtn = el("button", { class: "stop", type: "button", disabled: "" });
      this.stopBtn.addEventListener("click", () => this.stopAnswer());
      this.helpEl = el("span", { id: "samyu-talk-help", class: "sr-only" });

      const controls = el("div", { class: "controls" }, [
        this.langLabel, this.langSelect, modes, this.talkBtn, this.stopBtn, this.helpEl,
      ]);

      this.log = el("div", { class: "log", role: "log", "aria-live": "polite", tabindex: "0" });
      this.partialEl = el("div", { class: "partial", "aria-hidden": "true" });
      this.errorEl = el("div", { class: "error", role: "alert" });

      this.input = el("input", { type: "text", id: "samyu-text", autocomplete: "off", maxlength: "1000" });
      this.sendBtn = el("button", { type: "submit", class: "send" });
      this.form = el("form", {}, [this.input, this.sendBtn]);
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.askText(this.input.value);
      });

      this.panel = el("section", { class: "panel" + (this.floating ? " floating" : ""), id: "samyu-panel",
        role: this.floating ? "dialog" : "region", "aria-labelledby": "samyu-title" },
        [header, controls, this.log, this.partialEl, this.errorEl, this.form]);
      const nodes = [style];
      if (this.floating) {
        this.launcher = el("button", { class: "launcher", type: "button", "aria-controls": "samyu-panel",
          "aria-expanded": "false" });
        this.launcher.addEventListener("click", () => this.setOpen(true));
        this.panel.addEventListener("keydown", (event) => {
          if (event.key === "Escape") this.setOpen(false);
        });
        nodes.push(this.launcher);
      }
      nodes.push(this.panel);
      this.root.append(...nodes);
      this.setOpen(!this.floating || (opts.open !== undefined && opts.open !== "false"), false);
    }

    setOpen(open, moveFocus = true) {
      this.panel.hidden = !open;
      this.host.dataset.open = String(open);
      if (this.launcher) this.launcher.setAttribute("aria-expanded", String(open));
      if (!moveFocus) return;
      if (open) this.talkBtn.focus();
      else if (this.launcher) this.launcher.focus();
    }

    /** Every text of the interface, in the interface language (again after a change). */
    applyTexts() {
      const ui = this.ui;
      const lang = this.uiLanguage();
      const tag = LANGUAGES.find((l) => l[0] === lang)[2];
      this.panel.lang = tag;
      if (this.launcher) {
        this.launcher.lang = tag;
        this.launcher.textContent = ui.open;
      }
      this.host.dataset.uiLanguage = lang;
      this.titleEl.textContent = opts.title || ui.title;
      if (this.closeBtn) this.closeBtn.textContent = ui.close;
      this.langLabel.textContent = ui.language;
      this.langSelect.options[0].textContent = ui.auto;
      this.modeLegend.textContent = ui.modeLegend;
      this.modeLabels.push_to_talk.textContent = ui.pushToTalk;
      this.modeLabels.hands_free.textContent = ui.handsFree;
      this.stopBtn.textContent = ui.stopAnswer;
      this.helpEl.textContent = ui.talkHelp;
      this.log.setAttribute("aria-label", ui.captions);
      this.input.setAttribute("aria-label", ui.typed);
      this.input.placeholder = ui.typed;
      this.form.setAttribute("aria-label", ui.typedForm);
      this.sendBtn.textContent = ui.send;
      for (const who of this.log.querySelectorAll(".who")) {
        who.textContent = (who.dataset.role === "you" ? ui.you : ui.assistant) + ":";
      }
      for (const list of this.log.querySelectorAll("ol.sources")) list.setAttribute("aria-label", ui.sources);
      this.updateTalkLabel();
      this.setState(this.state);
      if (this.errorKey) this.errorEl.textContent = ui.errors[this.errorKey];
      if (this.current && this.current.waitKey) this.showWait(this.current.waitKey);
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
      const ui = this.ui;
      const label = this.mode === "push_to_talk" ? ui.talk : this.sending ? ui.stopListening : ui.talkHandsFree;
      this.talkBtn.textContent = label;
      this.talkBtn.setAttribute("aria-pressed", String(this.sending));
    }

    setState(state) {
      this.state = state;
      this.host.dataset.state = state;
      this.statusEl.textContent = this.ui.states[state] || state;
      this.log.setAttribute("aria-busy", String(state === "thinking"));
    }

    /** A citizen's message by key (in the interface language); `detail` only with data-debug. */
    showError(key, detail) {
      this.errorKey = key || null;
      let text = key ? this.ui.errors[key] : "";
      if (key && DEBUG && detail) text += ` [${detail}]`;
      this.errorEl.textContent = text;
    }

    addTurn(kind, text) {
      const who = el("span", { class: "who", "data-role": kind,
        text: (kind === "you" ? this.ui.you : this.ui.assistant) + ":" });
      const textEl = el("span", { class: "text", text: text || "" });
      const entry = el("div", { class: `turn ${kind}` }, [who, textEl]);
      this.log.append(entry);
      this.log.scrollTop = this.log.scrollHeight;
      return { entry, textEl };
    }

    // ---- the waiting state --------------------------------------------------------------
    startWait() {
      this.stopWait();
      const started = Date.now();
      this.showWait("searching");
      this.waitTimer = setInterval(() => {
        if (!this.current || this.current.textEl.textContent) return this.stopWait();
        if (this.current.holding) return; // the spoken holding phrase stays until the answer
        const waited = Date.now() - started;
        if (waited > VERY_SLOW_AFTER_MS) this.showWait("verySlow");
        else if (waited > SLOW_AFTER_MS) this.showWait("slow");
      }, 500);
    }

    showWait(key) {
      const turn = this.current;
      if (!turn) return;
      turn.waitKey = key;
      this.host.dataset.wait = key;
      if (!turn.waitEl) {
        turn.waitEl = el("div", { class: "waiting" }, [
          el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
          el("span", { class: "wait-text" }),
        ]);
        turn.entry.append(turn.waitEl);
      }
      // the holding phrase the server said ("好，我幫你查下。") is shown as it was heard
      const text = key === "holding" && turn.holding ? turn.holding : this.ui.wait[key];
      const textEl = turn.waitEl.querySelector(".wait-text");
      if (textEl.textContent !== text) {
        textEl.textContent = text;
        this.statusEl.textContent = text; // announced once per change (role=status)
      }
    }

    stopWait() {
      if (this.waitTimer) clearInterval(this.waitTimer);
      this.waitTimer = null;
      this.host.dataset.wait = "";
      if (this.current && this.current.waitEl) {
        this.current.waitEl.remove();
        this.current.waitEl = null;
        this.current.waitKey = null;
      }
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
          this.finishTurn();
          this.updateTalkLabel();
          this.setState("offline");
        };
        ws.onerror = () => this.showError("unreachable");
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
      this.applyTexts();
      this.reconnect();
    }

    setMode(mode) {
      if (this.sending) this.stopTalking();
      this.mode = mode;
      this.updateTalkLabel();
      this.reconnect(); // the server end-points differently per mode
    }

    /** Auto follows the caller: the interface switches to the language they were heard in. */
    followLanguage(language) {
      if (this.language !== "auto" || !UI[language] || language === this.detected) return;
      this.detected = language;
      this.applyTexts();
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
      this.showError(null);
      try {
        await this.ensureMic();
      } catch (err) {
        this.showError(err && err.name === "NotAllowedError" ? "micRefused" : "micFailed",
          err && err.message);
        return;
      }
      try {
        await this.connect();
      } catch (err) {
        this.showError("unreachable", err && err.message);
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
      if (!text) {
        this.showError("empty");
        return;
      }
      this.showError(null);
      try {
        await this.ensureAudio();
        await this.connect();
      } catch (err) {
        this.showError("unreachable", err && err.message);
        return;
      }
      this.input.value = "";
      this.send(JSON.stringify({ type: "text", text }));
    }

    /** For the host page (e.g. example questions on the landing page). */
    ask(text) {
      this.setOpen(true, false);
      return this.askText(text);
    }

    stopAnswer() {
      this.stopPlayback();
      this.send(JSON.stringify({ type: "stop", scope: "turn" }));
      this.finishTurn();
    }

    setStopEnabled(enabled) {
      // a button disabled under the keyboard focus drops the focus to the page: keep it here
      const hadFocus = this.root.activeElement === this.stopBtn;
      this.stopBtn.disabled = !enabled;
      if (!enabled && hadFocus) this.talkBtn.focus();
    }

    /** The answer is over (ended, stopped, or the socket closed): no more Stop answer. */
    finishTurn() {
      this.stopWait();
      this.turnOpen = false;
      if (!this.playing.size) {
        this.setStopEnabled(false);
        if (this.state === "thinking" || this.state === "speaking") {
          this.setState(this.sending ? "listening" : "idle");
        }
      }
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
      const heard = this.trackPlayback();
      if (heard) {
        heard.buffers.push({ at, duration: audio.duration });
        heard.receivedS += audio.duration;
      }
      this.playing.add(source);
      this.setStopEnabled(true);
      this.setState("speaking");
      source.onended = () => {
        if (!this.playing.delete(source)) return; // stopped by a barge-in: not counted
        this.counts.played += 1;
        this.host.dataset.playedBuffers = String(this.counts.played);
        if (!this.playing.size) {
          if (this.heard && this.heard.audioEnded) this.endPlaybackReport(); // all of it played
          if (!this.turnOpen) this.setStopEnabled(false); // played to the end
          this.setState(this.turnOpen ? "thinking" : this.sending ? "listening" : "idle");
        }
      };
    }

    stopPlayback() {
      this.endPlaybackReport(); // what was heard up to now, before the sources stop
      const sources = [...this.playing];
      this.playing.clear();
      for (const source of sources) {
        try { source.stop(); } catch { /* already ended */ }
      }
      this.playAt = 0;
      this.setStopEnabled(false);
    }

    // ---- playback reports: what the caller has heard (docs/protocol.md, `playback`) -------
    /** The progress record of the turn whose audio arrives now (made at its first audio). */
    trackPlayback() {
      if (this.audioTurn == null) return null;
      if (this.heard && this.heard.turnId === this.audioTurn) return this.heard;
      this.endPlaybackReport();
      this.heard = { turnId: this.audioTurn, ws: this.ws, buffers: [], marks: [], receivedS: 0,
        audioEnded: false, lastMs: -1,
        timer: setInterval(() => this.reportPlayback(false), PLAYBACK_REPORT_MS) };
      return this.heard;
    }

    /** Seconds of the turn's audio played so far, on the AudioContext clock. */
    playedSeconds(heard) {
      const now = this.audioCtx ? this.audioCtx.currentTime : 0;
      let played = 0;
      for (const b of heard.buffers) played += Math.min(Math.max(now - b.at, 0), b.duration);
      return played;
    }

    reportPlayback(final) {
      const heard = this.heard;
      if (!heard || heard.ws !== this.ws) return; // a report belongs to its own session
      const playedS = this.playedSeconds(heard);
      const playedMs = Math.round(playedS * 1000);
      if (!final && playedMs === heard.lastMs) return; // nothing new heard (e.g. a gap)
      heard.lastMs = playedMs;
      // sentences heard completely: the last audio_mark whose audio has all been played
      let sentence = 0;
      for (const mark of heard.marks) {
        if (mark.atS <= playedS + 1e-6) sentence = Math.max(sentence, mark.sentence);
      }
      this.send(JSON.stringify({ type: "playback", turn_id: heard.turnId, sentence,
        played_ms: playedMs }));
      this.counts.reports += 1;
      this.host.dataset.playbackReports = String(this.counts.reports);
    }

    /** The last report of a turn's playback (played to the end, stopped or interrupted). */
    endPlaybackReport() {
      const heard = this.heard;
      if (!heard) return;
      clearInterval(heard.timer);
      this.reportPlayback(true);
      this.heard = null;
    }

    // ---- protocol frames -----------------------------------------------------------------
    onFrame(frame) {
      switch (frame.type) {
        case "speech_started":
          this.partialEl.textContent = "…";
          break;
        case "partial":
          this.partialEl.textContent = frame.text;
          this.heardPartial = true;
          break;
        case "transcript":
          this.partialEl.textContent = "";
          // words were shown while speaking, but the final heard nothing usable: say so, or
          // the caller waits for an answer that is not coming
          if (!frame.text && this.heardPartial) this.showError("notHeard");
          else if (frame.text && this.errorKey === "notHeard") this.showError(null);
          this.heardPartial = false;
          if (frame.text) {
            this.followLanguage(frame.language);
            this.addTurn("you", frame.text).entry.lang = langTag(frame.language);
          } else if (this.mode === "push_to_talk") this.setState("idle");
          break;
        case "turn_start":
          if (frame.input === "text") this.addTurn("you", frame.text);
          this.stopWait();
          this.current = this.addTurn("assistant", "");
          this.current.turnId = frame.turn_id;
          this.turnOpen = true;
          this.setStopEnabled(true);
          this.setState("thinking");
          this.startWait();
          break;
        case "answer":
          if (this.current && this.current.turnId === frame.turn_id) {
            if (this.current.waitEl) this.stopWait();
            this.current.textEl.textContent += frame.delta;
            this.log.scrollTop = this.log.scrollHeight;
          }
          break;
        case "holding":
          // a "please wait" phrase, spoken because the model is slow: shown where the waiting
          // state is, in its language, until the first answer text replaces it
          if (this.current && this.current.turnId === frame.turn_id && this.current.waitEl) {
            this.current.holding = frame.text;
            this.host.dataset.holding = frame.text;
            this.showWait("holding");
            this.current.waitEl.lang = langTag(frame.language);
          }
          break;
        case "sources":
          if (this.current && this.current.turnId === frame.turn_id) {
            if ((frame.sources || []).length && this.current.waitEl && !this.current.holding) this.showWait("writing");
            this.renderSources(this.current, frame.sources || []);
          }
          break;
        case "audio_start":
          this.outRate = frame.sample_rate || 16000;
          this.audioTurn = frame.turn_id;
          break;
        case "audio_mark":
          // the audio received so far ends the turn's first `sentence` sentences
          if (this.heard && this.heard.turnId === frame.turn_id) {
            this.heard.marks.push({ sentence: frame.sentence, atS: this.heard.receivedS });
          }
          break;
        case "audio_end":
          if (this.audioTurn === frame.turn_id) this.audioTurn = null;
          if (this.heard && this.heard.turnId === frame.turn_id) {
            this.heard.audioEnded = true;
            if (!this.playing.size) this.endPlaybackReport();
          }
          break;
        case "interrupted":
          if (this.audioTurn === frame.turn_id) this.audioTurn = null; // no more of its audio
          this.stopPlayback();
          this.counts.interruptions += 1;
          this.host.dataset.interruptions = String(this.counts.interruptions);
          if (this.current && this.current.turnId === frame.turn_id) {
            this.stopWait();
            this.current.entry.append(el("span", { class: "meta", text: " " + this.ui.interrupted }));
            this.finishTurn();
          }
          break;
        case "turn_end":
          this.counts.turns += 1;
          this.host.dataset.turns = String(this.counts.turns);
          if (this.current && this.current.turnId === frame.turn_id) {
            this.stopWait();
            if (frame.language) {
              this.current.entry.lang = langTag(frame.language);
              this.followLanguage(frame.language);
            }
            if (!this.current.textEl.textContent) this.current.textEl.textContent = frame.answer;
            if (DEBUG) this.renderTimings(this.current, frame.timings || {});
          }
          this.finishTurn();
          break;
        case "error":
          this.showError(this.errorKeyFor(frame), `${frame.code}: ${frame.message}`);
          if (frame.turn_id !== undefined && this.current && this.current.turnId === frame.turn_id) {
            this.finishTurn();
          }
          if (frame.fatal) this.setState("offline");
          break;
        default:
          break; // newer frame types are ignored (protocol versioning)
      }
    }

    errorKeyFor(frame) {
      if (ERROR_KEYS[frame.code]) return ERROR_KEYS[frame.code];
      return "generic";
    }

    renderTimings(turn, t) {
      const parts = [];
      for (const [name, label] of [["voice_to_voice", "voice-to-voice"], ["asr", "asr"], ["retrieval", "retrieval"],
        ["first_token", "first token"], ["first_audio", "first audio"], ["total", "total"]]) {
        if (t[name] != null) parts.push(`${label} ${Math.round(t[name])} ms`);
      }
      if (parts.length) turn.entry.append(el("div", { class: "meta debug", text: parts.join(" · ") }));
    }

    renderSources(turn, sources) {
      if (!sources.length) return;
      const list = el("ol", { class: "sources", "aria-label": this.ui.sources });
      for (const source of sources) {
        const label = source.title || source.doc_id;
        const item = el("li");
        if (source.link) {
          item.append(el("a", { href: source.link, target: "_blank", rel: "noopener", text: label }));
        } else {
          item.append(el("span", { class: "source", text: label }));
        }
        list.append(item);
      }
      turn.entry.append(list);
    }
  }

  function langTag(language) {
    const found = LANGUAGES.find((l) => l[0] === language);
    return found && found[2] ? found[2] : "";
  }

  function mount() {
    const target = opts.target ? document.querySelector(opts.target) : null;
    const widget = new SamyuWidget(target || document.body, !target);
    window.samyuWidget = widget;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
