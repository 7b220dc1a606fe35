// How numbers, money, times and states read on every page.

const STATUS_LABELS = {
  backlog: "Backlog",
  todo: "To do",
  in_progress: "In progress",
  review: "Review",
  done: "Done",
  blocked: "Blocked",
  failed: "Failed",
  cancelled: "Cancelled",
  pending: "Pending",
  running: "Running",
  awaiting_approval: "Awaiting approval",
  succeeded: "Succeeded",
  stopped: "Stopped",
  timed_out: "Timed out",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || "");
}

/** Dollars: cents precision once it matters, finer below a cent so small costs are not "$0.00". */
export function money(usd) {
  const value = Number(usd) || 0;
  if (value === 0) return "$0.00";
  if (Math.abs(value) < 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

export function count(n) {
  return new Intl.NumberFormat().format(Number(n) || 0);
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour12: false });
}

export function dateTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : date.toLocaleString([], { hour12: false });
}

export function elapsedMs(startIso, endIso) {
  if (!startIso) return null;
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  return end - new Date(startIso).getTime();
}
