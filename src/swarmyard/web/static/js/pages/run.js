// The run console page.

import { $ } from "../core/dom.js";
import { RunConsole } from "../run/console.js";
import { renderFatal } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const me = await boot();
const root = $("#run");
try {
  const view = await new RunConsole(root, root.dataset.runId, { me, heading: "h1" }).start();
  document.title = `Run ${view.run.id} · Swarmyard`;
} catch (err) {
  renderFatal(root, err, "This run could not be loaded");
}
