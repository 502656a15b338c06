"""CRUD endpoints for one resource, built from a :class:`ResourceSpec`.

Every resource gets the same five endpoints, the same role check (``core.access``), the same
scoped session (``store.scope``), the same audit entries and the same errors, so an endpoint
cannot forget any of them.  Resource-specific work (owner resolution, child rows, derived
fields) is in the spec's hooks.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoint annotations,
# which name the spec's schema classes, at runtime.

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource
from hotline.store import models as m
from hotline.web.api.deps import ApiContext, Ctx, Session, require
from hotline.web.api.errors import ErrorBody, forbidden, invalid, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX

Row = TypeVar("Row", bound=m.Base)

Build = Callable[[AsyncSession, Principal, Any, dt.datetime], Awaitable[Any]]
Apply = Callable[[AsyncSession, Principal, Any, dict[str, Any], dt.datetime], Awaitable[None]]
Present = Callable[[Any], BaseModel]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 422)
}


@dataclass
class ResourceSpec(Generic[Row]):
    """What makes one resource: its table, schemas and the hooks that differ."""

    name: str
    path: str
    resource: Resource
    model: type[Row]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    read_schema: type[BaseModel]
    build: Build
    apply: Apply
    present: Present | None = None
    #: columns that list endpoints may filter on with ``?column=value``
    filters: Sequence[str] = ()
    order_by: Sequence[str] = ("id",)
    big_ids: bool = False
    tags: list[str | Enum] = field(default_factory=list)

    def to_read(self, row: Any) -> BaseModel:
        if self.present is not None:
            return self.present(row)
        return self.read_schema.model_validate(row)


async def resolve_tenant(session: AsyncSession, principal: Principal, tenant_id: int | None) -> int:
    """The tenant a new row belongs to: the caller's own, or for admins the one named."""
    if principal.is_admin:
        if tenant_id is None:
            raise invalid("tenant_id", "required when an admin creates tenant data")
        if await session.get(m.Tenant, tenant_id) is None:
            raise invalid("tenant_id", f"no tenant {tenant_id}")
        return tenant_id
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise forbidden("you may only create data in your own tenant")
    assert principal.tenant_id is not None  # noqa: S101 - non-admins always have a tenant
    return principal.tenant_id


async def visible_hotline(session: AsyncSession, hotline_id: int, field_name: str) -> m.Hotline:
    """A hotline the session's principal may see, or a 422 naming the field."""
    hotline = (
        await session.execute(select(m.Hotline).where(m.Hotline.id == hotline_id))
    ).scalar_one_or_none()
    if hotline is None:
        raise invalid(field_name, f"no hotline {hotline_id} visible to you")
    return hotline


async def build_plain(
    session: AsyncSession, principal: Principal, body: Any, model: type[Any]
) -> Any:
    """Default ``build``: tenant-owned or hotline-owned rows from the body's fields."""
    data = body.model_dump(exclude={"tenant_id"})
    if issubclass(model, m.HotlineOwned):
        hotline = await visible_hotline(session, body.hotline_id, "hotline_id")
        data["tenant_id"] = hotline.tenant_id
    else:
        data["tenant_id"] = await resolve_tenant(session, principal, body.tenant_id)
    return model(**data)


async def apply_plain(
    _session: AsyncSession,
    _principal: Principal,
    row: Any,
    changes: dict[str, Any],
    _now: dt.datetime,
) -> None:
    for key, value in changes.items():
        setattr(row, key, value)


def audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    spec_name: str,
    row: Any,
    now: dt.datetime,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        m.AuditEntry(
            tenant_id=getattr(row, "tenant_id", None) if spec_name != "tenant" else row.id,
            user_id=principal.user_id,
            at=now,
            action=action,
            entity=spec_name,
            entity_id=str(row.id),
            details=details or {},
        )
    )


def crud_router(spec: ResourceSpec[Any]) -> APIRouter:
    router = APIRouter(prefix=spec.path, tags=spec.tags or [spec.path.strip("/")], responses=ERRORS)
    model = spec.model
    read_schema = spec.read_schema
    create_schema = spec.create_schema
    update_schema = spec.update_schema
    id_max = INT64_MAX if spec.big_ids else INT32_MAX
    ItemId = Annotated[int, Path(ge=1, le=id_max, description=f"{spec.name} id")]  # noqa: N806
    can_read = Depends(require(Action.READ, spec.resource))
    can_write = Depends(require(Action.WRITE, spec.resource))

    async def load(session: AsyncSession, item_id: int) -> Any:
        row = (await session.execute(select(model).where(model.id == item_id))).scalar_one_or_none()
        if row is None:
            raise not_found(spec.name, item_id)
        return row

    class PageOut(BaseModel):
        items: list[read_schema]  # type: ignore[valid-type]
        total: int
        limit: int
        offset: int

    PageOut.__name__ = f"{read_schema.__name__}Page"
    PageOut.__qualname__ = PageOut.__name__

    @router.get("", response_model=PageOut, summary=f"List {spec.name}s you may see")
    async def list_items(
        session: Session,
        principal: Annotated[Principal, can_read],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
        hotline_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
        tenant_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    ) -> Any:
        query = select(model)
        for column, value in (("hotline_id", hotline_id), ("tenant_id", tenant_id)):
            if value is not None:
                if column not in spec.filters:
                    raise invalid(column, f"{spec.name}s cannot be filtered by {column}")
                query = query.where(getattr(model, column) == value)
        total = (
            await session.execute(select(func.count()).select_from(query.subquery()))
        ).scalar_one()
        query = query.order_by(*(getattr(model, c) for c in spec.order_by))
        rows = (await session.execute(query.limit(limit).offset(offset))).scalars().all()
        return {
            "items": [spec.to_read(r) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @router.get("/{item_id}", response_model=read_schema, summary=f"Get one {spec.name}")
    async def get_item(
        item_id: ItemId,
        session: Session,
        principal: Annotated[Principal, can_read],
    ) -> Any:
        return spec.to_read(await load(session, item_id))

    @router.post("", response_model=read_schema, status_code=201, summary=f"Create a {spec.name}")
    async def create_item(
        body: create_schema,  # type: ignore[valid-type]
        ctx: Ctx,
        session: Session,
        principal: Annotated[Principal, can_write],
    ) -> Any:
        now = ctx.clock()
        row = await spec.build(session, principal, body, now)
        session.add(row)
        await session.flush()
        audit(session, principal, "create", spec.name, row, now)
        await session.commit()
        await session.refresh(row)
        await _reload_live(ctx, spec.name)
        return spec.to_read(row)

    @router.patch("/{item_id}", response_model=read_schema, summary=f"Change a {spec.name}")
    async def update_item(
        item_id: ItemId,
        body: update_schema,  # type: ignore[valid-type]
        ctx: Ctx,
        session: Session,
        principal: Annotated[Principal, can_write],
    ) -> Any:
        now = ctx.clock()
        row = await load(session, item_id)
        changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        # named before ``apply``, which pops the fields it handles itself (numbers, skills…)
        fields = sorted(k for k in changes if k != "password")
        await spec.apply(session, principal, row, changes, now)
        audit(session, principal, "update", spec.name, row, now, {"fields": fields})
        await session.commit()
        await session.refresh(row)
        await _reload_live(ctx, spec.name)
        return spec.to_read(row)

    @router.delete(
        "/{item_id}", status_code=204, response_class=Response, summary=f"Delete a {spec.name}"
    )
    async def delete_item(
        item_id: ItemId,
        ctx: Ctx,
        session: Session,
        principal: Annotated[Principal, can_write],
    ) -> Response:
        row = await load(session, item_id)
        audit(session, principal, "delete", spec.name, row, ctx.clock())
        await session.delete(row)
        await session.commit()
        await _reload_live(ctx, spec.name)
        return Response(status_code=204)

    return router


#: resources whose rows the running contact center reads from its directory snapshot
_LIVE_RESOURCES = frozenset({"hotline", "queue", "user", "skill", "tenant"})


async def _reload_live(ctx: ApiContext, resource: str) -> None:
    """Let calls see a configuration change at once (numbers, hours, new queues…)."""
    if ctx.live is not None and resource in _LIVE_RESOURCES:
        await ctx.live.reload()
