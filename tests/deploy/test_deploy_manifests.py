"""The deployment files: what can be checked without Docker or Helm.

`helm` is not installed on the test machine, so the chart is rendered here
by a small stand-in that knows exactly what the templates use: ``{{ .Values.a.b }}``,
``{{ .Release.Name }}``, ``{{ .Chart.AppVersion }}`` and whole-line
``{{- if [not] X }}`` / ``{{- end }}`` blocks. Anything else in a template
fails the test, so the templates stay within what is checked here. Each
rendered document must parse as YAML, look like a Kubernetes object, and
run the image's `swarmyard api|worker|scheduler`; where the
`kubernetes-validate` package is installed, objects are also checked
against the Kubernetes schemas.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "swarmyard"
COMMANDS = {"api", "worker", "scheduler"}

_EXPR = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_IF = re.compile(r"^\s*\{\{-?\s*if\s+(not\s+)?(\S+)\s*-?\}\}\s*$")
_END = re.compile(r"^\s*\{\{-?\s*end\s*-?\}\}\s*$")
RELEASE = {"Name": "demo", "Namespace": "default"}


def lookup(expr: str, values: dict[str, Any], chart: dict[str, Any]) -> Any:
    root, *path = expr.lstrip(".").split(".")
    scopes = {"Values": values, "Release": RELEASE, "Chart": chart}
    if not expr.startswith(".") or root not in scopes:
        raise AssertionError(f"the stand-in renderer does not know {expr!r}")
    found: Any = scopes[root]
    for key in path:
        assert isinstance(found, dict), f"{expr}: {key} is below a leaf"
        assert key in found, f"{expr} is not in the values"
        found = found[key]
    return found


def render(template: str, values: dict[str, Any], chart: dict[str, Any]) -> str:
    out: list[str] = []
    shown = [True]
    for line in template.splitlines():
        if m := _IF.match(line):
            truth = bool(lookup(m.group(2), values, chart))
            shown.append(shown[-1] and (truth != bool(m.group(1))))
            continue
        if _END.match(line):
            shown.pop()
            assert shown, "an {{- end }} without its if"
            continue
        if not shown[-1]:
            continue

        def value(m: re.Match[str]) -> str:
            found = lookup(m.group(1), values, chart)
            return str(found).lower() if isinstance(found, bool) else str(found)

        out.append(_EXPR.sub(value, line))
    assert shown == [True], "an {{- if }} without its end"
    return "\n".join(out)


def chart_meta() -> dict[str, Any]:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return {"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"]}


def default_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return values


def rendered(values: dict[str, Any]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((CHART / "templates").glob("*.yaml")):
        text = render(path.read_text(), values, chart_meta())
        docs += [d for d in yaml.safe_load_all(text) if d is not None]
    return docs


def variants() -> dict[str, dict[str, Any]]:
    defaults = default_values()
    bundled = copy.deepcopy(defaults)
    bundled["postgresql"]["enabled"] = bundled["nats"]["enabled"] = True
    bundled["worker"]["autoscaling"]["enabled"] = True
    bundled["secret"]["create"] = False
    bundled["api"]["autoscaling"]["enabled"] = False
    return {"defaults": defaults, "bundled": bundled}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    found: list[dict[str, Any]] = spec.get("containers", [])
    return found


@pytest.mark.parametrize("variant", ["defaults", "bundled"])
def test_every_template_renders_to_kubernetes_objects(variant: str) -> None:
    docs = rendered(variants()[variant])
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
        assert doc["metadata"]["name"]
    kinds = sorted(d["kind"] for d in docs)
    if variant == "defaults":
        assert kinds == [
            "ConfigMap",
            "Deployment",
            "Deployment",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Secret",
            "Service",
        ]
    else:  # an existing secret; the worker scales on queue depth, the API does not
        assert kinds.count("Secret") == 0
        [hpa] = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
        assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-worker"


def test_each_process_runs_its_command_from_the_shared_secret_and_settings() -> None:
    docs = rendered(default_values())
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"demo-api", "demo-worker", "demo-scheduler"}
    for name, deployment in deployments.items():
        [container] = containers(deployment)
        assert container["args"] == [name.removeprefix("demo-")]
        assert container["image"] == "swarmyard:0.1.0"
        sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
        assert sources == ["swarmyard", "demo-swarmyard"]
        probes = (container["livenessProbe"], container["readinessProbe"])
        assert [p["httpGet"]["path"] for p in probes] == ["/healthz", "/readyz"]
    assert deployments["demo-scheduler"]["spec"]["replicas"] == 2
    worker_env = {e["name"]: e["value"] for e in containers(deployments["demo-worker"])[0]["env"]}
    assert worker_env["SWARMYARD_HEALTH_PORT"] == "8421"


def test_the_secret_points_at_external_or_bundled_services() -> None:
    values = variants()["defaults"]
    [secret] = [d for d in rendered(values) if d["kind"] == "Secret"]
    assert set(secret["stringData"]) == {
        "SWARMYARD_SECRET_KEY",
        "SWARMYARD_DATABASE_URL",
        "SWARMYARD_BUS_URL",
    }
    assert secret["stringData"]["SWARMYARD_BUS_URL"] == values["bus"]["url"]
    values["postgresql"]["enabled"] = values["nats"]["enabled"] = True
    [secret] = [d for d in rendered(values) if d["kind"] == "Secret"]
    assert secret["stringData"]["SWARMYARD_DATABASE_URL"] == (
        "postgresql+asyncpg://swarmyard:change-me@demo-postgresql:5432/swarmyard"
    )
    assert secret["stringData"]["SWARMYARD_BUS_URL"] == "nats://demo-nats:4222"


def test_the_worker_autoscaler_names_its_external_metric() -> None:
    values = variants()["bundled"]
    [hpa] = [d for d in rendered(values) if d["kind"] == "HorizontalPodAutoscaler"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"]["name"] == "swarmyard_work_queue_pending"
    docs = (ROOT / "docs" / "deploy.md").read_text()
    assert "swarmyard_work_queue_pending" in docs


def test_the_chart_validates_against_the_kubernetes_schemas() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate absent")
    for variant in variants().values():
        for doc in rendered(variant):
            validate.validate(doc, "1.30.0", strict=True)


def test_chart_dependencies_are_optional() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    conditions = {d["name"]: d["condition"] for d in meta["dependencies"]}
    assert conditions == {"postgresql": "postgresql.enabled", "nats": "nats.enabled"}
    values = default_values()
    assert values["postgresql"]["enabled"] is False
    assert values["nats"]["enabled"] is False
    assert values["nats"]["config"]["jetstream"]["enabled"] is True
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["appVersion"] == project["version"]


def test_compose_wires_the_cluster_to_its_services() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "nats", "api", "worker", "scheduler"}
    assert "--jetstream" in services["nats"]["command"]
    for name in ("api", "worker", "scheduler"):
        service = services[name]
        assert service["command"] == [name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        env = service["environment"]
        assert env["SWARMYARD_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in env["SWARMYARD_DATABASE_URL"]
        assert env["SWARMYARD_BUS_URL"] == "nats://nats:4222"
        assert env["SWARMYARD_SECRET_KEY"].startswith("${SWARMYARD_SECRET_KEY:?")
        assert {k: v["condition"] for k, v in service["depends_on"].items()} == {
            "postgres": "service_healthy",
            "nats": "service_healthy",
        }
    assert services["worker"]["deploy"]["replicas"] == 2
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    port = {"api": "8420", "worker": "8421", "scheduler": "8421"}
    for name, expected in port.items():
        assert f":{expected}/readyz" in " ".join(services[name]["healthcheck"]["test"])


def test_the_dockerfile_builds_from_files_that_exist_and_runs_swarmyard() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    copied = [
        line.split()[1:-1] for line in lines if line.startswith("COPY ") and "--from" not in line
    ]
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["swarmyard"]' in lines
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["swarmyard"] == "swarmyard.cli.main:run"
