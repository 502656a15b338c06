"""Constrained field types shared by the API schemas.

Every string and number the API accepts is bounded to what both databases store: no NUL
characters or lone surrogates (PostgreSQL refuses them), lengths within the column, and
integers within 32 or 64 bits.  Without these, odd input would reach the driver and turn
into a 500 instead of a 422 that names the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def clean_json(value: Any, depth: int = 0) -> Any:
    """Validate free-form JSON (custom fields, script steps) the same way, recursively."""
    if depth > 20:
        raise ValueError("is nested too deeply (more than 20 levels)")
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        raise ValueError("has an integer outside 64 bits")
    return value


_CLEAN = AfterValidator(_clean_text)


def _s(max_length: int, min_length: int = 0, pattern: str | None = None) -> StringConstraints:
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern
    )


#: E.164 (ITU-T E.164: at most 15 digits) or a short internal number (extension).
PHONE_PATTERN = r"^\+?[0-9]{2,15}$"
LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"

Name = Annotated[str, _s(200, 1), _CLEAN]
Title = Annotated[str, _s(300, 1), _CLEAN]
ShortText = Annotated[str, _s(200), _CLEAN]
Description = Annotated[str, _s(500), _CLEAN]
Template = Annotated[str, _s(500, 1), _CLEAN]
LongText = Annotated[str, _s(100_000), _CLEAN]
TimeZoneName = Annotated[str, _s(64, 1), _CLEAN]
Phone = Annotated[str, _s(16, 2, PHONE_PATTERN), _CLEAN]
Identifier = Annotated[str, _s(64, 1, r"^[a-z][a-z0-9_]*$"), _CLEAN]
Login = Annotated[str, _s(64, 2, LOGIN_PATTERN), _CLEAN]
Slug = Annotated[str, _s(64, 2, r"^[a-z0-9][a-z0-9-]+$"), _CLEAN]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256), _CLEAN]
#: a password as typed at login: not stripped, any length up to the cap
Secret = Annotated[str, StringConstraints(max_length=256), _CLEAN]
Tag = Annotated[str, _s(64, 1), _CLEAN]
Language = Annotated[str, Field(pattern=r"^(ru|en)$")]
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
BigId = Annotated[int, Field(ge=1, le=INT64_MAX)]
Seconds = Annotated[int, Field(ge=0, le=86_400)]
PositiveSeconds = Annotated[int, Field(ge=1, le=86_400)]
JsonObject = Annotated[dict[str, Any], AfterValidator(clean_json)]
