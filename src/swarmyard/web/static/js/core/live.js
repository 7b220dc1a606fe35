// The workspace's live events over one WebSocket (/ws), reconnecting.
//
// Topics: the board (card and agent changes) and single runs (their events,
// resumed after the last sequence number seen, so a reconnect neither loses
// nor repeats one). After a reconnect `onResync` listeners run: whatever
// changed on the board while the socket was down is read again from the API.
//
// Browsers cannot send headers on a WebSocket, so the credential and the
// workspace travel in the query string, as /ws accepts them. A refused
// handshake looks like a network failure to a browser; before each retry the
// credential is checked (and refreshed) through the API, which ends the
// session cleanly if it is no longer valid.

import * as api from "./api.js";

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export class Live {
  constructor(path = "/ws") {
    this.path = path;
    this.socket = null;
    this.attempt = 0;
    this.started = false;
    this.stopped = false;
    this.everOpened = false;
    this.boardHandlers = new Set();
    this.runs = new Map(); // run id -> {after, handlers: Set}
    this.statusHandlers = new Set();
    this.resyncHandlers = new Set();
    this.state = "idle";
  }

  start() {
    if (!this.started) {
      this.started = true;
      this.connect();
    }
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, "page closed");
  }

  onStatus(fn) {
    this.statusHandlers.add(fn);
    fn(this.state);
    return () => this.statusHandlers.delete(fn);
  }

  onResync(fn) {
    this.resyncHandlers.add(fn);
    return () => this.resyncHandlers.delete(fn);
  }

  subscribeBoard(fn) {
    this.boardHandlers.add(fn);
    if (this.boardHandlers.size === 1) this.sendSafe({ subscribe: "board" });
    this.start();
    return () => {
      this.boardHandlers.delete(fn);
      if (this.boardHandlers.size === 0) this.sendSafe({ unsubscribe: "board" });
    };
  }

  /** `fn(event)` for every event of the run after sequence number `after`; `onError(message)` if the API refuses. */
  subscribeRun(runId, after, fn, onError = () => {}) {
    let topic = this.runs.get(runId);
    if (!topic) {
      topic = { after, handlers: new Set(), errors: new Set() };
      this.runs.set(runId, topic);
      this.sendSafe({ subscribe: "run", run_id: runId, after });
    }
    topic.handlers.add(fn);
    topic.errors.add(onError);
    this.start();
    return () => {
      topic.handlers.delete(fn);
      topic.errors.delete(onError);
      if (topic.handlers.size === 0) {
        this.runs.delete(runId);
        this.sendSafe({ unsubscribe: "run", run_id: runId });
      }
    };
  }

  setState(state) {
    this.state = state;
    for (const fn of this.statusHandlers) fn(state);
  }

  sendSafe(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  async connect() {
    if (this.stopped) return;
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    let record;
    try {
      // Also the credential check: an expired or revoked one ends the session here.
      if (this.attempt > 0) await api.get("/auth/me");
      record = await api.currentCredentials();
    } catch (err) {
      if (err && err.status === 401) return; // the session expired; the shell takes over
      this.retry();
      return;
    }
    const params = new URLSearchParams({ access_token: record.access });
    if (record.workspace) params.set("workspace", record.workspace);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.path}?${params}`);
    this.socket = socket;
    socket.addEventListener("open", () => this.opened(socket));
    socket.addEventListener("message", (event) => this.received(event.data));
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.retry();
    });
  }

  opened(socket) {
    const resumed = this.everOpened;
    this.everOpened = true;
    this.attempt = 0;
    this.setState("open");
    if (this.boardHandlers.size) socket.send(JSON.stringify({ subscribe: "board" }));
    for (const [runId, topic] of this.runs) {
      socket.send(JSON.stringify({ subscribe: "run", run_id: runId, after: topic.after }));
    }
    if (resumed) for (const fn of this.resyncHandlers) fn();
  }

  received(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.topic === "board") {
      for (const fn of this.boardHandlers) fn(message.data);
    } else if (message.topic === "run") {
      const topic = this.runs.get(message.run_id);
      if (!topic || message.event.seq <= topic.after) return;
      topic.after = message.event.seq;
      for (const fn of topic.handlers) fn(message.event);
    } else if (message.error) {
      // The only refusals name a run the caller cannot see; tell its listeners.
      for (const topic of this.runs.values()) for (const fn of topic.errors) fn(message.error);
    }
  }

  retry() {
    this.socket = null;
    if (this.stopped) return;
    this.setState("reconnecting");
    const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay / 2 + Math.random() * (delay / 2));
  }
}

/** The page's one connection. */
export const live = new Live();
