"""The desktop's "send offer": a hotline's e-mail template, filled in for the caller's
contact and sent over the same SMTP path as the scheduled reports
(:func:`hotline.report_mail.send_messages`).

Templates (``offer_templates``) are written by tenant administrators, so, like greeting
lines (:mod:`hotline.core.greeting`), they are only *parsed*: bare named placeholders
from :data:`PLACEHOLDERS` and literal text, ``{{``/``}}`` for braces; a value is inserted
verbatim and never parsed again.

SMTP is configured by the settings' ``smtp_*`` fields (:class:`hotline.settings.Settings`:
``HOTLINE_SMTP_HOST``, ``_PORT``, ``_SENDER``, ``_TIMEOUT_SECONDS``; localhost:25 by
default, the relay ``hotline report mail`` uses too), which the send-offer route passes
in.  A send never outlasts about twice the timeout: smtplib's socket timeout bounds each
step (connect, greeting, every command) and an overall deadline bounds the whole; every
failure becomes a :class:`MailError` saying whether the server could not be reached or
refused the message.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.header import Header
from email.message import EmailMessage
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid
from string import Formatter

from hotline.report_mail import send_messages

__all__ = [
    "PLACEHOLDERS",
    "MailError",
    "OfferTemplateError",
    "build_offer",
    "check_template",
    "render",
    "send_offer",
]

PLACEHOLDERS = frozenset({"name", "operator", "company", "hotline"})
"""``{name}`` the contact's name, ``{operator}`` the operator's display name, ``{company}``
the tenant's name, ``{hotline}`` the hotline's name."""


class OfferTemplateError(ValueError):
    """The template cannot be filled in; the administrator must edit it."""


class MailError(RuntimeError):
    """The offer was not sent.  ``unreachable`` is True when no mail server answered in
    time (try later, tell the administrator), False when the server refused it."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with its placeholders replaced by ``values`` (verbatim)."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise OfferTemplateError(f"unbalanced braces ({exc}); write {{{{ and }}}}") from None
    out: list[str] = []
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion is not None:
            # the field as written: "{name!r}" is refused for its conversion, not its name
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            allowed = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
            raise OfferTemplateError(f"{{{written}}}: not a placeholder (allowed: {allowed})")
        out.append(values.get(name, ""))
    return "".join(out)


def check_template(template: str) -> None:
    """Raise :class:`OfferTemplateError` unless ``template`` can be filled in: the check
    :func:`render` makes on every send, for the API to make when a template is saved."""
    render(template, {})


def build_offer(
    subject: str, body: str, *, to: str, to_name: str, values: dict[str, str], sender: str
) -> EmailMessage:
    """The message of one offer.  A header never carries a line break from the data.

    Built with the ``compat32`` policy and :class:`email.header.Header`: the default
    policy's folder (CPython 3.11–3.13) drops the space between two words when a long
    non-ASCII subject is split into RFC 2047 encoded words at that space ("для Пётр"
    arrives as "дляПётр"); the legacy folder keeps it (the e2e test caught this).
    """
    message = EmailMessage(policy=compat32)
    message["Subject"] = Header(" ".join(render(subject, values).split()), "utf-8")
    message["From"] = sender
    message["To"] = formataddr((" ".join(to_name.split()), to), charset="utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["MIME-Version"] = "1.0"
    message.set_payload(render(body, values), charset="utf-8")
    return message


async def send_offer(message: EmailMessage, *, host: str, port: int, timeout_s: float) -> None:
    """Deliver one offer through the relay ``host:port``, or raise :class:`MailError`;
    ``timeout_s`` bounds each SMTP step and twice it the whole send."""
    where = f"{host}:{port}"
    try:
        await asyncio.wait_for(
            send_messages([message], host, port, limit_s=timeout_s), timeout=2 * timeout_s
        )
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise MailError(f"the mail server {where} refused {refused}", unreachable=False) from None
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        raise MailError(
            f"the mail server {where} answered {exc.smtp_code} {text}".rstrip(), unreachable=False
        ) from None
    except (TimeoutError, OSError) as exc:  # smtplib.SMTPException is an OSError too
        why = type(exc).__name__ if not str(exc) else str(exc)
        raise MailError(f"cannot reach the mail server {where} ({why})", unreachable=True) from None
