"""What operators and tools read: liveness, readiness, Prometheus metrics, the OpenAPI
document (validated against the OpenAPI 3.1 meta-schema, STYLE.md rule 17)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hotline.core.model import Role
from hotline.store.db import Database
from hotline.store.migrate import head_revision
from hotline.web.api.resources import SPECS
from tests.integration.world import World, auth

REQUESTS_TOTAL = "hotline_http_requests_total"


async def test_given_app_when_probing_healthz_then_200_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_given_migrated_database_when_probing_readyz_then_200_with_head_revision(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "database": database.dialect,
        "revision": head_revision(),
    }


def _request_counts(text: str) -> dict[tuple[str, str, str], float]:
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == REQUESTS_TOTAL:
                labels = sample.labels
                counts[labels["route"], labels["method"], labels["status"]] = sample.value
    return counts


async def test_given_requests_by_id_when_scraping_metrics_then_labelled_by_route_template(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    hotline_id = world.a.ids["hotlines"]
    assert (await client.get(f"/api/v1/hotlines/{hotline_id}", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/hotlines/424242", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/hotlines/{hotline_id}", headers=headers)).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = _request_counts(response.text)
    assert counts[("/api/v1/hotlines/{item_id}", "GET", "200")] == 2
    assert counts[("/api/v1/hotlines/{item_id}", "GET", "404")] == 1
    assert counts[("unmatched", "GET", "404")] == 1
    routes = {route for route, _method, _status in counts}
    raw = {r for r in routes if re.search(r"/\d+(/|$)", r)}
    assert not raw, f"metrics labelled by raw path (one series per id): {raw}"
    assert "hotline_http_request_seconds_bucket" in response.text


def _meta_schema_errors(document: dict[str, Any]) -> list[str] | None:
    """Errors against the official OpenAPI meta-schema, or None if no validator is installed.

    ``openapi_spec_validator`` when present; otherwise the OAI JSON Schemas that schemathesis
    (a dev dependency) vendors."""
    try:
        from openapi_spec_validator import validate  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        try:
            validate(document)
        except Exception as exc:  # any validation failure is reported
            return [str(exc)]
        return []
    try:
        from schemathesis.specs.openapi import definitions
    except ImportError:
        return None
    version = str(document.get("openapi", ""))
    name = "OPENAPI_31_VALIDATOR" if version.startswith("3.1") else "OPENAPI_30_VALIDATOR"
    validator = getattr(definitions, name)
    return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)]


async def test_given_app_when_fetching_openapi_then_valid_document_with_every_route_and_bearer(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert str(document["openapi"]).startswith("3.")

    errors = _meta_schema_errors(document)
    assert errors is not None, "no OpenAPI meta-schema validator installed (schemathesis)"
    assert errors == [], errors[:10]

    paths = document["paths"]
    expected = {"/api/v1/auth/login": {"post"}, "/api/v1/auth/logout": {"post"},
                "/api/v1/auth/me": {"get"}, "/api/v1/interactions": {"get"},
                "/api/v1/interactions/{item_id}": {"get"}, "/healthz": {"get"},
                "/api/v1/interactions/{item_id}/send-offer": {"post"},
                "/readyz": {"get"}, "/metrics": {"get"},
                # live call control and IVR flows (hotline.web.api.telephony)
                "/api/v1/agent/state": {"get", "post"},
                "/api/v1/operators/{operator_id}/state": {"post"},
                "/api/v1/calls/{interaction_id}/hold": {"post"},
                "/api/v1/calls/{interaction_id}/resume": {"post"},
                "/api/v1/calls/{interaction_id}/hangup": {"post"},
                "/api/v1/calls/{interaction_id}/transfer": {"post"},
                "/api/v1/interactions/{interaction_id}/move": {"post"},  # web.api.moves
                # the browser softphone (hotline.web.api.softphone)
                "/api/v1/softphone": {"get", "post", "delete"},
                "/api/v1/calls/{interaction_id}/answer": {"post"},
                "/api/v1/calls/{interaction_id}/decline": {"post"},
                "/api/v1/calls/{interaction_id}/monitor": {"post", "delete"},  # silent monitor
                "/api/v1/users/{user_id}/sip-password": {"put"},
                "/api/v1/flow-schema": {"get"},
                "/api/v1/hotlines/{hotline_id}/flows": {"get", "post"},
                "/api/v1/hotlines/{hotline_id}/flows/{version}/publish": {"post"},
                # a hotline's uploaded voice prompts (hotline.web.api.prompts)
                "/api/v1/hotlines/{hotline_id}/prompts": {"get"},
                "/api/v1/hotlines/{hotline_id}/prompts/{language}/{name}": {"put", "delete"},
                "/api/v1/hotlines/{hotline_id}/prompts/{language}/{name}/audio": {"get"},
                # reports and imports, recordings, callbacks, knowledge-base search
                "/api/v1/reports/kpis": {"get"}, "/api/v1/imports/history": {"post"},
                "/api/v1/recordings": {"get"},
                "/api/v1/recordings/{recording_id}/audio": {"get"},
                "/api/v1/callbacks": {"get", "post"},
                "/api/v1/kb-articles/search": {"get"}}  # fmt: skip
    for spec in SPECS:
        expected[f"/api/v1{spec.path}"] = {"get", "post"}
        expected[f"/api/v1{spec.path}/{{item_id}}"] = {"get", "patch", "delete"}
    assert {p: set(ops) for p, ops in paths.items()} == expected

    schemes = document["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if (s["type"], s.get("scheme")) ==
              ("http", "bearer")]  # fmt: skip
    assert len(bearer) == 1, schemes
    for path, ops in paths.items():
        for method, op in ops.items():
            public = path == "/api/v1/auth/login" or not path.startswith("/api/")
            secured = {name for req in op.get("security", []) for name in req}
            assert secured == (set() if public else set(bearer)), (method, path, secured)
            if not public:  # the error shape is documented where it can happen
                assert {"401", "403", "422"} <= op["responses"].keys(), (method, path)
