// The API client: bearer credentials on every call, refresh-token rotation,
// one error type for everything that can go wrong.
//
// Access tokens live 15 minutes. A call made with one about to expire
// refreshes it first; a 401 refreshes once and retries. Refreshing spends the
// refresh token, and presenting a spent one revokes the whole session, so
// tabs take turns (a Web Lock where the browser has one) and a tab that finds
// the token already rotated by another simply uses the new pair.
// When nothing works any more the session is cleared and
// "swarmyard:session-expired" is dispatched; the shell sends the person to
// the sign-in page.

import * as credentials from "./credentials.js";
import { ApiError, errorFrom, networkError } from "./errors.js";
import { randomKey } from "./dom.js";

export const API_BASE = "/api/v1";
const REFRESH_MARGIN_MS = 30_000;
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function withLock(name, fn) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request(name, fn);
  return fn();
}

function expired(message) {
  credentials.clear();
  window.dispatchEvent(new CustomEvent("swarmyard:session-expired", { detail: { message } }));
  return new ApiError(401, "session_expired", message);
}

async function send(method, path, { body, token, workspace, headers = {}, signal } = {}) {
  const all = { Accept: "application/json", ...headers };
  if (token) all.Authorization = `Bearer ${token}`;
  if (workspace) all["X-Swarmyard-Workspace"] = workspace;
  if (body !== undefined) all["Content-Type"] = "application/json";
  try {
    return await fetch(API_BASE + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw networkError(err);
  }
}

async function decode(response) {
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** Store a token pair from /auth/token or /auth/refresh. */
export function keepPair(pair, workspace = null) {
  credentials.save({
    kind: "password",
    access: pair.access_token,
    refresh: pair.refresh_token,
    expiresAt: Date.now() + pair.expires_in * 1000,
    workspace,
  });
}

/** Rotate the refresh token (once across tabs) and answer the current record. */
export async function refresh(stale) {
  return withLock("swarmyard-refresh", async () => {
    const current = credentials.load();
    if (!current || current.kind !== "password" || !current.refresh) {
      throw expired("your session has ended; sign in again");
    }
    if (stale && current.refresh !== stale.refresh) return current; // another tab rotated it
    const response = await send("POST", "/auth/refresh", { body: { refresh_token: current.refresh } });
    if (response.status === 401) {
      const err = await errorFrom(response);
      throw expired(`your session has expired (${err.message}); sign in again`);
    }
    keepPair(await decode(response), current.workspace || null);
    return credentials.load();
  });
}

/** The record to call with, refreshed first when its access token is about to lapse. */
export async function currentCredentials() {
  const record = credentials.load();
  if (!record) throw expired("you are not signed in");
  if (record.kind === "password" && record.expiresAt && record.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    return refresh(record);
  }
  return record;
}

/**
 * Call the API: `request("PATCH", "/tasks/x", {body})`. Mutations carry an
 * Idempotency-Key so a retried request acts once. `auth: false` for the
 * sign-in endpoints.
 */
export async function request(method, path, { body, auth = true, signal } = {}) {
  const headers = MUTATING.has(method) && auth ? { "Idempotency-Key": randomKey() } : {};
  if (!auth) return decode(await send(method, path, { body, headers, signal }));
  let record = await currentCredentials();
  let response = await send(method, path, { body, headers, signal, token: record.access, workspace: record.workspace });
  if (response.status === 401) {
    if (record.kind !== "password") {
      const err = await errorFrom(response);
      throw expired(`the API key was refused (${err.message}); sign in again`);
    }
    record = await refresh(record);
    response = await send(method, path, { body, headers, signal, token: record.access, workspace: record.workspace });
    if (response.status === 401) {
      const err = await errorFrom(response);
      throw expired(`your session has expired (${err.message}); sign in again`);
    }
  }
  return decode(response);
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, body, options = {}) => request("POST", path, { ...options, body });
export const patch = (path, body, options = {}) => request("PATCH", path, { ...options, body });
export const put = (path, body, options = {}) => request("PUT", path, { ...options, body });
export const del = (path, options) => request("DELETE", path, options);

/** Every item of a paged list endpoint (`{items, next_cursor}`), up to `max`. */
export async function listAll(path, { max = 2000 } = {}) {
  const items = [];
  let cursor = null;
  const sep = path.includes("?") ? "&" : "?";
  do {
    const page = await get(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
