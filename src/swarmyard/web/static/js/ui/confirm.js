// A confirmation asked in a modal dialog of the page (window.confirm blocks
// the page and cannot be styled or labelled).

import { h } from "../core/dom.js";

export function confirmAction({ title, message, confirm, cancel = "Keep it" }) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "button", class: "btn btn-danger" }, confirm);
    const no = h("button", { type: "button", class: "btn" }, cancel);
    const heading = h("h2", { id: "confirm-title" }, title);
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "confirm-title" },
      heading,
      h("p", {}, message),
      h("div", { class: "dialog-actions" }, no, yes),
    );
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
