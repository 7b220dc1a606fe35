// The decision a waiting run needs: the held-back tool call (tool,
// arguments, the rule that held it), and Approve / Reject with a comment
// for those who may decide. Shown while the run is awaiting approval.

import * as api from "../core/api.js";
import { h, replace } from "../core/dom.js";
import { dateTime } from "../core/format.js";
import { showError, toast } from "../ui/notify.js";

export class ApprovalPanel {
  constructor(runId, me, onDecided) {
    this.runId = runId;
    this.me = me;
    this.onDecided = onDecided;
    this.el = h("section", { class: "approval-panel", hidden: true, "aria-labelledby": `approval-title-${runId}` });
    this.shownFor = null;
  }

  async update(run) {
    if (run.status !== "awaiting_approval") {
      this.el.hidden = true;
      this.shownFor = null;
      return;
    }
    if (this.shownFor === run.attempt) return;
    this.shownFor = run.attempt;
    try {
      const found = await api.get(`/approvals?run_id=${encodeURIComponent(this.runId)}&status=pending`);
      this.render(found.items);
    } catch (err) {
      showError(err, "Could not read the approval request");
    }
  }

  render(pending) {
    if (!pending.length) {
      this.el.hidden = true;
      return;
    }
    const a = pending[0];
    const comment = h("textarea", { id: `approval-comment-${a.id}`, rows: 2, maxlength: 2000, class: "approval-comment" });
    const decide = async (verb, button) => {
      button.disabled = true;
      try {
        const body = comment.value.trim() ? { comment: comment.value.trim() } : {};
        await api.post(`/approvals/${encodeURIComponent(a.id)}/${verb}`, body);
        toast(verb === "approve" ? `${a.tool} is approved: the run goes on.` : `${a.tool} is rejected: the run goes on without it.`);
        this.el.hidden = true;
        this.onDecided();
      } catch (err) {
        button.disabled = false;
        showError(err, "Could not record the decision");
      }
    };
    const controls = [];
    if (this.me.can("approval.decide")) {
      const approve = h("button", { type: "button", class: "btn btn-primary" }, "Approve");
      const reject = h("button", { type: "button", class: "btn btn-danger-outline" }, "Reject");
      approve.addEventListener("click", () => decide("approve", approve));
      reject.addEventListener("click", () => decide("reject", reject));
      controls.push(
        h("label", { for: comment.id }, "Comment (goes into the run's log)"),
        comment,
        h("div", { class: "detail-actions" }, approve, reject),
      );
    } else {
      controls.push(h("p", { class: "muted" }, "A member of the workspace decides."));
    }
    replace(
      this.el,
      h("h3", { id: `approval-title-${this.runId}` }, `Waiting for approval: ${a.tool}`),
      h("p", {}, a.reason),
      h("p", { class: "muted" }, `${a.rule} · decide before ${dateTime(a.deadline)}`),
      h("pre", { class: "approval-args" }, JSON.stringify(a.args, null, 2)),
      controls,
    );
    this.el.hidden = false;
  }
}
