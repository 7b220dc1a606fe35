"""The Kubernetes Job sandbox against a loopback API server that speaks the
real wire protocol (swarmyard.testing.kubernetes): the Job it creates, how
each way a pod ends becomes a result, API refusals, and the Job deleted in
every case."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from swarmyard.adapters.sandbox import KubernetesJobSandbox, choose_sandbox
from swarmyard.adapters.sandbox._kube_job import SANDBOX_LABEL
from swarmyard.config import Settings
from swarmyard.ports.sandbox import EndReason, SandboxCommand, SandboxError, SandboxLimits
from swarmyard.testing.kubernetes import (
    FakeKubernetes,
    Kubelet,
    evicted_for_scratch,
    exits,
    holds,
    never_scheduled,
    oom_killed,
    start_error,
    waits_for_image,
)

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "deploy" / "kubernetes" / "sandbox.yaml"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def command(scratch: Path, *argv: str, **limits: float) -> SandboxCommand:
    return SandboxCommand(argv=argv or ("true",), scratch=scratch, limits=SandboxLimits(**limits))  # type: ignore[arg-type]


async def run_with(
    kubelet: Kubelet, cmd: SandboxCommand, tmp_path: Path, **options: Any
) -> tuple[FakeKubernetes, Any]:
    """Run `cmd` against a fresh fake cluster; the result, or the SandboxError."""
    async with FakeKubernetes(kubelet) as fake:
        sandbox = fake.sandbox(tmp_path / "serviceaccount", **options)
        try:
            outcome: Any = await sandbox.run(cmd)
        except SandboxError as exc:
            outcome = exc
        assert_cleaned_up(fake)
    return fake, outcome


def assert_cleaned_up(fake: FakeKubernetes) -> None:
    """No Job and no pod is left, and every deletion took the pods with it."""
    assert fake.jobs == {}
    assert fake.pods() == []
    for options in fake.deletions:
        assert options == {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": "Background",
        }


def calls(fake: FakeKubernetes, method: str) -> list[str]:
    return [c.path for c in fake.calls if c.method == method]


async def test_the_job_is_isolated_limited_and_sees_the_project_read_only(
    scratch: Path, project: Path, tmp_path: Path
) -> None:
    hidden = project / "private"
    hidden.mkdir()
    cmd = SandboxCommand(
        argv=("/bin/sh", "-c", "ls"),
        scratch=scratch,
        cwd=project,
        env={"GIVEN": "yes"},
        hidden=(hidden, Path("/var/lib/swarmyard")),
        limits=SandboxLimits(
            wall_seconds=30, cpu_seconds=15, memory_bytes=512 << 20, file_bytes=100 << 20
        ),
    )
    fake, result = await run_with(
        exits(0, b"README\n"),
        cmd,
        tmp_path,
        projects_claim="projects",
        projects_root=project.parent,
        start_seconds=60,
        ttl_seconds=300,
    )
    assert result.ok
    [job] = fake.created
    name = job["metadata"]["name"]
    assert DNS_LABEL.match(name)
    assert name.startswith(f"sy-{scratch.name.lower().replace('_', '-')}"[:20])
    assert job["metadata"]["labels"][SANDBOX_LABEL[0]] == SANDBOX_LABEL[1]
    spec = job["spec"]
    assert (
        spec["backoffLimit"],
        spec["activeDeadlineSeconds"],
        spec["ttlSecondsAfterFinished"],
    ) == (
        0,
        30 + 60,
        300,
    )
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"][SANDBOX_LABEL[0]] == SANDBOX_LABEL[1]
    assert pod["restartPolicy"] == "Never"
    assert pod["activeDeadlineSeconds"] == 30
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    [container] = pod["containers"]
    assert container["image"] == "registry.example/tools:1"
    assert container["command"] == ["/bin/sh", "-c", "ls"]
    assert container["workingDir"] == str(project)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # 15 CPU seconds over 30 s of wall time: half a core.
    expected = {"cpu": "500m", "memory": "512Mi"}
    assert container["resources"] == {"limits": expected, "requests": expected}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "SCRATCH": str(scratch),
        "LANG": "C.UTF-8",
        "GIVEN": "yes",
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert volumes["scratch"]["emptyDir"] == {"sizeLimit": "100Mi"}
    assert mounts["scratch"] == {"name": "scratch", "mountPath": str(scratch)}
    assert mounts["tmp"]["mountPath"] == "/tmp"
    assert volumes["project"]["persistentVolumeClaim"] == {
        "claimName": "projects",
        "readOnly": True,
    }
    assert mounts["project"] == {
        "name": "project",
        "mountPath": str(project),
        "readOnly": True,
        "subPath": project.name,
    }
    # The hidden directory inside the project is covered; the one outside
    # is not in the pod at all.
    [cover] = [m for m in container["volumeMounts"] if m["name"].startswith("hidden-")]
    assert (cover["mountPath"], cover["readOnly"]) == (str(hidden), True)
    assert {"hostNetwork", "hostPID", "serviceAccountName"}.isdisjoint(pod)
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate absent")
    validate.validate(job, "1.30.0", strict=True)


async def test_a_success_reads_the_log_as_stdout_and_deletes_the_job(
    scratch: Path, tmp_path: Path
) -> None:
    fake, result = await run_with(exits(0, b"out\nerr\n"), command(scratch, "sh"), tmp_path)
    assert (result.exit_code, result.reason, result.signal, result.ok) == (
        0,
        EndReason.EXITED,
        None,
        True,
    )
    # One log holds both streams.
    assert (result.stdout, result.stderr, result.stdout_truncated) == ("out\nerr\n", "", False)
    assert result.sandbox == "kubernetes"
    name = fake.created[0]["metadata"]["name"]
    # The token and the namespace come from the service account's files.
    assert {c.headers["authorization"] for c in fake.calls} == {"Bearer fake-token"}
    assert calls(fake, "POST") == ["/apis/batch/v1/namespaces/agents/jobs"]
    assert calls(fake, "DELETE") == [f"/apis/batch/v1/namespaces/agents/jobs/{name}"]
    [listing] = [c for c in fake.calls if c.path == "/api/v1/namespaces/agents/pods"]
    assert listing.query == {"labelSelector": f"job-name={name}"}
    [log] = [c for c in fake.calls if c.path.endswith("/log")]
    assert log.query["container"] == "command"


async def test_a_non_zero_exit_is_a_result(scratch: Path, tmp_path: Path) -> None:
    _, result = await run_with(exits(3, b"boom\n"), command(scratch, "sh"), tmp_path)
    assert (result.exit_code, result.reason, result.ok, result.stdout) == (
        3,
        EndReason.EXITED,
        False,
        "boom\n",
    )


async def test_an_oom_kill_is_the_memory_reason(scratch: Path, tmp_path: Path) -> None:
    _, result = await run_with(oom_killed(b"allocating\n"), command(scratch, "sh"), tmp_path)
    assert (result.exit_code, result.reason, result.signal) == (
        137,
        EndReason.MEMORY,
        signal.SIGKILL,
    )
    assert result.stdout == "allocating\n"


async def test_past_the_pods_deadline_it_is_a_timeout_with_its_log(
    scratch: Path, tmp_path: Path
) -> None:
    _, result = await run_with(holds(b"started\n"), command(scratch, wall_seconds=1), tmp_path)
    assert (result.reason, result.killed, result.exit_code) == (EndReason.TIMEOUT, True, 137)
    assert result.stdout == "started\n"
    assert result.duration_seconds < 10


async def test_past_the_jobs_deadline_it_is_a_timeout(scratch: Path, tmp_path: Path) -> None:
    # Never scheduled: only the Job's deadline (wall time + start allowance) ends it.
    fake, result = await run_with(
        never_scheduled(), command(scratch, wall_seconds=1), tmp_path, start_seconds=1
    )
    assert (result.reason, result.signal, result.stdout) == (EndReason.TIMEOUT, signal.SIGKILL, "")
    assert fake.created[0]["spec"]["activeDeadlineSeconds"] == 2


async def test_a_missing_program_is_exit_127(scratch: Path, tmp_path: Path) -> None:
    refusal = 'exec: "no-such-program": executable file not found in $PATH: unknown'
    _, result = await run_with(start_error(refusal), command(scratch, "no-such-program"), tmp_path)
    assert result.exit_code == 127
    assert "no-such-program" in result.stderr


async def test_scratch_past_its_size_is_the_file_size_reason(scratch: Path, tmp_path: Path) -> None:
    _, result = await run_with(evicted_for_scratch(), command(scratch, "sh"), tmp_path)
    assert (result.reason, result.killed) == (EndReason.FILE_SIZE, True)


async def test_output_past_the_cap_is_dropped(scratch: Path, tmp_path: Path) -> None:
    fake, result = await run_with(
        exits(0, b"a" * 5000), command(scratch, "sh", output_bytes=1000), tmp_path
    )
    assert (len(result.stdout), result.stdout_truncated, result.stderr_truncated) == (
        1000,
        True,
        False,
    )
    [log] = [c for c in fake.calls if c.path.endswith("/log")]
    assert log.query["limitBytes"] == "1001"


async def test_an_image_that_cannot_be_pulled_fails_at_once(scratch: Path, tmp_path: Path) -> None:
    pull = 'Back-off pulling image "registry.example/tools:1"'
    _, error = await run_with(waits_for_image(pull), command(scratch, wall_seconds=60), tmp_path)
    assert isinstance(error, SandboxError)
    assert "ImagePullBackOff" in str(error)
    assert pull in str(error)


async def test_a_refused_create_is_a_clear_error_and_nothing_is_deleted(
    scratch: Path, tmp_path: Path
) -> None:
    async with FakeKubernetes() as fake:
        fake.refuse("create", "jobs", 403)
        with pytest.raises(SandboxError) as caught:
            await fake.sandbox(tmp_path).run(command(scratch))
        assert_cleaned_up(fake)
    message = str(caught.value)
    assert message.startswith("the Kubernetes API refused to create Job sy-")
    assert "in namespace agents (403 Forbidden): jobs.batch is forbidden: User" in message
    assert 'cannot create resource "jobs" in API group "batch"' in message
    assert calls(fake, "DELETE") == []


async def test_a_wrong_token_is_unauthorized(scratch: Path, tmp_path: Path) -> None:
    async with FakeKubernetes() as fake:
        sandbox = fake.sandbox(tmp_path)
        (tmp_path / "token").write_text("stale\n")
        with pytest.raises(SandboxError, match=r"create Job .*\(401 Unauthorized\): Unauthorized"):
            await sandbox.run(command(scratch))


async def test_the_token_is_read_again_for_every_run(scratch: Path, tmp_path: Path) -> None:
    async with FakeKubernetes() as fake:
        sandbox = fake.sandbox(tmp_path)
        assert (await sandbox.run(command(scratch))).ok
        fake.token = "rotated"  # the kubelet wrote a new projected token
        (tmp_path / "token").write_text("rotated\n")
        assert (await sandbox.run(command(scratch))).ok
        assert_cleaned_up(fake)
    assert fake.calls[-1].headers["authorization"] == "Bearer rotated"


async def test_a_name_taken_by_another_job_is_an_error_that_leaves_it_alone(
    scratch: Path, tmp_path: Path
) -> None:
    async with FakeKubernetes(holds()) as fake:
        sandbox = fake.sandbox(tmp_path, suffix=lambda: "fixed")
        first = asyncio.create_task(sandbox.run(command(scratch, wall_seconds=60)))
        async with asyncio.timeout(10):
            await fake.wait_for_pod()
        with pytest.raises(
            SandboxError, match=r"\(409 AlreadyExists\): jobs.batch .* already exists"
        ):
            await sandbox.run(command(scratch))
        assert len(fake.jobs) == 1  # the first run's Job is still there
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert_cleaned_up(fake)


async def test_a_cancelled_run_deletes_its_job(scratch: Path, tmp_path: Path) -> None:
    async with FakeKubernetes(holds(b"working\n")) as fake:
        task = asyncio.create_task(fake.sandbox(tmp_path).run(command(scratch, wall_seconds=60)))
        async with asyncio.timeout(10):
            pod = await fake.wait_for_pod()
        assert pod.labels["job-name"] == fake.created[0]["metadata"]["name"]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_cleaned_up(fake)
        assert len(fake.deletions) == 1


async def test_an_api_error_while_waiting_deletes_the_job(scratch: Path, tmp_path: Path) -> None:
    async with FakeKubernetes(holds()) as fake:
        fake.refuse("list", "pods", 500)
        with pytest.raises(
            SandboxError, match=r"list the pods of Job sy-.*\(500 InternalError\): etcdserver"
        ):
            await fake.sandbox(tmp_path).run(command(scratch, wall_seconds=60))
        assert_cleaned_up(fake)
        assert len(fake.deletions) == 1


async def test_an_api_server_out_of_reach_is_an_error(scratch: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with FakeKubernetes() as fake:
        sandbox = fake.sandbox(tmp_path, api_url=f"http://127.0.0.1:{port}")
    with pytest.raises(
        SandboxError, match=rf"could not reach the Kubernetes API at .*:{port}.* to create Job"
    ):
        await sandbox.run(command(scratch))


async def test_what_a_job_cannot_do_is_refused_before_any_call(
    scratch: Path, project: Path, tmp_path: Path
) -> None:
    async with FakeKubernetes() as fake:
        sandbox = fake.sandbox(tmp_path)
        with pytest.raises(SandboxError, match="no input stream"):
            await sandbox.run(SandboxCommand(argv=("cat",), scratch=scratch, stdin=b"data"))
        with pytest.raises(SandboxError, match="SWARMYARD_KUBERNETES_PROJECTS_CLAIM"):
            await sandbox.run(SandboxCommand(argv=("ls",), scratch=scratch, cwd=project))
        outside = fake.sandbox(tmp_path, projects_claim="projects", projects_root=Path("/srv/x"))
        with pytest.raises(SandboxError, match=r"not on the projects' volume"):
            await outside.run(SandboxCommand(argv=("ls",), scratch=scratch, cwd=project))
        with pytest.raises(SandboxError, match="does not exist"):
            await sandbox.run(command(scratch / "missing"))
    assert fake.calls == []


def test_settings_build_the_sandbox_with_the_namespace_from_its_file(tmp_path: Path) -> None:
    (tmp_path / "namespace").write_text("team-a\n")
    settings = Settings(
        sandbox="kubernetes",
        kubernetes_image="registry.example/tools:1",
        kubernetes_namespace_file=tmp_path / "namespace",
        kubernetes_ca_file="",
        kubernetes_projects_claim="projects",
        kubernetes_projects_root="/srv/projects",
    )
    chosen = choose_sandbox("kubernetes", settings)
    assert isinstance(chosen, KubernetesJobSandbox)
    assert (chosen.name, chosen.isolated, chosen.namespace) == ("kubernetes", True, "team-a")
    assert chosen.api_url == "https://kubernetes.default.svc"
    explicit = settings.model_copy(update={"kubernetes_namespace": "sandboxes"})
    chosen = choose_sandbox("kubernetes", explicit)
    assert isinstance(chosen, KubernetesJobSandbox)
    assert chosen.namespace == "sandboxes"
    settings = settings.model_copy(update={"kubernetes_namespace_file": tmp_path / "absent"})
    with pytest.raises(SandboxError, match=r"cannot read the namespace file at .*absent"):
        choose_sandbox("kubernetes", settings)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        (
            {"sandbox": "kubernetes"},
            "SWARMYARD_SANDBOX=kubernetes needs SWARMYARD_KUBERNETES_IMAGE",
        ),
        ({"kubernetes_namespace": "Team_A"}, "not a Kubernetes namespace name"),
        ({"kubernetes_projects_claim": "My Claim"}, "not a PersistentVolumeClaim name"),
        ({"kubernetes_projects_claim": "projects"}, "needs SWARMYARD_KUBERNETES_PROJECTS_ROOT"),
        ({"kubernetes_projects_root": "relative/dir"}, "not an absolute path"),
        ({"kubernetes_api_url": "kubernetes.default.svc"}, "not an http:// or https:// URL"),
        ({"kubernetes_image": "two words"}, "not an image reference"),
        ({"sandbox": "k8s"}, "'kubernetes'"),
    ],
)
def test_bad_kubernetes_settings_fail_at_start_up(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(complaint)):
        Settings(**values)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMYARD_SANDBOX", "kubernetes")
    monkeypatch.setenv("SWARMYARD_KUBERNETES_IMAGE", "registry.example/tools:1")
    monkeypatch.setenv("SWARMYARD_KUBERNETES_TOKEN_FILE", "")
    settings = Settings()
    assert settings.kubernetes_token_file is None
    assert settings.kubernetes_ca_file == Path(
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    )


def manifests() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d}


def test_the_network_policy_shipped_denies_everything_to_the_pods_the_runner_labels() -> None:
    policy = manifests()["NetworkPolicy"]
    assert policy["spec"]["podSelector"] == {"matchLabels": {SANDBOX_LABEL[0]: SANDBOX_LABEL[1]}}
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in policy["spec"]
    assert "egress" not in policy["spec"]


async def test_the_role_shipped_grants_exactly_the_calls_the_runner_makes(
    scratch: Path, tmp_path: Path
) -> None:
    fake, _ = await run_with(exits(0), command(scratch), tmp_path)
    made = set()
    for call in fake.calls:
        resource = "jobs" if "/jobs" in call.path else "pods"
        resource += "/log" if call.path.endswith("/log") else ""
        verb = {"POST": "create", "DELETE": "delete"}.get(call.method)
        if verb is None:
            verb = "list" if call.path.endswith("/pods") else "get"
        made.add((resource, verb))
    granted = {
        (resource, verb)
        for rule in manifests()["Role"]["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert (
        granted
        == made
        == {
            ("jobs", "create"),
            ("jobs", "get"),
            ("jobs", "delete"),
            ("pods", "list"),
            ("pods/log", "get"),
        }
    )


def test_the_shipped_manifests_validate_against_the_kubernetes_schemas() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate absent")
    for doc in manifests().values():
        validate.validate(doc, "1.30.0", strict=True)
