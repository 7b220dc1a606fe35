// Who is signed in, in which workspace, and what they may do there.
//
// The role matrix is the server's: /auth/me answers the actions this
// credential may perform in this workspace (workspace rules included), and
// pages render a control only when `me.can(action)` holds. The API still
// checks every call; hiding is so nobody is offered what would be refused.

import * as api from "./api.js";
import * as credentials from "./credentials.js";

export class Me {
  constructor(body, record) {
    this.principal = body.principal;
    this.workspaces = body.workspaces || [];
    this.actions = new Set(body.actions || []);
    this.kind = record ? record.kind : "key";
  }

  get role() {
    return this.principal.role;
  }

  get workspaceId() {
    return this.principal.workspace_id;
  }

  can(action) {
    return this.actions.has(action);
  }
}

export function loginUrl(reason) {
  const here = location.pathname + location.search;
  const params = new URLSearchParams();
  if (reason) params.set("reason", reason);
  if (location.pathname !== "/login") params.set("next", here);
  const query = params.toString();
  return `/login${query ? `?${query}` : ""}`;
}

/** Where to go after signing in: only a path of this site, never another origin. */
export function safeNext(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) {
    return "/board";
  }
  return value;
}

let expiring = false;

/** Send the person to the sign-in page once, whatever noticed the expiry first. */
export function watchExpiry() {
  window.addEventListener("swarmyard:session-expired", () => {
    if (expiring) return;
    expiring = true;
    location.assign(loginUrl("expired"));
  });
  credentials.onChange((record) => {
    if (!record && !expiring) {
      expiring = true;
      location.assign(loginUrl("signed-out"));
    }
  });
}

export async function signInWithPassword(email, password, workspace) {
  const body = { email, password };
  if (workspace) body.workspace = workspace;
  const pair = await api.post("/auth/token", body, { auth: false });
  api.keepPair(pair);
  return pair;
}

export async function signInWithKey(key) {
  credentials.save({ kind: "key", access: key.trim() });
  try {
    return await loadMe();
  } catch (err) {
    credentials.clear();
    throw err;
  }
}

export async function signOut() {
  const record = credentials.load();
  expiring = true; // our own storage change must not read as another tab's sign-out
  credentials.clear();
  if (record && record.kind === "password" && record.refresh) {
    try {
      await api.post("/auth/logout", { refresh_token: record.refresh }, { auth: false });
    } catch {
      // The session is gone from this browser either way; the token lapses on its own.
    }
  }
  location.assign("/login?reason=signed-out");
}

export async function loadMe() {
  const body = await api.get("/auth/me");
  return new Me(body, credentials.load());
}

/** The signed-in person, or a trip to the sign-in page. */
export async function requireSession() {
  if (!credentials.load()) {
    expiring = true;
    location.assign(loginUrl());
    return new Promise(() => {}); // the page is being left
  }
  return loadMe();
}

export function switchWorkspace(workspaceId) {
  credentials.update({ workspace: workspaceId });
  location.reload();
}

export function hasSession() {
  return credentials.load() !== null;
}
