// The catalogue: every manifest as a card (role, capabilities, version,
// dependencies, model tier) with an install form. When the API refuses an
// install for a missing dependency, the card says which and offers to
// install it first.

import * as api from "../core/api.js";
import { h, replace } from "../core/dom.js";
import { showError, toast } from "../ui/notify.js";
import { badge, fact, renderInlineError, replicasInput } from "./parts.js";

function dependencyText(dep) {
  const what = dep.role ? `a ${dep.role}` : `the ${dep.agent} agent`;
  const version = dep.min_version ? ` ${dep.min_version} or later` : "";
  return `${what}${version}${dep.optional ? " (optional)" : ""}`;
}

/** The manifest that would satisfy a missing dependency: by id, else a built-in of the role. */
function provider(dep, manifests) {
  if (dep.agent) return manifests.find((m) => m.id === dep.agent) || null;
  const ofRole = manifests.filter((m) => m.role === dep.role);
  return ofRole.find((m) => m.builtin) || ofRole[0] || null;
}

async function install(manifest, replicas) {
  return api.post("/agents", { manifest: manifest.id, replicas });
}

function missingOffer(err, manifest, replicas, manifests, onChanged, slot) {
  const missing = (err.details && err.details.missing) || [];
  const offers = missing.map((dep) => ({ dep, from: provider(dep, manifests) }));
  const installable = offers.filter((o) => o.from);
  const panel = h(
    "div",
    { class: "notice notice-error", role: "alert" },
    h("p", {}, `${manifest.name} cannot be installed yet: ${err.message}.`),
    h("ul", {}, offers.map((o) => h("li", {}, dependencyText(o.dep), o.from ? ` — ${o.from.name} provides it` : " — no manifest in the catalogue provides it"))),
  );
  if (installable.length === offers.length && offers.length) {
    const names = installable.map((o) => o.from.name).join(" and ");
    const both = h("button", { type: "button", class: "btn btn-small btn-primary" }, `Install ${names}, then ${manifest.name}`);
    both.addEventListener("click", async () => {
      both.disabled = true;
      try {
        for (const { from } of installable) await install(from, 1);
        await install(manifest, replicas);
        replace(slot);
        toast(`${names} and ${manifest.name} are installed.`);
      } catch (again) {
        both.disabled = false;
        showError(again, `Could not install ${manifest.name}`);
      }
      onChanged();
    });
    panel.append(both);
  }
  return panel;
}

function installForm(manifest, me, manifests, onChanged) {
  if (!me.can("agent.install")) return null;
  const id = `install-replicas-${manifest.id}`;
  const input = replicasInput(id, 1, manifest.max_concurrent_tasks, `Replicas of ${manifest.name}`);
  const slot = h("div", { class: "install-slot" });
  const button = h("button", { type: "submit", class: "btn btn-small btn-primary" }, "Install");
  const form = h(
    "form",
    { class: "inline-form", "aria-label": `Install ${manifest.name}` },
    h("label", { for: id }, "Replicas"),
    input,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.reportValidity()) return;
    const replicas = Number(input.value);
    button.disabled = true;
    replace(slot);
    try {
      const agent = await install(manifest, replicas);
      toast(`${agent.name} is installed.`);
      onChanged();
    } catch (err) {
      if (err.code === "missing_dependencies") {
        replace(slot, missingOffer(err, manifest, replicas, manifests, onChanged, slot));
      } else {
        replace(slot, renderInlineError(err, `Could not install ${manifest.name}`));
      }
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "manifest-install" }, form, slot);
}

function manifestCard(manifest, installedCount, me, manifests, onChanged) {
  const capabilities = manifest.capabilities.map((c) =>
    h("li", { class: "chip", title: c.description }, c.name),
  );
  const deps = manifest.dependencies.length
    ? h("ul", { class: "deps" }, manifest.dependencies.map((d) => h("li", {}, `Needs ${dependencyText(d)}`)))
    : h("p", { class: "muted" }, "No dependencies.");
  return h(
    "article",
    { class: "manifest-card", dataset: { manifest: manifest.id }, "aria-labelledby": `manifest-${manifest.id}` },
    h(
      "header",
      { class: "agent-card-head" },
      h("h3", { id: `manifest-${manifest.id}` }, manifest.name),
      badge(manifest.builtin ? "built-in" : "custom"),
      installedCount ? badge(`${installedCount} installed`, "ok") : null,
    ),
    h("p", { class: "manifest-description" }, manifest.description),
    h(
      "dl",
      { class: "facts facts-tight" },
      fact("Role", manifest.role),
      fact("Version", manifest.version),
      fact("Model tier", manifest.model ? manifest.model.tier : "—"),
      fact("At once", String(manifest.max_concurrent_tasks)),
    ),
    h("h4", {}, "Capabilities"),
    h("ul", { class: "chips" }, capabilities),
    h("h4", {}, "Dependencies"),
    deps,
    installForm(manifest, me, manifests, onChanged),
  );
}

export function catalogueGrid(manifests, agents, me, onChanged) {
  const installed = new Map();
  for (const a of agents) installed.set(a.manifest_id, (installed.get(a.manifest_id) || 0) + 1);
  return h(
    "div",
    { class: "agent-grid" },
    manifests.map((m) => manifestCard(m, installed.get(m.id) || 0, me, manifests, onChanged)),
  );
}
