// Moving cards: drag and drop, the move menu (M, or the ⇄ button), and
// Alt+←/→ for one column; plain arrow keys go from card to card.
// Whether a move is legal is the API's call: every move is sent, and
// `move(taskId, status)` snaps the card back with the API's reason if refused.

import { h } from "../core/dom.js";
import { statusLabel } from "../core/format.js";

function cardOf(node) {
  return node instanceof Element ? node.closest(".card") : null;
}

// The column a card is shown in: while a move waits for the API, that is
// already its new column, and the next key press moves on from there.
function shownStatus(card) {
  return card.closest("section[data-status]")?.dataset.status || card.dataset.status;
}

function installDragAndDrop(view, move) {
  let dragged = null;
  const root = view.root;
  root.addEventListener("dragstart", (event) => {
    const card = cardOf(event.target);
    if (!card || card.getAttribute("draggable") !== "true") return;
    dragged = card.dataset.id;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
    card.classList.add("dragging");
  });
  root.addEventListener("dragend", (event) => {
    cardOf(event.target)?.classList.remove("dragging");
    for (const { section } of view.columns.values()) section.classList.remove("drop-target");
    dragged = null;
  });
  for (const [status, { section }] of view.columns) {
    section.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      section.classList.add("drop-target");
    });
    section.addEventListener("dragleave", (event) => {
      if (!section.contains(event.relatedTarget)) section.classList.remove("drop-target");
    });
    section.addEventListener("drop", (event) => {
      event.preventDefault();
      section.classList.remove("drop-target");
      const id = dragged || event.dataTransfer.getData("text/plain");
      dragged = null;
      if (id) move(id, status);
    });
  }
}

function closeMenu(card, { restoreFocus = false } = {}) {
  const menu = card.querySelector(".card-menu");
  if (!menu) return;
  menu.remove();
  const button = card.querySelector(".card-move");
  button?.setAttribute("aria-expanded", "false");
  if (restoreFocus) button?.focus();
}

function openMenu(view, card, move) {
  const button = card.querySelector(".card-move");
  if (!button) return;
  if (card.querySelector(".card-menu")) {
    closeMenu(card, { restoreFocus: true });
    return;
  }
  const id = card.dataset.id;
  const items = view.order
    .filter((status) => status !== shownStatus(card))
    .map((status) =>
      h("li", { role: "none" }, h("button", { type: "button", role: "menuitem", tabindex: "-1", dataset: { status } }, `Move to ${statusLabel(status)}`)),
    );
  const menu = h("ul", { class: "menu card-menu", role: "menu", "aria-label": "Move to column" }, items);
  menu.addEventListener("click", (event) => {
    const item = event.target.closest("[role=menuitem]");
    if (!item) return;
    // Focus goes back to the card before the menu leaves, so it follows the card.
    card.querySelector(".card-title")?.focus();
    closeMenu(card);
    move(id, item.dataset.status);
  });
  menu.addEventListener("keydown", (event) => {
    const all = Array.from(menu.querySelectorAll("[role=menuitem]"));
    const at = all.indexOf(document.activeElement);
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step) {
      event.preventDefault();
      all[(at + step + all.length) % all.length].focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      all[event.key === "Home" ? 0 : all.length - 1].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeMenu(card, { restoreFocus: true });
    } else if (event.key === "Tab") {
      closeMenu(card);
    }
    event.stopPropagation();
  });
  card.append(menu);
  button.setAttribute("aria-expanded", "true");
  menu.querySelector("[role=menuitem]").focus();
}

function neighbour(view, card, key) {
  const status = shownStatus(card);
  if (key === "ArrowUp" || key === "ArrowDown") {
    const cards = view.visibleCards(status);
    return cards[cards.indexOf(card) + (key === "ArrowDown" ? 1 : -1)] || null;
  }
  const order = view.order;
  const step = key === "ArrowRight" ? 1 : -1;
  for (let i = order.indexOf(status) + step; i >= 0 && i < order.length; i += step) {
    const cards = view.visibleCards(order[i]);
    if (cards.length) return cards[0];
  }
  return null;
}

function installKeys(view, move, canMove) {
  view.root.addEventListener("keydown", (event) => {
    const card = cardOf(event.target);
    if (!card || event.target.closest(".card-menu")) return;
    const arrow = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key);
    if (canMove && event.altKey && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      event.preventDefault();
      const order = view.order;
      const target = order[order.indexOf(shownStatus(card)) + (event.key === "ArrowRight" ? 1 : -1)];
      if (target) move(card.dataset.id, target);
    } else if (canMove && (event.key === "m" || event.key === "M") && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      openMenu(view, card, move);
    } else if (arrow && !event.altKey) {
      const next = neighbour(view, card, event.key);
      if (next) {
        event.preventDefault();
        view.focusCard(next.dataset.id);
      }
    }
  });
  view.root.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".card-move") : null;
    if (button) openMenu(view, cardOf(button), move);
  });
}

export function installMoves(view, move, { canMove }) {
  installKeys(view, move, canMove);
  if (canMove) installDragAndDrop(view, move);
}
