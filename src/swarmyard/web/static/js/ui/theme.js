// The colour theme toggle: as the system, light, dark, in turn. The choice
// is kept in this browser; theme-boot.js applies it before the first paint.

const KEY = "swarmyard.theme";
const ORDER = ["system", "light", "dark"];
const NAMES = { system: "as the system", light: "light", dark: "dark" };

function stored() {
  try {
    const value = localStorage.getItem(KEY);
    return ORDER.includes(value) ? value : "system";
  } catch {
    return "system";
  }
}

function apply(theme, button) {
  if (theme === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", theme);
  if (button) {
    button.setAttribute("aria-label", `Colour theme: ${NAMES[theme]}. Change it`);
    button.title = `Theme: ${NAMES[theme]}`;
  }
}

export function installThemeToggle(button = document.getElementById("theme-toggle")) {
  apply(stored(), button);
  if (!button) return;
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
    try {
      if (next === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
    } catch {
      // Not kept, but still applied to this page.
    }
    apply(next, button);
  });
}
