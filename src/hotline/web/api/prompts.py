"""A hotline's own voice prompts: upload, list, listen, and go back to the standard one.

Where they live: the standard prompts are ``PROMPTS_DIR/LANG/NAME.wav`` (rendered by
``hotline.telephony.prompts.ensure_prompts``; ``PROMPTS_DIR`` defaults to
``DATA_DIR/prompts``); a hotline's uploads are ``DATA_DIR/prompts/hotlines/ID/LANG/NAME.wav``
— in the data directory even when the standard set is shared elsewhere, and one level
deeper than the library's ``*/*.wav``, so the two never mix.  :func:`hotline_overrides`
gives a hotline's uploads in the form ``PromptLibrary(overrides=…)`` takes.

Rule 1: an accepted prompt is never lost.  An upload is copied to a temporary file next
to its target, checked there (a WAV that ``telephony.media.audio`` decodes, not empty,
within :data:`MAX_PROMPT_BYTES` and :data:`MAX_PROMPT_SECONDS`), and only then renamed
over the old file (``os.replace`` is atomic on POSIX); a refused or interrupted upload
leaves the previous prompt as it was.
Rule 2: the names are those of the standard set of the language (``greeting``, ``menu``,
``voicemail``, the number words…) and the tones, so a flow that plays a name finds
either the upload or the standard prompt.
Rule 3: who may: prompts are part of the IVR, so the ``flow`` resource's rights apply
(supervisors and admins upload; clients may listen; operators neither), and the hotline
is looked up through the principal's scoped session (another tenant's is a 404).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource
from hotline.settings import Settings
from hotline.store import models as m
from hotline.telephony.media.audio import read_wav
from hotline.telephony.media.base import MediaError
from hotline.telephony.prompts import (
    STANDARD_PROMPTS,
    TONES,
    hotline_overrides,
    hotline_uploads_dir,
)
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import ApiError, not_found
from hotline.web.api.fields import INT32_MAX

__all__ = [
    "MAX_PROMPT_BYTES",
    "MAX_PROMPT_SECONDS",
    "PromptRead",
    "PromptRejectedError",
    "accept_prompt",
    "audit_prompt",
    "hotline_overrides",
    "is_word",
    "list_prompts",
    "prompt_names",
    "router",
    "too_large",
    "upload_path",
]

router = APIRouter(tags=["prompts"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require(Action.READ, Resource.FLOW))]
Writer = Annotated[Principal, Depends(require(Action.WRITE, Resource.FLOW))]
Id32 = Annotated[int, PathParam(ge=1, le=INT32_MAX)]
Language = Literal["ru", "en"]
LanguageParam = Annotated[Language, PathParam(description="ru or en")]
NameParam = Annotated[
    str,
    PathParam(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="greeting, menu, voicemail…"),
]

#: Our choice: a 3-minute 48 kHz stereo 16-bit WAV (a long music-on-hold loop) fits; a
#: prompt is played from memory, so it must stay small.
MAX_PROMPT_BYTES = 32 * 1024 * 1024
#: Our choice: longer than any announcement or hold-music loop a caller should hear.
MAX_PROMPT_SECONDS = 600.0
_CHUNK = 1 << 16
_WORD = re.compile(r"^(num|minute|second)_")


def is_word(name: str) -> bool:
    """Whether ``name`` is one of the words numbers and waits are said with (``num_5``)."""
    return _WORD.match(name) is not None


def prompt_names(language: str) -> list[str]:
    """The names a hotline may record, in the order a page shows them: the sentences
    (greeting, menu, voicemail…), then the tones, then the words said in numbers and waits."""
    standard = list(STANDARD_PROMPTS.get(language, STANDARD_PROMPTS["ru"]))
    sentences = [n for n in standard if not _WORD.match(n)]
    words = [n for n in standard if _WORD.match(n)]
    return [*sentences, *TONES, *words]


def upload_path(data_dir: Path, hotline_id: int, language: str, name: str) -> Path:
    """Where a hotline's upload of ``name`` in ``language`` is kept."""
    return hotline_uploads_dir(data_dir, hotline_id) / language / f"{name}.wav"


def _standard_path(settings: Settings, language: str, name: str) -> Path:
    return (settings.prompts_dir or settings.data_dir / "prompts") / language / f"{name}.wav"


class PromptRead(BaseModel):
    name: str
    language: str
    #: what the standard prompt says (None for tones)
    text: str | None
    uploaded: bool
    size_bytes: int | None
    updated_at: dt.datetime | None
    #: a standard rendering exists on this server
    standard: bool
    #: the audio a call plays now (the upload, else the standard one), None if neither
    audio_url: str | None


class PromptRejectedError(Exception):
    """An upload that is not a usable prompt; the previous prompt is kept.

    ``reason`` is stable (``too_large``, ``not_audio``, ``empty``, ``too_long``),
    ``message`` says what is wrong with the file and what to do, and ``detail`` is the
    variable part a page puts in its own words (the limit, the decoder's complaint).
    """

    def __init__(self, reason: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Accepted:
    size_bytes: int
    seconds: float


def too_large(limit: int) -> PromptRejectedError:
    mib = f"{limit / (1024 * 1024):g}"
    return PromptRejectedError(
        "too_large",
        f"the file is larger than {mib} MiB: shorten it or save it as 8 kHz mono WAV",
        mib,
    )


def _check_and_replace(source: BinaryIO, target: Path, limit: int) -> Accepted:
    """Copy ``source`` next to ``target``, check it, rename it over ``target`` (blocking)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.partial")
    try:
        size = 0
        with partial.open("wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise PromptRejectedError("empty", "the file is empty")
        try:
            samples, rate = read_wav(partial)
        except (MediaError, ValueError) as exc:
            reason = str(exc).removeprefix(f"prompt {partial}: ")
            raise PromptRejectedError(
                "not_audio", f"not a WAV file we can play: {reason}", reason
            ) from None
        seconds = len(samples) / rate
        if seconds == 0:
            raise PromptRejectedError("empty", "the WAV file holds no sound")
        if seconds > MAX_PROMPT_SECONDS:
            raise PromptRejectedError(
                "too_long",
                f"{seconds:.0f} s is longer than {MAX_PROMPT_SECONDS:.0f} s: shorten it",
                f"{MAX_PROMPT_SECONDS:.0f}",
            )
        os.replace(partial, target)  # atomic: the old prompt stays until this instant
        return Accepted(size, seconds)
    finally:
        partial.unlink(missing_ok=True)


async def accept_prompt(source: BinaryIO, target: Path) -> Accepted:
    """Check an uploaded file and make it the prompt at ``target`` (Rule 1); raises
    :class:`PromptRejectedError` with ``target`` untouched.  Runs in a thread."""
    return await asyncio.to_thread(_check_and_replace, source, target, MAX_PROMPT_BYTES)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _describe(
    settings: Settings, hotline_id: int, language: str, names: list[str]
) -> list[PromptRead]:
    """Blocking: one ``stat`` per upload and per standard file."""
    out = []
    for name in names:
        upload = _stat(upload_path(settings.data_dir, hotline_id, language, name))
        standard = _stat(_standard_path(settings, language, name)) is not None
        version = "" if upload is None else f"?v={upload.st_mtime_ns}"  # a new upload, anew
        out.append(
            PromptRead(
                name=name,
                language=language,
                text=STANDARD_PROMPTS.get(language, {}).get(name),
                uploaded=upload is not None,
                size_bytes=None if upload is None else upload.st_size,
                updated_at=None
                if upload is None
                else dt.datetime.fromtimestamp(upload.st_mtime, dt.UTC),
                standard=standard,
                audio_url=(
                    f"/api/v1/hotlines/{hotline_id}/prompts/{language}/{name}/audio{version}"
                    if upload is not None or standard
                    else None
                ),
            )
        )
    return out


async def list_prompts(settings: Settings, hotline_id: int, language: str) -> list[PromptRead]:
    """Every name of ``language`` with whether the hotline uploaded it."""
    return await asyncio.to_thread(
        _describe, settings, hotline_id, language, prompt_names(language)
    )


async def _hotline(session: AsyncSession, hotline_id: int) -> m.Hotline:
    hotline = await session.get(m.Hotline, hotline_id)
    if hotline is None:
        raise not_found("hotline", hotline_id)
    return hotline


def _known(language: str, name: str) -> None:
    if name not in prompt_names(language):
        raise ApiError(
            404,
            "not_found",
            f"no prompt named {name!r} in {language}: the names are those of "
            "GET /api/v1/hotlines/{hotline_id}/prompts",
        )


def audit_prompt(
    session: AsyncSession,
    principal: Principal,
    hotline: m.Hotline,
    action: str,
    ref: str,
    now: dt.datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        m.AuditEntry(
            tenant_id=hotline.tenant_id,
            user_id=principal.user_id,
            at=now,
            action=action,
            entity="prompt",
            entity_id=ref,
            details=dict(details or {}),
        )
    )


@router.get(
    "/hotlines/{hotline_id}/prompts",
    response_model=list[PromptRead],
    summary="The hotline's prompts in a language (its own by default): uploaded or standard",
)
async def get_prompts(
    hotline_id: Id32, ctx: Ctx, session: Session, _p: Reader, language: Language | None = None
) -> Any:
    hotline = await _hotline(session, hotline_id)
    return await list_prompts(ctx.settings, hotline_id, language or hotline.language)


@router.put(
    "/hotlines/{hotline_id}/prompts/{language}/{name}",
    response_model=PromptRead,
    summary="Upload a prompt (WAV); the previous one is kept unless this one is accepted",
    responses={413: {"description": "the file is too large"}},
)
async def put_prompt(
    hotline_id: Id32,
    language: LanguageParam,
    name: NameParam,
    file: Annotated[UploadFile, File(description="a WAV file: PCM, float or G.711")],
    ctx: Ctx,
    session: Session,
    principal: Writer,
) -> Any:
    hotline = await _hotline(session, hotline_id)
    _known(language, name)
    target = upload_path(ctx.settings.data_dir, hotline_id, language, name)
    try:
        accepted = await accept_prompt(file.file, target)
    except PromptRejectedError as exc:
        status = 413 if exc.reason == "too_large" else 422
        raise ApiError(
            status, f"prompt_{exc.reason}", exc.message, {"reason": exc.reason}
        ) from None
    ref = f"{hotline_id}/{language}/{name}"
    details = {"size_bytes": accepted.size_bytes, "seconds": round(accepted.seconds, 3)}
    audit_prompt(session, principal, hotline, "upload", ref, ctx.clock(), details)
    await session.commit()
    (row,) = await asyncio.to_thread(_describe, ctx.settings, hotline_id, language, [name])
    return row


@router.get(
    "/hotlines/{hotline_id}/prompts/{language}/{name}/audio",
    response_class=FileResponse,
    summary="The prompt a call plays (the upload, else the standard one), as WAV",
    responses={200: {"content": {"audio/wav": {}}}},
)
async def prompt_audio(
    hotline_id: Id32,
    language: LanguageParam,
    name: NameParam,
    ctx: Ctx,
    session: Session,
    _p: Reader,
) -> FileResponse:
    await _hotline(session, hotline_id)
    _known(language, name)
    for path in (
        upload_path(ctx.settings.data_dir, hotline_id, language, name),
        _standard_path(ctx.settings, language, name),
    ):
        if await asyncio.to_thread(path.is_file):
            return FileResponse(
                path,
                media_type="audio/wav",
                filename=f"{name}.wav",
                content_disposition_type="inline",
                headers={"Cache-Control": "private, no-store"},
            )
    raise not_found("prompt file", f"{language}/{name}")


@router.delete(
    "/hotlines/{hotline_id}/prompts/{language}/{name}",
    status_code=204,
    response_class=Response,
    summary="Remove the upload: calls play the standard prompt again",
)
async def delete_prompt(
    hotline_id: Id32,
    language: LanguageParam,
    name: NameParam,
    ctx: Ctx,
    session: Session,
    principal: Writer,
) -> Response:
    hotline = await _hotline(session, hotline_id)
    _known(language, name)
    path = upload_path(ctx.settings.data_dir, hotline_id, language, name)
    if not await asyncio.to_thread(path.is_file):
        raise not_found("uploaded prompt", f"{language}/{name}")
    await asyncio.to_thread(path.unlink, True)
    audit_prompt(
        session, principal, hotline, "delete", f"{hotline_id}/{language}/{name}", ctx.clock()
    )
    await session.commit()
    return Response(status_code=204)
