// Where the browser keeps who is signed in: one record in localStorage, so a
// reload and other tabs share the session (the refresh token rotates, so
// every tab must see the newest one).
//
// Record: {kind: "password"|"key", access, refresh?, expiresAt?, workspace?}
//   access     the bearer credential (a JWT access token or an API key)
//   refresh    the refresh token of a password sign-in
//   expiresAt  when `access` stops working (ms since the epoch)
//   workspace  the workspace the person works in now (X-Swarmyard-Workspace)

const KEY = "swarmyard.session";

export function load() {
  try {
    const raw = localStorage.getItem(KEY);
    const record = raw ? JSON.parse(raw) : null;
    return record && typeof record.access === "string" ? record : null;
  } catch {
    return null;
  }
}

export function save(record) {
  localStorage.setItem(KEY, JSON.stringify(record));
}

export function update(changes) {
  const current = load();
  if (current) save({ ...current, ...changes });
}

export function clear() {
  localStorage.removeItem(KEY);
}

/** Call `fn(record|null)` when another tab signs in, out or rotates the tokens. */
export function onChange(fn) {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY || event.key === null) fn(load());
  });
}
