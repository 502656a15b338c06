"""Who may do what: the role × resource table and the principal it is applied to.

Rule 1: a principal sees only its tenant (admins see every tenant).
Rule 2: operators, and supervisors limited to a site, see only their hotlines' rows.
Rule 3: what a role may do with a kind of resource is the table below; anything missing
        is forbidden.
The store applies rules 1–2 to every query in one place (``hotline.store.scope``); the
API applies rule 3 before touching the store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hotline.core.model import Role


class Resource(enum.StrEnum):
    TENANT = "tenant"
    HOTLINE = "hotline"
    QUEUE = "queue"
    SKILL = "skill"
    USER = "user"
    TOPIC = "topic"
    SCRIPT = "script"
    KB_ARTICLE = "kb_article"
    CONTACT = "contact"
    INTERACTION = "interaction"
    CALLBACK = "callback"
    RECORDING = "recording"
    AUDIT = "audit"
    FLOW = "flow"  # a hotline's IVR flow versions
    CALL = "call"  # live call control (hold, transfer, hang up) and operator states
    REPORT = "report"  # KPI reports (read) and imports of interaction history (write)


class Action(enum.StrEnum):
    READ = "read"
    WRITE = "write"


_R = frozenset({Action.READ})
_RW = frozenset({Action.READ, Action.WRITE})

#: Rule 3.  Clients get read-only reports of their tenant and never see contacts' personal
#: data or scripts; operators read configuration and work with contacts and callbacks.
POLICY: dict[Role, dict[Resource, frozenset[Action]]] = {
    Role.ADMIN: dict.fromkeys(Resource, _RW),
    Role.SUPERVISOR: {
        Resource.TENANT: _R,
        Resource.HOTLINE: _RW,
        Resource.QUEUE: _RW,
        Resource.SKILL: _RW,
        Resource.USER: _RW,
        Resource.TOPIC: _RW,
        Resource.SCRIPT: _RW,
        Resource.KB_ARTICLE: _RW,
        Resource.CONTACT: _RW,
        Resource.INTERACTION: _R,
        Resource.CALLBACK: _RW,
        Resource.RECORDING: _R,
        Resource.AUDIT: _R,
        Resource.FLOW: _RW,
        Resource.CALL: _RW,
        Resource.REPORT: _RW,
    },
    Role.OPERATOR: {
        Resource.TENANT: _R,
        Resource.HOTLINE: _R,
        Resource.QUEUE: _R,
        Resource.SKILL: _R,
        Resource.USER: _R,
        Resource.TOPIC: _R,
        Resource.SCRIPT: _R,
        Resource.KB_ARTICLE: _R,
        Resource.CONTACT: _RW,
        Resource.INTERACTION: _R,
        Resource.CALLBACK: _RW,
        Resource.CALL: _RW,
    },
    Role.CLIENT: {
        Resource.TENANT: _R,
        Resource.HOTLINE: _R,
        Resource.QUEUE: _R,
        Resource.TOPIC: _R,
        Resource.INTERACTION: _R,
        Resource.RECORDING: _R,
        Resource.FLOW: _R,
        Resource.REPORT: _R,
    },
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user as the access rules see them.

    ``hotline_ids`` is ``None`` when the principal is not limited to some hotlines of its
    tenant (admins, clients, tenant-wide supervisors).
    """

    user_id: int
    login: str
    role: Role
    tenant_id: int | None
    hotline_ids: frozenset[int] | None = None

    def may(self, action: Action, resource: Resource) -> bool:
        return action in POLICY[self.role].get(resource, frozenset())

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def sees_tenant(self, tenant_id: int | None) -> bool:
        """Rule 1 for a single row."""
        return self.is_admin or (tenant_id is not None and tenant_id == self.tenant_id)

    def sees_hotline(self, tenant_id: int | None, hotline_id: int) -> bool:
        """Rules 1 and 2 for a single hotline-owned row."""
        if not self.sees_tenant(tenant_id):
            return False
        return self.hotline_ids is None or hotline_id in self.hotline_ids


def hotline_limit(role: Role, assigned: frozenset[int]) -> frozenset[int] | None:
    """Rule 2: operators are limited to their hotlines; a supervisor with assignments is a
    site supervisor limited to them; everyone else sees the whole tenant."""
    if role is Role.OPERATOR:
        return assigned
    if role is Role.SUPERVISOR and assigned:
        return assigned
    return None
