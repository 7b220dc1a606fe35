"""/providers, /prices and /routing over HTTP: what admins set up for the
router, who may see it, and API keys that go in and never come out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

SECRET = "sk-test-0123456789abcdefSECRETSECRET"
OTHER_SECRET = "sk-test-second-key-NEVER-SHOWN-42"

LOCAL = {
    "name": "gpu-box",
    "kind": "openai-compatible",
    "base_url": "http://127.0.0.1:9/v1",
    "models": [{"name": "qwen2.5-coder:32b", "tier": "mid"}],
}
PAID = {
    "name": "vendor",
    "kind": "openai",
    "models": [
        {
            "name": "house-model",
            "tier": "premium",
            "price": {"input_per_mtok": 2.5, "output_per_mtok": 10},
        }
    ],
}


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    return body


def paths_of(err: dict[str, Any]) -> set[str]:
    return {p["path"] for p in err["details"]}


async def providers(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in (await api.get("/providers")).json()["items"]}


# ------------------------------------------------------------------ providers


async def test_the_builtin_offline_provider_is_listed(api: httpx.AsyncClient) -> None:
    listed = await providers(api)
    assert list(listed) == ["offline"]
    assert listed["offline"]["origin"] == "builtin"
    assert listed["offline"]["key"] == "none"
    assert listed["offline"]["local"] is True


async def test_a_provider_is_registered_replaced_and_removed(api: httpx.AsyncClient) -> None:
    r = await api.post("/providers", json=LOCAL | {"api_key": SECRET})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["name"], made["origin"], made["key"], made["local"]) == (
        "gpu-box",
        "api",
        "stored",
        True,
    )
    assert "api_key" not in made
    assert (await providers(api))["gpu-box"] == made

    # Replacing without a key keeps the stored one.
    two_models = LOCAL["models"] + [{"name": "llama3.1:8b", "tier": "fast"}]  # type: ignore[operator]
    r = await api.put("/providers/gpu-box", json=LOCAL | {"models": two_models})
    assert r.status_code == 200, r.text
    assert r.json()["key"] == "stored"
    assert [m["name"] for m in r.json()["models"]] == ["qwen2.5-coder:32b", "llama3.1:8b"]
    # The name may be left out of the body: the path says it.
    body = {k: v for k, v in LOCAL.items() if k != "name"}
    r = await api.put("/providers/gpu-box", json=body)
    assert [m["name"] for m in r.json()["models"]] == ["qwen2.5-coder:32b"]

    assert (await api.delete("/providers/gpu-box")).status_code == 204
    assert list(await providers(api)) == ["offline"]
    error_of(await api.delete("/providers/gpu-box"), 404, "not_found")


async def test_registered_models_are_routable(api: httpx.AsyncClient) -> None:
    await api.post("/providers", json=LOCAL)
    rules = {"rules": [{"name": "coders", "tier": "mid", "models": ["gpu-box:qwen2.5-coder:32b"]}]}
    r = await api.put("/routing", json=rules)
    assert r.status_code == 200, r.text
    estimate = (await api.post("/tasks/estimate", json={"title": "x", "type": "feature"})).json()
    assert estimate["model"] == "gpu-box:qwen2.5-coder:32b"
    assert estimate["chain"][-1] == "offline:swarmyard-offline-1"


async def test_provider_conflicts(api: httpx.AsyncClient) -> None:
    await api.post("/providers", json=LOCAL)
    err = error_of(await api.post("/providers", json=LOCAL), 409, "conflict")
    assert "PUT /providers/gpu-box" in err["message"]
    offline = {"name": "offline", "kind": "ollama", "base_url": "http://127.0.0.1:11434"}
    offline["models"] = [{"name": "x"}]  # type: ignore[assignment]
    error_of(await api.post("/providers", json=offline), 409, "conflict")
    error_of(await api.put("/providers/offline", json=offline), 409, "conflict")
    error_of(await api.delete("/providers/offline"), 409, "conflict")
    error_of(await api.put("/providers/ghost", json=LOCAL | {"name": "ghost"}), 404, "not_found")
    assert set(await providers(api)) == {"gpu-box", "offline"}


BAD_PROVIDERS: list[tuple[dict[str, Any], set[str]]] = [
    ({**LOCAL, "kind": "telepathy"}, {"kind"}),
    ({**LOCAL, "name": "Bad Name!"}, {"name"}),
    ({**LOCAL, "base_url": "ftp://x"}, {"base_url"}),
    ({**LOCAL, "colour": "blue"}, {"colour"}),
    ({**LOCAL, "api_key_env": "MY_KEY"}, {"api_key_env"}),
    ({**LOCAL, "api_key": ""}, {"api_key"}),
    ({**LOCAL, "api_key": 42}, {"api_key"}),
    ({**PAID}, {"api_key"}),  # a vendor with public prices is called with a key
    ({**PAID, "api_key": SECRET, "models": [{"name": "made-up-model-x"}]}, {"models.0.price"}),
]


async def test_bad_providers_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    before = await providers(api)
    for body, paths in BAD_PROVIDERS:
        err = error_of(await api.post("/providers", json=body), 422, "validation_failed")
        assert paths <= paths_of(err), (body, err)
    await api.post("/providers", json=LOCAL)
    err = error_of(
        await api.put("/providers/gpu-box", json=LOCAL | {"name": "other"}),
        422,
        "validation_failed",
    )
    assert paths_of(err) == {"name"}
    assert set(await providers(api)) == set(before) | {"gpu-box"}


# ------------------------------------------------------------------ prices


async def test_prices_are_set_listed_and_removed(api: httpx.AsyncClient) -> None:
    assert (await api.get("/prices")).json() == {"items": []}
    r = await api.put("/prices/ollama:llama3.1:8b", json={"input_per_mtok": 0.1})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "model": "ollama:llama3.1:8b",
        "input_per_mtok": 0.1,
        "output_per_mtok": 0.0,
        "cached_input_per_mtok": 0.0,
        "updated_at": r.json()["updated_at"],
        "updated_by": r.json()["updated_by"],
    }
    # Model names with slashes need no escaping either.
    body = {"input_per_mtok": 0.2, "output_per_mtok": 0.6, "cached_input_per_mtok": 0.05}
    r = await api.put("/prices/openrouter:meta-llama/llama-3-8b", json=body)
    assert r.json()["model"] == "openrouter:meta-llama/llama-3-8b"
    listed = (await api.get("/prices")).json()["items"]
    assert [p["model"] for p in listed] == [
        "ollama:llama3.1:8b",
        "openrouter:meta-llama/llama-3-8b",
    ]
    assert listed[1] | body == listed[1]

    assert (await api.delete("/prices/openrouter:meta-llama/llama-3-8b")).status_code == 204
    assert [p["model"] for p in (await api.get("/prices")).json()["items"]] == [
        "ollama:llama3.1:8b"
    ]
    error_of(await api.delete("/prices/openrouter:meta-llama/llama-3-8b"), 404, "not_found")


async def test_bad_prices_change_nothing(api: httpx.AsyncClient) -> None:
    await api.put("/prices/a:b", json={"input_per_mtok": 1})
    before = (await api.get("/prices")).json()
    for ref, body, path in [
        ("a:b", {"input_per_mtok": -1}, "input_per_mtok"),
        ("a:b", {"output_per_mtok": "free"}, "output_per_mtok"),
        ("a:b", {"per_call": 1}, "per_call"),
        ("no-colon", {"input_per_mtok": 1}, "model"),
        (":model", {"input_per_mtok": 1}, "model"),
        ("a:" + "m" * 300, {"input_per_mtok": 1}, "model"),
    ]:
        err = error_of(await api.put(f"/prices/{ref}", json=body), 422, "validation_failed")
        assert path in paths_of(err), (ref, body, err)
    assert (await api.get("/prices")).json() == before


# ------------------------------------------------------------------ routing


async def test_routing_is_replaced_and_reset(api: httpx.AsyncClient) -> None:
    default = (await api.get("/routing")).json()
    assert default["source"] == "default"
    assert default["rules"][0]["name"] == "critical work"
    rules = [
        {
            "name": "docs go offline",
            "when": {"task_types": ["docs"], "min_complexity": "medium"},
            "tier": "fast",
            "models": ["offline:swarmyard-offline-1"],
        }
    ]
    r = await api.put("/routing", json={"rules": rules})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "workspace"
    assert r.json()["rules"][0]["models"] == ["offline:swarmyard-offline-1"]
    assert (await api.get("/routing")).json() == r.json()

    assert (await api.delete("/routing")).status_code == 204
    assert (await api.get("/routing")).json() == default
    assert (await api.delete("/routing")).status_code == 204  # nothing to reset: still done


async def test_bad_routing_changes_nothing(api: httpx.AsyncClient) -> None:
    before = (await api.get("/routing")).json()
    for body, path in [
        ({"rules": [{"name": "x", "models": ["nowhere:model"]}]}, "rules.0.models.0"),
        (
            {"rules": [{"name": "x", "when": {"task_types": ["juggling"]}}]},
            "rules.0.when.task_types.0",
        ),
        ({"rules": [{"name": "x", "tier": "ultra"}]}, "rules.0.tier"),
        ({"rules": [{"name": "x"}], "extra": 1}, "extra"),
        ({"rules": "all of them"}, "rules"),
    ]:
        err = error_of(await api.put("/routing", json=body), 422, "validation_failed")
        assert path in paths_of(err), (body, err)
    assert (await api.get("/routing")).json() == before


# ------------------------------------------------------------------ roles and secrecy


async def keys_for(api: httpx.AsyncClient, *roles: str) -> dict[str, dict[str, str]]:
    headers = {}
    for role in roles:
        key = (await api.post("/api-keys", json={"name": role, "role": role})).json()["key"]
        headers[role] = {"Authorization": f"Bearer {key}"}
    return headers


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", set()),
        ("member", {"/prices", "/routing"}),
        ("admin", {"/prices", "/routing", "/providers"}),
    ],
)
async def test_who_sees_the_model_set_up(
    api: httpx.AsyncClient, role: str, allowed: set[str]
) -> None:
    headers = (await keys_for(api, role))[role]
    for path, action in (
        ("/providers", "provider.read"),
        ("/prices", "price.read"),
        ("/routing", "routing.read"),
    ):
        r = await api.get(path, headers=headers)
        if path in allowed:
            assert r.status_code == 200, (role, path, r.text)
        else:
            assert error_of(r, 403, "forbidden")["details"]["action"] == action


async def test_members_change_none_of_it(api: httpx.AsyncClient) -> None:
    member = (await keys_for(api, "member"))["member"]
    for method, path, body in [
        ("POST", "/providers", LOCAL),
        ("PUT", "/providers/gpu-box", LOCAL),
        ("DELETE", "/providers/gpu-box", None),
        ("PUT", "/prices/a:b", {"input_per_mtok": 1}),
        ("DELETE", "/prices/a:b", None),
        ("PUT", "/routing", {"rules": []}),
        ("DELETE", "/routing", None),
    ]:
        r = await api.request(method, path, json=body, headers=member)
        assert r.status_code == 403, (method, path, r.text)
    assert list(await providers(api)) == ["offline"]
    assert (await api.get("/prices")).json()["items"] == []
    assert (await api.get("/routing")).json()["source"] == "default"


async def test_api_keys_never_come_back(api: httpx.AsyncClient) -> None:
    """Every answer of every read and write after registering keys, including
    refusals that carried a key, the audit log and an idempotent replay."""
    answers: list[httpx.Response] = []

    async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        r = await api.request(method, path, **kwargs)
        answers.append(r)
        return r

    paid = PAID | {"api_key": SECRET}
    replay = {"Idempotency-Key": "provider-1"}
    assert (await call("POST", "/providers", json=paid, headers=replay)).status_code == 201
    assert (await call("POST", "/providers", json=paid, headers=replay)).status_code == 201
    local = LOCAL | {"api_key": OTHER_SECRET}
    assert (await call("POST", "/providers", json=local)).status_code == 201
    assert (
        await call("PUT", "/providers/vendor", json=PAID | {"api_key": OTHER_SECRET})
    ).is_success
    # Refused requests holding a key do not quote it back.
    await call("POST", "/providers", json=local | {"kind": "nope"})
    await call("POST", "/providers", json=local)  # 409
    await call("PUT", "/providers/gpu-box", json=local | {"name": "x", "base_url": "ftp://"})
    await call("POST", "/providers", json=local | {"name": "k2", "api_key": SECRET + "\x00"})
    for path in ("/providers", "/prices", "/routing", "/budgets", "/usage", "/audit"):
        await call("GET", path)
    await call("GET", "/audit", params={"action": "provider.write"})
    await call("POST", "/tasks/estimate", json={"title": "x", "type": "feature"})
    await call("GET", "/openapi.json")
    assert len(answers) > 15
    for r in answers:
        for secret in (SECRET, OTHER_SECRET, "sk-test"):
            assert secret not in r.text, (r.request.method, r.request.url, r.text)
    listed = await providers(api)
    assert (listed["vendor"]["key"], listed["gpu-box"]["key"]) == ("stored", "stored")
    audit = (await api.get("/audit", params={"action": "provider.write"})).json()["items"]
    assert {e["resource"] for e in audit} >= {"provider:vendor", "provider:gpu-box"}
