// What each run event says, in words: a label, a one-line summary, maybe
// a block of text (the model's thinking, a result) and details to unfold.
// Types and payloads are those of docs/api.md ("Run events").

import { h } from "../core/dom.js";
import { count, money } from "../core/format.js";

function routing(p) {
  switch (p.action) {
    case "route":
      return `chose ${p.model} (${p.tier} tier, budget ${p.budget}): ${p.reason}`;
    case "refused":
      return `refused the call: ${p.reason}`;
    case "fallback":
      return `fell back from ${p.from} to ${p.to}: ${p.reason}`;
    case "retry":
      return `retry ${p.attempt} of ${p.model} in ${p.delay_seconds}s: ${p.reason}`;
    case "breaker":
      return `circuit of ${p.provider} ${p.from} → ${p.to}: ${p.reason}`;
    case "skip":
      return `skipped ${p.model}: ${p.reason}`;
    default:
      return p.reason || p.action || "";
  }
}

function modelCall(p) {
  const model = p.provider ? `${p.provider}:${p.model}` : p.model;
  const parts = [
    model,
    `${count(p.tokens_in)} → ${count(p.tokens_out)} tokens`,
    money(p.cost_usd),
    p.duration_ms !== undefined ? `${Math.round(p.duration_ms)} ms` : null,
    p.tool_calls ? `${p.tool_calls} tool call${p.tool_calls === 1 ? "" : "s"}` : null,
  ];
  return parts.filter(Boolean).join(" · ");
}

const DESCRIBE = {
  started: (p) => ({ label: "Started", tone: "done", summary: `by ${p.agent || p.agent_id} (${p.role})`, details: p.assignment }),
  progress: (p) => ({
    label: "Progress",
    summary: p.resumed ? `resumed from step ${p.from_step} (attempt ${p.attempt})` : JSON.stringify(p),
  }),
  step: (p) => ({ label: "Step", summary: `step ${p.step}` }),
  llm_call: (p) => ({ label: "Thinking", tone: "thinking", summary: modelCall(p), text: p.text, details: p.reason ? { reason: p.reason } : null }),
  routing: (p) => ({ label: "Model choice", tone: "decision", summary: routing(p), details: p.chain ? { chain: p.chain, max_cost_usd: p.max_cost_usd } : null }),
  tool_call: (p) => ({ label: "Tool call", tone: "tool", summary: p.tool, details: p.args }),
  tool_result: (p) => ({ label: "Tool result", tone: p.ok ? "tool" : "error", summary: `${p.tool} ${p.ok ? "answered" : "failed"}`, text: p.content }),
  delegated: (p) => ({
    label: "Delegated",
    tone: "delegation",
    summary: [`to ${p.role}: `, h("a", { href: `/tasks/${encodeURIComponent(p.subtask_id)}` }, p.title || p.subtask_id)],
  }),
  approval_requested: (p) => ({
    label: "Approval asked",
    tone: "decision",
    summary: `${p.tool} waits for a person: ${p.reason || "approval requested"} (${p.rule})`,
    details: p.args,
  }),
  approval_decided: (p) => ({
    label: "Approval",
    tone: p.status === "approved" ? "done" : "error",
    summary: `${p.tool} ${p.status} by ${p.by}${p.comment ? `: ${p.comment}` : ""}`,
  }),
  policy_denied: (p) => ({
    label: "Policy",
    tone: "error",
    summary: `${p.tool ? `${p.tool} refused — ` : ""}${p.reason} (${p.rule})`,
  }),
  message: (p) => ({ label: "Message", summary: p.text || p.message || "", details: p }),
  completed: (p) => ({ label: "Completed", tone: "done", summary: "the run answered", text: p.output }),
  error: (p) => ({ label: "Error", tone: "error", summary: p.message || "error" }),
  stopped: (p) => ({ label: "Stopped", tone: "error", summary: p.reason || "stopped" }),
};

export function describe(event) {
  const payload = event.payload || {};
  const describer = DESCRIBE[event.type];
  return describer ? describer(payload) : { label: event.type, summary: "", details: payload };
}

/** The events whose arrival changes the run's status or totals. */
export const SETTLING = new Set(["completed", "error", "stopped"]);
