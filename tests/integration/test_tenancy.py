"""The tenancy matrix: every role of tenant A against every resource of tenant B.

A gets 403 or 404 on each, and B's own users (the positive control) get what the access
table allows, so the matrix cannot pass by everything being refused.
"""

from __future__ import annotations

import httpx
import pytest

from hotline.core.access import POLICY, Action, Resource
from hotline.core.model import Role
from tests.integration.world import RESOURCES, World, auth

TENANT_ROLES = (Role.SUPERVISOR, Role.OPERATOR, Role.CLIENT)
RESOURCE_OF = {
    "hotlines": Resource.HOTLINE,
    "queues": Resource.QUEUE,
    "skills": Resource.SKILL,
    "users": Resource.USER,
    "topics": Resource.TOPIC,
    "scripts": Resource.SCRIPT,
    "kb-articles": Resource.KB_ARTICLE,
    "contacts": Resource.CONTACT,
    "interactions": Resource.INTERACTION,
}
DENIED = {403, 404}


@pytest.mark.parametrize("role", TENANT_ROLES, ids=lambda r: r.value)
async def test_given_role_of_tenant_a_when_touching_tenant_b_rows_then_403_or_404(
    client: httpx.AsyncClient, world: World, role: Role
) -> None:
    headers = auth(world.a.tokens[role])
    for path in RESOURCES:
        url = f"/api/v1/{path}/{world.b.ids[path]}"
        got = (await client.get(url, headers=headers)).status_code
        assert got in DENIED, f"{role} GET {path}: {got}"
        if path == "interactions":
            continue  # read-only resource: no PATCH/DELETE routes at all
        got = (await client.patch(url, json={}, headers=headers)).status_code
        assert got in DENIED, f"{role} PATCH {path}: {got}"
        got = (await client.delete(url, headers=headers)).status_code
        assert got in DENIED, f"{role} DELETE {path}: {got}"
    got = (await client.get(f"/api/v1/tenants/{world.b.tenant_id}", headers=headers)).status_code
    assert got in DENIED


@pytest.mark.parametrize("role", TENANT_ROLES, ids=lambda r: r.value)
async def test_given_role_of_tenant_b_when_reading_own_rows_then_policy_is_applied(
    client: httpx.AsyncClient, world: World, role: Role
) -> None:
    """Positive control: the same requests by B's own users succeed where the table says."""
    headers = auth(world.b.tokens[role])
    for path in RESOURCES:
        row_id = world.b.ids[path]
        got = (await client.get(f"/api/v1/{path}/{row_id}", headers=headers)).status_code
        allowed = Action.READ in POLICY[role].get(RESOURCE_OF[path], frozenset())
        if path == "users" and role is not Role.OPERATOR and allowed:
            assert got == 200, f"{role} GET own tenant's operator: {got}"
        elif path == "users" and role is Role.OPERATOR:
            # operators see only themselves; the world's "users" row is that operator
            assert got == 200
        else:
            assert got == (200 if allowed else 403), f"{role} GET {path}: {got}"


@pytest.mark.parametrize("role", TENANT_ROLES, ids=lambda r: r.value)
async def test_given_role_of_tenant_a_when_listing_then_no_row_of_tenant_b(
    client: httpx.AsyncClient, world: World, role: Role
) -> None:
    headers = auth(world.a.tokens[role])
    for path in RESOURCES:
        response = await client.get(f"/api/v1/{path}", headers=headers)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (path, response.text)
        tenants = {item["tenant_id"] for item in response.json()["items"]}
        assert tenants <= {world.a.tenant_id}, (role, path, tenants)
        # and the filter cannot be used to peek either
        peek = await client.get(
            f"/api/v1/{path}", params={"tenant_id": world.b.tenant_id}, headers=headers
        )
        if peek.status_code == 200:
            peeked = {item["tenant_id"] for item in peek.json()["items"]}
            assert peeked <= {world.a.tenant_id}, (role, path, peeked)


@pytest.mark.parametrize("role", (Role.SUPERVISOR,), ids=lambda r: r.value)
async def test_given_supervisor_of_a_when_creating_in_b_then_refused_and_nothing_written(
    client: httpx.AsyncClient, world: World, role: Role
) -> None:
    headers = auth(world.a.tokens[role])
    admin = auth(world.admin_token)
    before = (await client.get("/api/v1/queues", headers=admin)).json()["total"]
    attempts = [
        (
            "/api/v1/hotlines",
            {"tenant_id": world.b.tenant_id, "name": "x", "timezone": "Europe/Moscow"},
        ),
        ("/api/v1/queues", {"hotline_id": world.b.ids["hotlines"], "name": "x"}),
        ("/api/v1/topics", {"hotline_id": world.b.ids["hotlines"], "kind": "topic", "name": "x"}),
        ("/api/v1/skills", {"tenant_id": world.b.tenant_id, "name": "x"}),
        ("/api/v1/contacts", {"tenant_id": world.b.tenant_id, "name": "x"}),
        (
            "/api/v1/users",
            {
                "tenant_id": world.b.tenant_id,
                "login": "intruder",
                "display_name": "x",
                "role": "operator",
                "password": "password1",
            },
        ),
        (
            "/api/v1/users",
            {"login": "new-admin", "display_name": "x", "role": "admin", "password": "password1"},
        ),
    ]
    for path, body in attempts:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code in {403, 404, 422}, (path, response.text)
    assert (await client.get("/api/v1/queues", headers=admin)).json()["total"] == before
    users = (await client.get("/api/v1/users", headers=admin)).json()["items"]
    assert {"intruder", "new-admin"}.isdisjoint(u["login"] for u in users)


async def test_given_operator_when_assigning_a_hotline_of_b_then_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    """A supervisor cannot smuggle another tenant's hotline into an operator's assignments."""
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    response = await client.patch(
        f"/api/v1/users/{world.a.user_ids[Role.OPERATOR]}",
        json={"hotline_ids": [world.b.ids["hotlines"]]},
        headers=headers,
    )
    assert response.status_code == 422
    assert "hotline_ids.0" in response.json()["message"]


async def test_given_no_token_when_calling_api_then_401(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(f"/api/v1/hotlines/{world.a.ids['hotlines']}")
    assert response.status_code == 401
    assert response.json()["error_id"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
