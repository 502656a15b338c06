"""The prompts page: a hotline's voice prompts, each playable in the browser, and a form
to upload a WAV for one of them (or go back to the standard recording).

The upload goes through the same check and atomic replace as the API
(``web/api/prompts.py``: ``accept_prompt``), so a refused file is reported next to the file
field and the prompt that was there stays.  A body announced larger than the limit is
refused before it is read.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from hotline.core.access import Action, Resource
from hotline.store import models as m
from hotline.web.api import prompts as api
from hotline.web.pages.admin_base import (
    admin_gate,
    csrf_ok,
    csrf_token,
    ctx_of,
    hotline_options,
    not_found_page,
    page_render,
)
from hotline.web.pages.i18n import translator
from hotline.web.pages.session import Page, forbidden_page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
HotlineId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LANGUAGES = ("ru", "en")
#: room for the form's other fields and the multipart framing around the file
_FORM_OVERHEAD = 64 * 1024


async def _gate(request: Request, tenant_id: int) -> Page | Response:
    return await admin_gate(request, tenant_id, Resource.FLOW, Action.WRITE)


async def _hotline(request: Request, page: Page, tenant_id: int, hotline_id: int) -> Any:
    async with ctx_of(request).db.session(page.principal) as session:
        hotline = await session.get(m.Hotline, hotline_id)
        if hotline is None or hotline.tenant_id != tenant_id:
            return None
        return {"id": hotline.id, "name": hotline.name, "language": hotline.language}


@router.get("/t/{tenant_id}/admin/prompts")
async def prompts_home(request: Request, tenant_id: TenantId) -> Response:
    """The tab: the prompts of the first hotline the user sees."""
    page = await _gate(request, tenant_id)
    if not isinstance(page, Page):
        return page
    async with ctx_of(request).db.session(page.principal) as session:
        hotlines = await hotline_options(session, tenant_id)
    if not hotlines:
        return not_found_page(request, page)
    return RedirectResponse(
        f"/t/{tenant_id}/admin/hotlines/{hotlines[0][0]}/prompts", status_code=303
    )


async def _show(
    request: Request,
    page: Page,
    tenant_id: int,
    hotline: dict[str, Any],
    language: str,
    errors: dict[str, list[str]],
    chosen: str = "",
    status_code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    async with ctx.db.session(page.principal) as session:
        hotlines = await hotline_options(session, tenant_id)
    prompts = await api.list_prompts(ctx.settings, hotline["id"], language)
    return page_render(
        request,
        "admin_prompts.html",
        page,
        status_code=status_code,
        tenant_id=tenant_id,
        hotline=hotline,
        hotlines=hotlines,
        language=language,
        languages=LANGUAGES,
        prompts=[p.model_dump() for p in prompts],
        sentences=[p.model_dump() for p in prompts if not api.is_word(p.name)],
        words=[p.model_dump() for p in prompts if api.is_word(p.name)],
        chosen=chosen or request.query_params.get("saved", "") or "greeting",
        saved=request.query_params.get("saved"),
        removed=request.query_params.get("removed"),
        errors=errors,
        max_mib=f"{api.MAX_PROMPT_BYTES / (1024 * 1024):g}",
        max_seconds=f"{api.MAX_PROMPT_SECONDS:g}",
        csrf=csrf_token(request),
        section="prompts",
    )


def _language(request: Request, hotline: dict[str, Any]) -> str:
    asked = request.query_params.get("language", "")
    return asked if asked in LANGUAGES else str(hotline["language"])


@router.get("/t/{tenant_id}/admin/hotlines/{hotline_id}/prompts")
async def prompts_page(request: Request, tenant_id: TenantId, hotline_id: HotlineId) -> Response:
    page = await _gate(request, tenant_id)
    if not isinstance(page, Page):
        return page
    hotline = await _hotline(request, page, tenant_id, hotline_id)
    if hotline is None:
        return not_found_page(request, page)
    return await _show(request, page, tenant_id, hotline, _language(request, hotline), {})


def _rejection(t: Any, exc: api.PromptRejectedError) -> str:
    return str(t(f"prm.{exc.reason}")).format(exc.detail)


@router.post("/t/{tenant_id}/admin/hotlines/{hotline_id}/prompts")
async def prompt_upload(request: Request, tenant_id: TenantId, hotline_id: HotlineId) -> Response:
    page = await _gate(request, tenant_id)
    if not isinstance(page, Page):
        return page
    hotline = await _hotline(request, page, tenant_id, hotline_id)
    if hotline is None:
        return not_found_page(request, page)
    t = translator(page.viewer.locale)
    language = _language(request, hotline)
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > api.MAX_PROMPT_BYTES + _FORM_OVERHEAD:
        # refused unread: the body may be huge; nothing is written, so no CSRF check needed
        error = _rejection(t, api.too_large(api.MAX_PROMPT_BYTES))
        return await _show(
            request, page, tenant_id, hotline, language, {"file": [error]}, status_code=413
        )
    data = await request.form()
    try:  # the uploaded file is spooled to a temporary file: closed whatever happens
        return await _accept(request, page, tenant_id, hotline, data)
    finally:
        await data.close()


async def _accept(
    request: Request, page: Page, tenant_id: int, hotline: dict[str, Any], data: FormData
) -> Response:
    t = translator(page.viewer.locale)
    hotline_id = int(hotline["id"])
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    language = str(data.get("language", ""))
    language = language if language in LANGUAGES else str(hotline["language"])
    name = str(data.get("name", ""))
    upload = data.get("file")
    errors: dict[str, list[str]] = {}
    if name not in api.prompt_names(language):
        errors["name"] = [t("prm.unknown_name")]
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = [t("prm.no_file")]
    if errors or not isinstance(upload, UploadFile):
        return await _show(
            request, page, tenant_id, hotline, language, errors, name, status_code=422
        )
    ctx = ctx_of(request)
    target = api.upload_path(ctx.settings.data_dir, hotline_id, language, name)
    try:
        accepted = await api.accept_prompt(upload.file, target)
    except api.PromptRejectedError as exc:
        status = 413 if exc.reason == "too_large" else 422
        errors = {"file": [_rejection(t, exc)]}
        return await _show(
            request, page, tenant_id, hotline, language, errors, name, status_code=status
        )
    await _audit(request, page, hotline_id, "upload", f"{hotline_id}/{language}/{name}", accepted)
    return RedirectResponse(
        f"/t/{tenant_id}/admin/hotlines/{hotline_id}/prompts?language={language}&saved={name}",
        status_code=303,
    )


async def _audit(
    request: Request,
    page: Page,
    hotline_id: int,
    action: str,
    ref: str,
    accepted: api.Accepted | None = None,
) -> None:
    ctx = ctx_of(request)
    details: dict[str, Any] = {}
    if accepted is not None:
        details = {"size_bytes": accepted.size_bytes, "seconds": round(accepted.seconds, 3)}
    async with ctx.db.session(page.principal) as session:
        hotline = await session.get(m.Hotline, hotline_id)
        if hotline is not None:
            api.audit_prompt(session, page.principal, hotline, action, ref, ctx.clock(), details)
            await session.commit()


@router.post("/t/{tenant_id}/admin/hotlines/{hotline_id}/prompts/{language}/{name}/delete")
async def prompt_remove(
    request: Request, tenant_id: TenantId, hotline_id: HotlineId, language: str, name: str
) -> Response:
    """Remove the upload: calls play the standard prompt again."""
    page = await _gate(request, tenant_id)
    if not isinstance(page, Page):
        return page
    hotline = await _hotline(request, page, tenant_id, hotline_id)
    if hotline is None or language not in LANGUAGES or name not in api.prompt_names(language):
        return not_found_page(request, page)
    data = await request.form()
    if not csrf_ok(request, data):
        return forbidden_page(request, page.viewer)
    ctx = ctx_of(request)
    path = api.upload_path(ctx.settings.data_dir, hotline_id, language, name)
    await asyncio.to_thread(path.unlink, True)  # missing_ok: gone already is fine
    await _audit(request, page, hotline_id, "delete", f"{hotline_id}/{language}/{name}")
    return RedirectResponse(
        f"/t/{tenant_id}/admin/hotlines/{hotline_id}/prompts?language={language}&removed={name}",
        status_code=303,
    )
