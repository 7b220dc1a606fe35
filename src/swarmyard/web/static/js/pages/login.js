// The sign-in page: a password (access + refresh token) or an API key.

import { $ } from "../core/dom.js";
import { messageOf } from "../core/errors.js";
import { safeNext, signInWithKey, signInWithPassword } from "../core/session.js";
import { installThemeToggle } from "../ui/theme.js";

const REASONS = {
  expired: "Your session has expired. Sign in again to go on.",
  "signed-out": "You have signed out.",
};

const params = new URLSearchParams(location.search);
const errorBox = $("#login-error");

function showReason() {
  const text = REASONS[params.get("reason")];
  if (text) {
    const notice = $("#login-notice");
    notice.textContent = text;
    notice.hidden = false;
  }
}

function installTabs() {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab) => {
    for (const other of tabs) {
      const chosen = other === tab;
      other.setAttribute("aria-selected", String(chosen));
      other.tabIndex = chosen ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
    }
    errorBox.textContent = "";
    tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      select(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]);
    });
  }
}

function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    errorBox.textContent = "";
    try {
      await action(new FormData(form));
      location.assign(safeNext(params.get("next")));
    } catch (err) {
      errorBox.textContent = `Could not sign in: ${messageOf(err)}`;
      button.disabled = false;
    }
  });
}

installThemeToggle();
showReason();
installTabs();
onSubmit($("#panel-password"), (data) =>
  signInWithPassword(String(data.get("email")).trim(), String(data.get("password")), String(data.get("workspace")).trim()),
);
onSubmit($("#panel-key"), (data) => signInWithKey(String(data.get("api_key"))));
$("#email").focus();
