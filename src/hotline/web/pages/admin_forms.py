"""The admin forms: which fields each resource shows, and the trip between an HTML form
and the API's Pydantic schemas.

A form post becomes the same ``*Create``/``*Update`` body the REST API validates, so the
rules live once (``web/api/schemas.py``); this module only translates the form's flat
strings into that body and the schema's errors back to the field they concern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from starlette.datastructures import FormData

from hotline.core.hours import DAY_NAMES
from hotline.core.model import AfterHoursAction, OverflowAction, Role, RoutingStrategy
from hotline.web.api.crud import ResourceSpec
from hotline.web.api.resources import SPECS

__all__ = [
    "FORMS",
    "TENANT_FORM",
    "FormDef",
    "FormField",
    "form_errors",
    "parse_form",
    "values_of",
]

Kind = Literal[
    "text", "long", "number", "select", "check", "lines", "hours", "hotlines", "skills", "password"
]
#: the value that means "no value" in optional selects
NONE = ""
ALWAYS = "00:00-24:00"
FORM = "_form"  # errors that concern no single field


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    kind: Kind = "text"
    required: bool = False
    #: options of a select: (value, i18n key or literal label)
    options: tuple[tuple[str, str], ...] = ()
    create_only: bool = False
    #: an emptied text field means "" (clear it), not "leave as is"
    blank_ok: bool = False
    step: str = "1"
    hint: str | None = None
    #: i18n key of the label when ``f.<name>`` means something else here (an offer's body)
    label: str | None = None


@dataclass(frozen=True, slots=True)
class FormDef:
    """One admin section: its API resource, form fields and list columns."""

    key: str  # path segment: /t/{tenant}/admin/{key}
    spec: ResourceSpec[Any]
    fields: tuple[FormField, ...]
    columns: tuple[str, ...]
    #: the edit page offers to delete the row (``POST …/{id}/delete``)
    deletable: bool = False

    def shown(self, creating: bool) -> tuple[FormField, ...]:
        schema = self.spec.create_schema if creating else self.spec.update_schema
        return tuple(
            f
            for f in self.fields
            if f.name in schema.model_fields and (creating or not f.create_only)
        )


def _enum(
    values: Sequence[str], prefix: str, optional: bool = False
) -> tuple[tuple[str, str], ...]:
    opts = tuple((v, f"{prefix}.{v}") for v in values)
    return ((NONE, "adm.none"), *opts) if optional else opts


_SPECS = {s.name: s for s in SPECS}
_LOCALES = (("ru", "Русский"), ("en", "English"))

FORMS: dict[str, FormDef] = {
    f.key: f
    for f in (
        FormDef(
            "hotlines",
            _SPECS["hotline"],
            (
                FormField("name", required=True),
                FormField("numbers", "lines", hint="adm.hint.numbers"),
                FormField("timezone", required=True, hint="adm.hint.timezone"),
                FormField("language", "select", options=_LOCALES),
                FormField("greeting_template", required=True, hint="adm.hint.greeting"),
                FormField("greeting_prompt"),
                FormField("business_hours", "hours", hint="adm.hint.hours"),
                FormField(
                    "after_hours_action", "select", options=_enum(list(AfterHoursAction), "aha")
                ),
                FormField("after_hours_target"),
                FormField("topic_required", "check", hint="adm.hint.topic_required"),
                FormField("recording_enabled", "check"),
                FormField("recording_retention_days", "number"),
            ),
            ("name", "numbers", "timezone", "greeting_template"),
        ),
        FormDef(
            "queues",
            _SPECS["queue"],
            (
                FormField("hotline_id", "select", required=True, create_only=True),
                FormField("name", required=True),
                FormField("priority", "number"),
                FormField("strategy", "select", options=_enum(list(RoutingStrategy), "strategy")),
                FormField("skill_requirement", blank_ok=True, hint="adm.hint.requirement"),
                FormField("service_level_target", "number", step="0.01"),
                FormField("service_level_seconds", "number"),
                FormField("short_abandon_seconds", "number"),
                FormField("wrap_up_seconds", "number"),
                FormField("callback_threshold_seconds", "number"),
                FormField("max_wait_seconds", "number"),
                FormField(
                    "overflow_action",
                    "select",
                    options=_enum(list(OverflowAction), "overflow", optional=True),
                ),
                FormField("overflow_target"),
            ),
            ("hotline_id", "name", "strategy", "skill_requirement", "wrap_up_seconds"),
        ),
        FormDef(
            "skills",
            _SPECS["skill"],
            (
                FormField("name", required=True, create_only=True, hint="adm.hint.skill"),
                FormField("description", blank_ok=True),
            ),
            ("name", "description"),
        ),
        FormDef(
            "users",
            _SPECS["user"],
            (
                FormField("login", required=True, create_only=True),
                FormField("display_name", required=True),
                FormField(
                    "role",
                    "select",
                    create_only=True,
                    options=_enum([Role.OPERATOR, Role.SUPERVISOR, Role.CLIENT], "role"),
                ),
                FormField("password", "password", hint="adm.hint.password"),
                FormField("locale", "select", options=_LOCALES),
                FormField("active", "check"),
                FormField("hotline_ids", "hotlines"),
                FormField("skills", "skills", hint="adm.hint.skills"),
            ),
            ("login", "display_name", "role", "hotline_ids", "skills", "active"),
        ),
        FormDef(
            "topics",
            _SPECS["topic"],
            (
                FormField("hotline_id", "select", required=True, create_only=True),
                FormField(
                    "kind",
                    "select",
                    create_only=True,
                    options=(("topic", "adm.kind.topic"), ("outcome", "adm.kind.outcome")),
                ),
                FormField("name", required=True),
                FormField(
                    "counts_as",
                    "select",
                    options=((NONE, "adm.none"), ("lead", "adm.lead"), ("sale", "adm.sale")),
                ),
                FormField("active", "check"),
            ),
            ("hotline_id", "kind", "name", "counts_as", "active"),
        ),
        FormDef(
            "kb",
            _SPECS["knowledge-base article"],
            (
                FormField("hotline_id", "select", required=True, create_only=True),
                FormField("title", required=True),
                FormField("body", "long", blank_ok=True),
                FormField("language", "select", options=_LOCALES),
                FormField("tags", "lines", hint="adm.hint.tags"),
            ),
            ("hotline_id", "title", "language", "tags"),
            deletable=True,
        ),
        FormDef(
            "offers",
            _SPECS["offer template"],
            (
                FormField("hotline_id", "select", required=True, create_only=True),
                FormField("name", required=True),
                FormField("language", "select", options=_LOCALES),
                FormField("subject", required=True, blank_ok=True, hint="adm.hint.offer"),
                FormField(
                    "body",
                    "long",
                    required=True,
                    blank_ok=True,
                    hint="adm.hint.offer",
                    label="f.offer_body",
                ),
                FormField("active", "check"),
            ),
            ("hotline_id", "name", "language", "subject", "active"),
            deletable=True,
        ),
    )
}

#: the installation admin's form of a tenant (``/admin/tenants``, not one tenant's section,
#: hence not in :data:`FORMS`); the API lets a slug be set once, so it is create-only
TENANT_FORM = FormDef(
    "tenants",
    _SPECS["tenant"],
    (
        # blank_ok: an emptied name reaches the schema, which refuses it at the field
        FormField("name", required=True, blank_ok=True, label="f.tenant_name"),
        FormField("slug", required=True, create_only=True, hint="adm.hint.slug"),
    ),
    ("name", "slug"),
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]+", text) if part.strip()]


def parse_form(
    form: FormData, fields: Sequence[FormField], *, creating: bool, keep: Mapping[str, Any]
) -> dict[str, Any]:
    """The API body for a form post (strings are left for Pydantic to coerce and judge).

    ``keep`` holds values of the row that the form does not show (a hotline's special
    days) so saving the form does not drop them.
    """
    body: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        # browsers send a textarea's line breaks as CRLF (HTML: form submission); store LF
        text = raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else ""
        match f.kind:
            case "check":
                body[f.name] = raw is not None
            case "lines":
                body[f.name] = _split(text)
            case "hotlines":
                body[f.name] = [v for v in form.getlist(f.name) if isinstance(v, str)]
            case "skills":
                body[f.name] = {
                    key.removeprefix("skill:"): value.strip()
                    for key, value in form.multi_items()
                    if key.startswith("skill:") and isinstance(value, str) and value.strip()
                }
            case "hours":
                weekly = {
                    day: ranges
                    for day in DAY_NAMES
                    if (ranges := _split(str(form.get(f"hours_{day}") or "")))
                }
                hours: dict[str, Any] = {"weekly": weekly}
                if holidays := _split(str(form.get("holidays") or "")):
                    hours["holidays"] = holidays
                if keep.get("special_days"):
                    hours["special_days"] = keep["special_days"]
                body[f.name] = hours
            case "password":
                if text or creating:
                    body[f.name] = text
            case _:
                if text or f.blank_ok:
                    body[f.name] = text
                elif not creating:
                    body[f.name] = None  # cleared: nullable columns become null
    return body


def values_of(data: Mapping[str, Any], fields: Sequence[FormField]) -> dict[str, Any]:
    """Form values (strings, lists, flags) showing a row (its read schema's JSON dump)."""
    values: dict[str, Any] = {}
    for f in fields:
        value = data.get(f.name)
        match f.kind:
            case "lines":
                values[f.name] = "\n".join(value or [])
            case "hours":
                hours = value or {}
                weekly = hours.get("weekly", {}) if hours else {d: [ALWAYS] for d in DAY_NAMES}
                for day in DAY_NAMES:
                    values[f"hours_{day}"] = ", ".join(weekly.get(day, []))
                values["holidays"] = "\n".join(hours.get("holidays", []))
            case "hotlines":
                values[f.name] = [str(v) for v in value or []]
            case "skills":
                values[f.name] = {k: str(v) for k, v in (value or {}).items()}
            case "check":
                values[f.name] = bool(value)
            case "password":
                values[f.name] = ""
            case _:
                values[f.name] = "" if value is None else str(value)
    return values


def values_from_form(form: FormData, fields: Sequence[FormField]) -> dict[str, Any]:
    """What the user typed, to show the form again with their input and the errors."""
    values: dict[str, Any] = {}
    for f in fields:
        match f.kind:
            case "check":
                values[f.name] = f.name in form
            case "hotlines":
                values[f.name] = [str(v) for v in form.getlist(f.name)]
            case "skills":
                values[f.name] = {
                    k.removeprefix("skill:"): str(v)
                    for k, v in form.multi_items()
                    if k.startswith("skill:")
                }
            case "hours":
                for day in DAY_NAMES:
                    values[f"hours_{day}"] = str(form.get(f"hours_{day}") or "")
                values["holidays"] = str(form.get("holidays") or "")
            case "password":
                values[f.name] = ""
            case _:
                values[f.name] = str(form.get(f.name) or "")
    return values


_HOURS_KEYS = ("weekly", "holidays", "special_days", "timezone")


def _field_of(path: str, names: set[str]) -> str:
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head in names:
        return head
    if head in _HOURS_KEYS and "business_hours" in names:
        return "business_hours"
    return FORM


def form_errors(exc: ValidationError, fields: Sequence[FormField]) -> dict[str, list[str]]:
    """Pydantic's errors grouped by the form field they concern.

    Field validators put the field in ``loc``; model validators of the schemas put it at
    the start of the message (``after_hours_target: required when …``), which is read back.
    """
    names = {f.name for f in fields}
    out: dict[str, list[str]] = {}
    for error in exc.errors():
        msg = str(error.get("msg", "")).removeprefix("Value error, ")
        loc = [str(p) for p in error.get("loc", ())]
        if loc:
            name = _field_of(loc[0], names)
            if len(loc) > 1 and name not in ("hotline_ids",):
                msg = f"{'.'.join(loc[1:])}: {msg}"
        else:
            path, sep, rest = msg.partition(": ")
            name = _field_of(path, names) if sep and " " not in path else FORM
            if name != FORM and path == name:
                msg = rest
        out.setdefault(name, []).append(msg)
    return out


def api_error_fields(
    details: Any, message: str, fields: Sequence[FormField]
) -> dict[str, list[str]]:
    """An :class:`~hotline.web.api.errors.ApiError` of the resource hooks, by field."""
    names = {f.name for f in fields}
    out: dict[str, list[str]] = {}
    for item in details if isinstance(details, list) else []:
        loc = [str(p) for p in item.get("loc", [])] if isinstance(item, dict) else []
        name = _field_of(loc[0], names) if loc else FORM
        out.setdefault(name, []).append(str(item.get("msg", message)))
    return out or {FORM: [message]}
