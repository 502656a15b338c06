"""Creating users, shared by ``hotline user add`` and (later) the REST API.

The rules that keep the access model of :mod:`hotline.core.access` coherent live here, so
that no caller can create a user the scope rules would misread:

Rule 1: an admin belongs to no tenant (they see every tenant); everyone else belongs to
        exactly one, named by its slug.
Rule 2: hotline assignments are for operators (the hotlines they serve) and supervisors (a
        site); admins and clients see the whole tenant, so an assignment would be ignored
        and is refused instead of silently dropped.
Rule 3: logins are unique across the installation (they are what people type to log in).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hotline.core.model import Role
from hotline.security import hash_password
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api.fields import LOGIN_PATTERN

#: What an operator can hold at once (DESIGN.md §1: "e.g. 1 call or 3 chats").
DEFAULT_OPERATOR_CAPACITY: dict[str, int] = {"call": 1, "chat": 3}
#: Below this a password is guessable by the login throttle's budget within days.
MIN_PASSWORD_LENGTH = 8
#: The API's rule, so a login made here can be typed there (lowercase letters, digits, ``._-``:
#: the same in a URL, a SIP user part and a shell).
_LOGIN = re.compile(LOGIN_PATTERN)


class UserError(ValueError):
    """The request to create a user is wrong; the message says which part and how to fix it.

    ``error_id`` is stable (the API returns it as is); ``details`` names the offending value.
    """

    def __init__(self, error_id: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details or {}


def validate_login(login: str) -> None:
    """Raise :class:`UserError` unless ``login`` is 2–64 of ``[a-z0-9._-]``."""
    if not _LOGIN.match(login):
        raise UserError(
            "user.invalid_login",
            f"login {login!r}: use 2–64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            {"login": login},
        )


def validate_password(password: str) -> None:
    """Raise :class:`UserError` when ``password`` is shorter than :data:`MIN_PASSWORD_LENGTH`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            "user.weak_password",
            f"password: at least {MIN_PASSWORD_LENGTH} characters are required "
            "(leave it out to get a random one)",
            {"min_length": MIN_PASSWORD_LENGTH},
        )


async def create_user(
    db: Database,
    *,
    login: str,
    role: Role,
    tenant_slug: str | None,
    display_name: str | None,
    password: str,
    hotline_ids: Iterable[int] = (),
    now: datetime,
) -> m.User:
    """Create one user and return it (detached, with ``id`` set).

    ``display_name`` defaults to the login.  Operators get the default capacity
    (:data:`DEFAULT_OPERATOR_CAPACITY`).  Raises :class:`UserError` on a duplicate login, an
    unknown tenant or hotline, or a role/tenant/hotline combination the module rules refuse;
    nothing is written then.
    """
    validate_login(login)
    validate_password(password)
    wanted_hotlines = sorted(set(hotline_ids))
    if role is Role.ADMIN and tenant_slug is not None:
        raise UserError(
            "user.admin_with_tenant",
            "an admin belongs to no tenant (admins see every tenant): drop --tenant",
            {"role": role.value, "tenant": tenant_slug},
        )
    if role is not Role.ADMIN and tenant_slug is None:
        raise UserError(
            "user.tenant_required",
            f"{role.value}s belong to one tenant: give its slug with --tenant",
            {"role": role.value},
        )
    if wanted_hotlines and role not in (Role.OPERATOR, Role.SUPERVISOR):
        raise UserError(
            "user.hotlines_not_applicable",
            f"{role.value}s see the whole tenant; hotlines are assigned only to "
            "operators and supervisors",
            {"role": role.value, "hotlines": wanted_hotlines},
        )

    # argon2 takes a noticeable fraction of a second by design; keep the event loop free.
    password_hash = await asyncio.to_thread(hash_password, password)
    async with db.system_session() as session:
        if await session.scalar(sa.select(m.User.id).where(m.User.login == login)) is not None:
            raise UserError(
                "user.duplicate_login", f"login {login!r} is already taken", {"login": login}
            )
        tenant_id: int | None = None
        if tenant_slug is not None:
            tenant_id = await session.scalar(
                sa.select(m.Tenant.id).where(m.Tenant.slug == tenant_slug)
            )
            if tenant_id is None:
                raise UserError(
                    "user.unknown_tenant",
                    f"no tenant with slug {tenant_slug!r}",
                    {"tenant": tenant_slug},
                )
        if wanted_hotlines:
            found = set(
                await session.scalars(
                    sa.select(m.Hotline.id).where(
                        m.Hotline.id.in_(wanted_hotlines), m.Hotline.tenant_id == tenant_id
                    )
                )
            )
            missing = [h for h in wanted_hotlines if h not in found]
            if missing:
                raise UserError(
                    "user.unknown_hotline",
                    f"hotline(s) {', '.join(map(str, missing))} do not exist in tenant "
                    f"{tenant_slug!r}",
                    {"hotlines": missing, "tenant": tenant_slug},
                )
        user = m.User(
            tenant_id=tenant_id,
            login=login,
            display_name=display_name or login,
            role=role,
            password_hash=password_hash,
            capacity=dict(DEFAULT_OPERATOR_CAPACITY) if role is Role.OPERATOR else {},
            created_at=now,
            hotline_links=[m.UserHotline(hotline_id=h) for h in wanted_hotlines],
        )
        session.add(user)
        try:
            await session.commit()
        except IntegrityError:
            # Another writer took the login between our check and the commit.
            raise UserError(
                "user.duplicate_login", f"login {login!r} is already taken", {"login": login}
            ) from None
        return user
