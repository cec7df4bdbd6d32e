// rnnlab.js: a browser client for `rnnlab serve` (served at /rnnlab.js). No build step, no dependency:
// a <script src="http://127.0.0.1:8765/rnnlab.js"> gives window.rnnlab (an ES module can import it
// too, as a side effect, then read globalThis.rnnlab; Node's require gives the same object).
//
//   const model = await rnnlab.connect("ws://127.0.0.1:8765/ws");   // a server with a token: /ws?token=...
//   const out = await model.generate({ prime: "The ", length: 100, temperature: 0.8 });  // out.text
//   const next = await model.predict("the c", { top: 5, state: 16 });  // next.token, .candidates, .state
//   await model.feed("some text");   // a step whose answer you may ignore: the state moves on
//   await model.stream({ n: 50, interval: 30 }, (output) => console.log(output.text));
//   await model.reset();
//
// Every verb returns a Promise and takes an optional last callback(error, result), as ml5.js's do.
// Events: model.on("output" | "open" | "close" | "reconnecting" | "error", fn). When the socket
// drops, the client reconnects on its own with growing delays (250 ms doubling to 5 s, jittered);
// requests made meanwhile wait and are sent once it is back, and its named session (model.session)
// and sampling settings (model.set) are restored first. A request already sent when the socket
// dropped is rejected (the server may or may not have taken it). A URL's ?token= is kept for every
// reconnection; with no URL, the page's own server is used, with the page's ?token= if it has one.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.rnnlab = factory();
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  const DEFAULTS = { reconnect: true, minDelay: 250, maxDelay: 5000 };
  const STREAM_ENDERS = ["step", "stream", "reset", "session", "restore", "stop"];   // the server cuts a stream

  class RnnlabError extends Error {
    constructor(message, reply) {
      super(message);
      this.name = "RnnlabError";
      this.reply = reply;
    }
  }

  function defaultUrl() {
    if (typeof location === "undefined") return "ws://127.0.0.1:8765/ws";
    const token = new URLSearchParams(location.search || "").get("token");
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
      (token ? "?token=" + encodeURIComponent(token) : "");
  }

  function settle(promise, callback) {
    if (typeof callback === "function") promise.then((result) => callback(null, result), (error) => callback(error));
    return promise;
  }

  function split(options, callback) {           // (options?, callback?) in either position
    if (typeof options === "function") return [{}, options];
    return [options || {}, callback];
  }

  class Model {
    constructor(url, options) {
      this.url = url || defaultUrl();
      this.options = Object.assign({}, DEFAULTS, options || {});
      this.connected = false;
      this.sessionId = null;               // the connection's own session on the server
      this.sessionName = null;             // a named session this client joined (kept across reconnects)
      this.settings = {};                  // sampling settings set through set() (restored on reconnect)
      this.modelNames = [];
      this.defaultModel = null;
      this.listeners = {};
      this.pending = new Map();            // request id -> { resolve, reject, sent, stream, outputs, onOutput }
      this.queue = [];                     // messages waiting for the socket
      this.nextId = 1;
      this.attempts = 0;
      this.closed = false;
      this.resuming = false;
      this.everOpen = false;
      this.socket = null;
      this.timer = null;
      this.ready = new Promise((resolve, reject) => { this._ready = resolve; this._failed = reject; });
      this._open();
    }

    // ---- events --------------------------------------------------------------------------------
    on(event, fn) { (this.listeners[event] = this.listeners[event] || []).push(fn); return this; }
    off(event, fn) { this.listeners[event] = (this.listeners[event] || []).filter((f) => f !== fn); return this; }
    emit(event, data) {
      for (const fn of (this.listeners[event] || []).slice()) {
        try { fn(data); } catch (error) { setTimeout(() => { throw error; }); }
      }
    }

    // ---- verbs ---------------------------------------------------------------------------------
    generate(options, callback) {
      [options, callback] = split(options, callback);
      const message = Object.assign({ type: "generate" }, options);
      if (message.length === undefined) message.length = 100;
      return settle(this._request(message), callback);
    }

    predict(input, options, callback) {
      [options, callback] = split(options, callback);
      return settle(this._request(Object.assign({}, options, { type: "step", input })), callback);
    }

    feed(input, options, callback) { return this.predict(input, options, callback); }

    stream(options, onOutput) {
      options = Object.assign({}, options || {});
      if (options.interval !== undefined) { options.interval_ms = options.interval; delete options.interval; }
      return this._request(Object.assign({ n: 100 }, options, { type: "stream" }), { stream: true, onOutput });
    }

    stop(callback) { return settle(this._request({ type: "stop" }), callback); }

    reset(modelName, callback) {
      if (typeof modelName === "function") [modelName, callback] = [undefined, modelName];
      const message = { type: "reset" };
      if (modelName) message.model = modelName;
      return settle(this._request(message), callback);
    }

    set(settings, callback) {
      const request = this._request(Object.assign({}, settings, { type: "set" }));
      request.then(() => Object.assign(this.settings, settings), () => {});
      return settle(request, callback);
    }

    session(name, callback) {
      const request = this._request({ type: "session", name: name === undefined ? null : name });
      request.then(() => { this.sessionName = name === undefined ? null : name; }, () => {});
      return settle(request, callback);
    }

    snapshot(name, callback) { return settle(this._request({ type: "snapshot", name }), callback); }
    restore(name, callback) { return settle(this._request({ type: "restore", name }), callback); }

    models(callback) {
      return settle(this._request({ type: "models" }).then((reply) => reply.models), callback);
    }

    close() {
      this.closed = true;
      clearTimeout(this.timer);
      this._failAll(new RnnlabError("the client was closed"), true);
      if (this.socket) this.socket.close(1000);
    }

    // ---- plumbing ------------------------------------------------------------------------------
    _request(message, extra) {
      if (this.closed) return Promise.reject(new RnnlabError("the client was closed"));
      const id = this.nextId++;
      message = Object.assign({}, message, { id });
      return new Promise((resolve, reject) => {
        this.pending.set(id, Object.assign({ resolve, reject, sent: false, outputs: [] }, extra || {}));
        if (this.connected && !this.resuming && this.socket.readyState === 1) this._send(message);
        else this.queue.push(message);
      });
    }

    _send(message) {
      if (STREAM_ENDERS.includes(message.type)) this._endStreams();
      const entry = this.pending.get(message.id);
      if (entry) entry.sent = true;
      this.socket.send(JSON.stringify(message));
    }

    _endStreams() {                         // the server ends a running stream on these: resolve it
      for (const [id, entry] of this.pending) {
        if (entry.stream && entry.sent) {
          this.pending.delete(id);
          entry.outputs.stopped = true;
          entry.resolve(entry.outputs);
        }
      }
    }

    _open() {
      let socket;
      try {
        socket = this.socket = new WebSocket(this.url);
      } catch (error) {                     // a malformed URL: nothing to retry
        this.closed = true;
        this._failed(new RnnlabError("cannot open " + this.url + ": " + error.message));
        return;
      }
      socket.onmessage = (event) => { if (socket === this.socket) this._receive(event.data); };
      socket.onclose = (event) => { if (socket === this.socket) this._closed(event); };
      socket.onerror = () => {};           // a close event follows
    }

    _receive(text) {
      let message;
      try { message = JSON.parse(text); } catch (error) { return; }
      if (message && message.request_id !== undefined && message.id === message.request_id && !("token" in message)) {
        delete message.id;                   // the server echoes a request's id as "id" where it has none of its own
      }
      if (message.type === "hello") return this._hello(message);
      const entry = message.request_id !== undefined ? this.pending.get(message.request_id) : undefined;
      if (message.type === "output") this.emit("output", message);
      if (!entry) {
        if (message.type === "error") this.emit("error", new RnnlabError(message.error, message));
        return;
      }
      if (message.type === "error") {
        this.pending.delete(message.request_id);
        return entry.reject(new RnnlabError(message.error, message));
      }
      if (entry.stream && message.type === "output") {
        entry.outputs.push(message);
        if (entry.onOutput) entry.onOutput(message);
        return;
      }
      this.pending.delete(message.request_id);
      delete message.request_id;
      entry.resolve(entry.stream ? entry.outputs : message);
    }

    _hello(message) {
      this.sessionId = message.session;
      this.modelNames = message.models;
      this.defaultModel = message.default;
      this.connected = true;
      this.resuming = true;                 // what this client had goes first, then what it queued
      const again = this.everOpen;
      this.everOpen = true;
      const settings = Object.keys(this.settings).length ? Object.assign({ type: "set" }, this.settings) : null;
      const resumed = () => {
        this.resuming = false;
        this.attempts = 0;
        const queued = this.queue;
        this.queue = [];
        for (const m of queued) if (this.pending.has(m.id)) this._send(m);
        this._ready(this);
        this.emit("open", { session: this.sessionId, reconnected: again });
      };
      if (this.sessionName === null) {
        if (settings) this.socket.send(JSON.stringify(settings));
        return resumed();
      }
      // back to the named session; one the server no longer holds (it restarted) gets this client's settings
      const id = this.nextId++;
      const socket = this.socket;
      this.pending.set(id, {
        sent: true, outputs: [],
        resolve: (reply) => {
          if (reply.created && settings && socket === this.socket) socket.send(JSON.stringify(settings));
          resumed();
        },
        reject: (error) => { if (socket === this.socket) { this.emit("error", error); resumed(); } },
      });
      socket.send(JSON.stringify({ type: "session", name: this.sessionName, id }));
    }

    _failAll(error, queuedToo) {
      for (const [id, entry] of this.pending) {
        if (entry.sent || queuedToo) {
          this.pending.delete(id);
          entry.reject(error);
        }
      }
      if (queuedToo) this.queue = [];
    }

    _closed(event) {
      const wasOpen = this.connected;
      this.connected = false;
      this.resuming = false;
      this._failAll(new RnnlabError("the connection closed before the reply came"), false);
      this.emit("close", { code: event.code, reason: event.reason });
      if (this.closed) return;
      if (event.code === 1008 || !this.options.reconnect) {  // 1008: refused (no token, or a wrong one)
        this.closed = true;
        const error = new RnnlabError(event.code === 1008
          ? "the server refused this connection: " + (event.reason ||
            "this page's origin is not allowed (start it with --allow-origin)") +
            " (a server with a token takes ws://HOST:PORT/ws?token=...)"
          : "the connection to " + this.url + " closed");
        this._failAll(error, true);
        this._failed(error);
        if (wasOpen) this.emit("error", error);
        return;
      }
      const delay = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this.attempts) *
        (0.75 + Math.random() / 4);
      this.attempts += 1;
      this.emit("reconnecting", { attempt: this.attempts, delay });
      this.timer = setTimeout(() => this._open(), delay);
    }
  }

  // Resolves once the server said hello (retrying, with backoff, until it does).
  function connect(url, options, callback) {
    if (typeof url === "object" && url !== null) [url, options, callback] = [undefined, url, options];
    if (typeof url === "function") [url, options, callback] = [undefined, undefined, url];
    if (typeof options === "function") [options, callback] = [undefined, options];
    return settle(new Model(url, options).ready, callback);
  }

  return { connect, Model, RnnlabError, version: "1" };
});
