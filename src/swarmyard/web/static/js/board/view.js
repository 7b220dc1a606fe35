// The board's columns in the page: where each card goes, in what order, and
// which cards the filters hide. Columns are rendered by the server (one
// <section data-status> each); this module only fills their lists.

import { $, $$ } from "../core/dom.js";
import { renderCard } from "./card.js";

export class BoardView {
  constructor(root, state, { canMove }) {
    this.root = root;
    this.state = state;
    this.canMove = canMove;
    this.filters = {};
    this.cards = new Map(); // task id -> <li>
    this.columns = new Map(
      $$("section[data-status]", root).map((section) => [
        section.dataset.status,
        { section, list: $("[data-cards]", section), count: $("[data-count]", section) },
      ]),
    );
    this.order = (root.dataset.statuses || "").split(",").filter(Boolean);
  }

  /** Draw `task` where its status says, keeping focus if the old card had it. */
  upsert(task) {
    const column = this.columns.get(task.status);
    const old = this.cards.get(task.id);
    if (!column) {
      old?.remove();
      this.cards.delete(task.id);
      return;
    }
    const focused = old && old.contains(document.activeElement) ? document.activeElement : null;
    const card = renderCard(task, { who: (t) => this.state.who(t), canMove: this.canMove });
    card.classList.toggle("filtered-out", !this.state.matches(task, this.filters));
    old?.remove();
    column.list.insertBefore(card, this.nextCard(column.list, task));
    this.cards.set(task.id, card);
    if (focused) this.focusCard(task.id, focused.classList.contains("card-move") ? ".card-move" : ".card-title");
    this.updateCounts();
    return card;
  }

  /** Newest first, as the API lists them. */
  nextCard(list, task) {
    const created = task.created_at || "";
    for (const other of list.children) {
      if (other.dataset.id !== task.id && (other.dataset.created || "") < created) return other;
    }
    return null;
  }

  /** Show the card in another column while the API decides (see moves.js). */
  placeTentatively(taskId, status) {
    const card = this.cards.get(taskId);
    const column = this.columns.get(status);
    if (!card || !column) return;
    const focused = card.contains(document.activeElement);
    card.classList.add("pending");
    column.list.prepend(card);
    if (focused) this.focusCard(taskId);
    this.updateCounts();
  }

  snapBack(task) {
    const card = this.upsert(task);
    if (!card) return;
    card.classList.add("snap-back");
    card.addEventListener("animationend", () => card.classList.remove("snap-back"), { once: true });
    // Without animations (reduced motion) no animationend comes.
    setTimeout(() => card.classList.remove("snap-back"), 1500);
  }

  focusCard(taskId, selector = ".card-title") {
    const card = this.cards.get(taskId);
    const target = card && ($(selector, card) || $(".card-title", card));
    if (target) target.focus();
  }

  setFilters(filters) {
    this.filters = filters;
    for (const [id, card] of this.cards) {
      const task = this.state.get(id);
      card.classList.toggle("filtered-out", !task || !this.state.matches(task, filters));
    }
    this.updateCounts();
  }

  clear() {
    for (const card of this.cards.values()) card.remove();
    this.cards.clear();
    this.updateCounts();
  }

  updateCounts() {
    for (const { list, count } of this.columns.values()) {
      const shown = list.querySelectorAll(".card:not(.filtered-out)").length;
      count.textContent = String(shown);
      count.setAttribute("aria-label", `${shown} card${shown === 1 ? "" : "s"}`);
    }
  }

  visibleCards(status) {
    const column = this.columns.get(status);
    return column ? Array.from(column.list.querySelectorAll(".card:not(.filtered-out)")) : [];
  }
}
