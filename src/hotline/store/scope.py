"""The tenant scope, applied to every ORM query and every flush in one place.

A session is opened either for a :class:`~hotline.core.access.Principal` or explicitly as
``system`` (CLI, demo seeding, login).  A session with neither refuses to query: forgetting
the scope is an error, never a silent leak across tenants.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from hotline.core.access import Principal
from hotline.core.model import Role
from hotline.store import models as m

PRINCIPAL = "principal"
SYSTEM = "system"


class ScopedSession(Session):
    """The ORM session every Hotline session uses; the scope hooks listen on it alone."""


class OutOfScopeError(PermissionError):
    """A write or query tried to cross the principal's tenant or hotlines."""


def principal_of(session: Session) -> Principal | None:
    value = session.info.get(PRINCIPAL)
    return value if isinstance(value, Principal) else None


def _mapped_subclasses(marker: type) -> list[type[Any]]:
    return [
        mapper.class_ for mapper in m.Base.registry.mappers if issubclass(mapper.class_, marker)
    ]


# Criteria are attached per mapped class (not to the marker mixins, which have no columns).
_TENANT_OWNED = _mapped_subclasses(m.TenantOwned)
_HOTLINE_OWNED = _mapped_subclasses(m.HotlineOwned)


def _criteria(p: Principal) -> list[Any]:
    """Rules 1 and 2 of ``hotline.core.access`` as loader criteria for one principal."""
    if p.is_admin:
        return []
    tid = p.tenant_id
    opts: list[Any] = [
        with_loader_criteria(cls, lambda c: c.tenant_id == tid, include_aliases=True)
        for cls in _TENANT_OWNED
    ]
    opts.append(with_loader_criteria(m.Tenant, lambda c: c.id == tid, include_aliases=True))
    if p.role is Role.OPERATOR:
        uid = p.user_id
        opts.append(with_loader_criteria(m.User, lambda c: c.id == uid, include_aliases=True))
    else:
        opts.append(
            with_loader_criteria(m.User, lambda c: c.tenant_id == tid, include_aliases=True)
        )
    if p.hotline_ids is not None:
        ids = sorted(p.hotline_ids)
        opts.extend(
            with_loader_criteria(cls, lambda c: c.hotline_id.in_(ids), include_aliases=True)
            for cls in _HOTLINE_OWNED
        )
        opts.append(with_loader_criteria(m.Hotline, lambda c: c.id.in_(ids), include_aliases=True))
    return opts


@event.listens_for(ScopedSession, "do_orm_execute")
def _scope_queries(state: ORMExecuteState) -> None:
    session = state.session
    if session.info.get(SYSTEM):
        return
    p = principal_of(session)
    if p is None:
        raise OutOfScopeError("query on a session without a principal or system flag")
    if state.is_select or state.is_update or state.is_delete:
        opts = _criteria(p)
        if opts:
            state.statement = state.statement.options(*opts)


@event.listens_for(ScopedSession, "before_flush")
def _scope_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    if session.info.get(SYSTEM):
        return
    p = principal_of(session)
    if p is None:
        raise OutOfScopeError("write on a session without a principal or system flag")
    for obj in (*session.new, *session.dirty, *session.deleted):
        _check_row(p, obj)


def _check_row(p: Principal, obj: object) -> None:
    if p.is_admin:
        return
    if isinstance(obj, m.Tenant):
        ok = obj.id == p.tenant_id
    elif isinstance(obj, m.User):
        ok = obj.tenant_id == p.tenant_id and obj.role is not Role.ADMIN
    elif isinstance(obj, m.HotlineOwned):
        ok = p.sees_hotline(obj.tenant_id, obj.hotline_id)
    elif isinstance(obj, m.Hotline):
        ok = p.sees_tenant(obj.tenant_id) and (
            p.hotline_ids is None or obj.id is None or obj.id in p.hotline_ids
        )
    elif isinstance(obj, m.TenantOwned):
        ok = p.sees_tenant(obj.tenant_id)
    else:
        return  # link rows (numbers, skills of a user) ride on their owner's check
    if not ok:
        raise OutOfScopeError(f"{type(obj).__name__} outside the principal's scope")
