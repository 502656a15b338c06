"""Admin forms posted as a browser posts them: opened by a user (so the page's CSRF token
is read from the page), then posted with that token and the user's session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from hotline.core.model import Role
from tests.integration.test_admin_pages import cookie, form_token
from tests.integration.world import World


@dataclass(frozen=True)
class Form:
    """An admin form as one user sees it: where it posts, its CSRF token, whose it is."""

    client: httpx.AsyncClient
    url: str
    csrf: str
    token: str

    async def post(
        self,
        fields: dict[str, str],
        *,
        url: str | None = None,
        token: str | None = None,
        **request: Any,
    ) -> httpx.Response:
        """``fields`` with the form's CSRF token (unless they name another) to ``url`` (the
        form's own by default), as the form's user or the user of ``token``; ``request``
        goes to httpx as it is (``files=`` for a multipart form)."""
        return await self.client.post(
            self.url if url is None else url,
            data={"csrf": self.csrf} | fields,
            headers=cookie(self.token if token is None else token),
            **request,
        )


async def supervisor_form(client: httpx.AsyncClient, world: World, path: str) -> Form:
    """Tenant A's supervisor opens the form at ``/t/{tenant A}/admin/{path}`` (the page
    must answer 200 and carry a CSRF token)."""
    url, token = f"/t/{world.a.tenant_id}/admin/{path}", world.a.tokens[Role.SUPERVISOR]
    return Form(client, url, await form_token(client, url, token), token)
