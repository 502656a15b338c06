"""IVR flows over the API, on SQLite and PostgreSQL: versions, validation listing every
problem, publishing and restoring, and who may see or change them."""

from __future__ import annotations

from typing import Any

import httpx

from hotline.core.model import Role
from tests.integration.world import World, auth


def _flow(queue_id: int) -> dict[str, Any]:
    return {
        "start": "greet",
        "nodes": {
            "greet": {"type": "play", "prompt": "greeting", "next": "q"},
            "q": {"type": "queue", "queue": queue_id},
        },
    }


async def test_given_a_supervisor_when_saving_publishing_and_restoring_then_versions_kept(
    client: httpx.AsyncClient, world: World
) -> None:
    hotline, queue = world.a.ids["hotlines"], world.a.ids["queues"]
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    path = f"/api/v1/hotlines/{hotline}/flows"
    first = await client.post(
        path, json={"document": _flow(queue), "publish": True}, headers=headers
    )
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["published_at"] is not None
    second_doc = _flow(queue)
    second_doc["nodes"]["greet"]["prompt"] = "menu"
    second = await client.post(
        path, json={"document": second_doc, "comment": "try the menu prompt"}, headers=headers
    )
    assert second.status_code == 201, second.text
    assert (second.json()["version"], second.json()["published_at"]) == (2, None)

    published = await client.post(f"{path}/2/publish", headers=headers)
    assert published.status_code == 200, published.text
    restored = await client.post(f"{path}/1/publish", headers=headers)  # roll back
    assert restored.status_code == 200, restored.text
    versions = (await client.get(path, headers=headers)).json()
    assert [v["version"] for v in versions] == [1, 2]
    latest = max(versions, key=lambda v: v["published_at"] or "")
    assert latest["version"] == 1
    assert versions[1]["document"] == second_doc  # an old version is never rewritten


async def test_given_a_broken_flow_when_saving_then_422_lists_every_problem_and_nothing_saved(
    client: httpx.AsyncClient, world: World
) -> None:
    hotline = world.a.ids["hotlines"]
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    broken = {
        "start": "greet",
        "nodes": {
            "greet": {"type": "play", "prompt": "no_such_prompt", "next": "nowhere"},
            "q": {"type": "queue", "queue": 999_999},
        },
    }
    response = await client.post(
        f"/api/v1/hotlines/{hotline}/flows", json={"document": broken}, headers=headers
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_id"] == "invalid_flow"
    paths = {p["path"] for p in body["details"]}
    assert {"nodes.greet.prompt", "nodes.greet.next", "nodes.q.queue"} <= paths, body
    listed = await client.get(f"/api/v1/hotlines/{hotline}/flows", headers=headers)
    assert listed.json() == []


async def test_given_roles_when_touching_flows_then_policy_and_tenancy_hold(
    client: httpx.AsyncClient, world: World
) -> None:
    hotline_a, queue_a = world.a.ids["hotlines"], world.a.ids["queues"]
    path = f"/api/v1/hotlines/{hotline_a}/flows"
    body = {"document": _flow(queue_a), "publish": True}
    # tenant B's supervisor and client cannot see tenant A's hotline at all
    for role in (Role.SUPERVISOR, Role.CLIENT):
        foreign = auth(world.b.tokens[role])
        assert (await client.get(path, headers=foreign)).status_code == 404
    assert (
        await client.post(path, json=body, headers=auth(world.b.tokens[Role.SUPERVISOR]))
    ).status_code == 404
    # the tenant's client reads but may not change; operators have no access to flows
    assert (
        await client.post(path, json=body, headers=auth(world.a.tokens[Role.CLIENT]))
    ).status_code == 403
    assert (await client.get(path, headers=auth(world.a.tokens[Role.CLIENT]))).status_code == 200
    assert (await client.get(path, headers=auth(world.a.tokens[Role.OPERATOR]))).status_code == 403
    # the schema is there for editors
    schema = await client.get("/api/v1/flow-schema", headers=auth(world.a.tokens[Role.SUPERVISOR]))
    assert schema.status_code == 200
    assert "properties" in schema.json() or "$defs" in schema.json()


async def test_given_no_telephony_when_changing_operator_state_then_503_not_500(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/v1/agent/state", json={"state": "ready"}, headers=auth(world.a.tokens[Role.OPERATOR])
    )
    assert response.status_code == 503, response.text
    assert response.json()["error_id"] == "telephony_unavailable"
