// Runs before the first paint (a classic script in <head>) so a chosen
// theme never flashes the other one. The toggle lives in ui/theme.js.
(function applyStoredTheme() {
  try {
    var theme = window.localStorage.getItem("swarmyard.theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage may be disabled; the system's scheme applies.
  }
})();
