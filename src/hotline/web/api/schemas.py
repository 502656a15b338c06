"""Request and response bodies (Pydantic 2).  Each resource has ``*Create`` (POST),
``*Update`` (PATCH: every field optional, only the fields sent change) and ``*Read``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from hotline.core.greeting import GreetingTemplateError, validate_greeting_template
from hotline.core.hours import HoursError, parse_hours_spec
from hotline.core.model import (
    DEFAULT_CALLBACK_THRESHOLD_SECONDS,
    DEFAULT_SERVICE_LEVEL_SECONDS,
    DEFAULT_SERVICE_LEVEL_TARGET,
    MAX_SKILL_LEVEL,
    MIN_SKILL_LEVEL,
    AfterHoursAction,
    Channel,
    Direction,
    EventType,
    OverflowAction,
    Role,
    RoutingStrategy,
)
from hotline.core.routing.expr import RequirementError, parse_requirement
from hotline.offer_mail import OfferTemplateError, check_template
from hotline.web.api.fields import (
    Description,
    Id,
    Identifier,
    JsonObject,
    Language,
    Login,
    LongText,
    Name,
    Password,
    Phone,
    PositiveSeconds,
    Seconds,
    Secret,
    ShortText,
    Slug,
    Tag,
    Template,
    TimeZoneName,
    Title,
)

DEFAULT_GREETING = "Здравствуйте, меня зовут {operator}, компания {company}"
_ZONES = frozenset(available_timezones())


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel):
    """A page of a list; ``total`` counts every row the caller may see with these filters."""

    items: list[Any]
    total: int
    limit: int
    offset: int


# -- tenants ---------------------------------------------------------------------------------


class TenantCreate(Body):
    name: Name
    slug: Slug


class TenantUpdate(Body):
    name: Name | None = None


class TenantRead(Out):
    id: int
    name: str
    slug: str
    created_at: dt.datetime


# -- hotlines --------------------------------------------------------------------------------


def check_timezone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Moscow)")
    return value


def check_hours(hours: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Validate a business-hours spec in the hotline's zone; return it with the zone set."""
    spec = {**hours, "timezone": timezone}
    try:
        parse_hours_spec(spec)
    except HoursError as exc:
        raise ValueError(f"business_hours.{exc}") from None
    return spec


class HotlineFields(Body):
    language: Language | None = None
    greeting_prompt: ShortText | None = None
    after_hours_action: AfterHoursAction | None = None
    after_hours_target: Phone | None = None
    topic_required: bool | None = None
    recording_enabled: bool | None = None
    recording_retention_days: int | None = Field(default=None, ge=1, le=3650)
    business_hours: JsonObject | None = Field(
        default=None,
        description='{"weekly": {"mon": ["09:00-18:00"]}, "holidays": ["2027-01-01"], '
        '"special_days": {"2026-12-31": ["09:00-15:00"]}}; omitted = always open',
    )

    @field_validator("greeting_template", check_fields=False)
    @classmethod
    def _greeting(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_greeting_template(value)
            except GreetingTemplateError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("numbers", check_fields=False)
    @classmethod
    def _unique_numbers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("numbers must not repeat")
        return value

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class HotlineCreate(HotlineFields):
    tenant_id: Id | None = Field(default=None, description="required for admins")
    name: Name
    timezone: TimeZoneName
    numbers: list[Phone] = Field(default_factory=list, max_length=50)
    greeting_template: Template = DEFAULT_GREETING

    @model_validator(mode="after")
    def _cross(self) -> HotlineCreate:
        if self.business_hours is not None:
            self.business_hours = check_hours(self.business_hours, self.timezone)
        if self.after_hours_action is AfterHoursAction.FORWARD and not self.after_hours_target:
            raise ValueError("after_hours_target: required when after_hours_action is forward")
        return self


class HotlineUpdate(HotlineFields):
    name: Name | None = None
    timezone: TimeZoneName | None = None
    numbers: list[Phone] | None = Field(default=None, max_length=50)
    greeting_template: Template | None = None


class HotlineRead(Out):
    id: int
    tenant_id: int
    name: str
    numbers: list[str]
    timezone: str
    language: str
    greeting_template: str
    greeting_prompt: str | None
    business_hours: dict[str, Any]
    after_hours_action: AfterHoursAction
    after_hours_target: str | None
    topic_required: bool
    recording_enabled: bool
    recording_retention_days: int
    created_at: dt.datetime

    @field_validator("numbers", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return [n if isinstance(n, str) else n.number for n in value]


# -- queues ----------------------------------------------------------------------------------


class QueueFields(Body):
    priority: int | None = Field(default=None, ge=-100, le=100)
    strategy: RoutingStrategy | None = None
    skill_requirement: Description | None = Field(
        default=None, description="e.g. 'english >= 5 and female'; empty = any operator"
    )
    service_level_target: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    service_level_seconds: Seconds | None = None
    short_abandon_seconds: Seconds | None = None
    wrap_up_seconds: Seconds | None = None
    callback_threshold_seconds: Seconds | None = None
    max_wait_seconds: PositiveSeconds | None = None
    overflow_action: OverflowAction | None = None
    overflow_target: ShortText | None = None

    @field_validator("skill_requirement")
    @classmethod
    def _requirement(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_requirement(value)
            except RequirementError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _overflow(self) -> QueueFields:
        needs_target = {OverflowAction.QUEUE, OverflowAction.EXTERNAL}
        if self.overflow_action in needs_target and not self.overflow_target:
            raise ValueError(
                f"overflow_target: required when overflow_action is {self.overflow_action}"
            )
        return self


class QueueCreate(QueueFields):
    hotline_id: Id
    name: Name
    priority: int = Field(default=0, ge=-100, le=100)
    strategy: RoutingStrategy = RoutingStrategy.LONGEST_IDLE
    skill_requirement: Description = ""
    service_level_target: float = Field(
        default=DEFAULT_SERVICE_LEVEL_TARGET, ge=0, le=1, allow_inf_nan=False
    )
    service_level_seconds: Seconds = DEFAULT_SERVICE_LEVEL_SECONDS
    short_abandon_seconds: Seconds = 5
    wrap_up_seconds: Seconds = 30
    callback_threshold_seconds: Seconds = DEFAULT_CALLBACK_THRESHOLD_SECONDS


class QueueUpdate(QueueFields):
    name: Name | None = None


class QueueRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    name: str
    priority: int
    strategy: RoutingStrategy
    skill_requirement: str
    service_level_target: float
    service_level_seconds: int
    short_abandon_seconds: int
    wrap_up_seconds: int
    callback_threshold_seconds: int
    max_wait_seconds: int | None
    overflow_action: OverflowAction | None
    overflow_target: str | None


# -- skills ----------------------------------------------------------------------------------


class SkillCreate(Body):
    tenant_id: Id | None = Field(default=None, description="required for admins")
    name: Identifier = Field(description="used in skill requirements, e.g. english")
    description: Description = ""


class SkillUpdate(Body):
    description: Description | None = None


class SkillRead(Out):
    id: int
    tenant_id: int
    name: str
    description: str


# -- users (operators, supervisors, clients, admins) -----------------------------------------

SkillLevel = Field(ge=MIN_SKILL_LEVEL, le=MAX_SKILL_LEVEL)


class Capacity(Body):
    """How many interactions of each channel an operator handles at once."""

    call: int = Field(default=1, ge=0, le=1)
    chat: int = Field(default=3, ge=0, le=20)
    email: int = Field(default=5, ge=0, le=50)
    sms: int = Field(default=5, ge=0, le=50)
    messenger: int = Field(default=3, ge=0, le=20)


class UserFields(Body):
    display_name: Name | None = None
    locale: Language | None = None
    active: bool | None = None
    capacity: Capacity | None = None
    hotline_ids: list[Id] | None = Field(default=None, max_length=500)
    skills: dict[Identifier, int] | None = Field(
        default=None, description="skill name → level 1–10", max_length=200
    )
    password: Password | None = None

    @field_validator("skills")
    @classmethod
    def _levels(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for name, level in (value or {}).items():
            if not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
                raise ValueError(f"{name}: level {level} is outside 1–10")
        return value


class UserCreate(UserFields):
    tenant_id: Id | None = Field(default=None, description="required for admins creating users")
    login: Login
    display_name: Name
    role: Role
    password: Password


class UserUpdate(UserFields):
    pass


class UserRead(Out):
    id: int
    tenant_id: int | None
    login: str
    display_name: str
    role: Role
    locale: str
    active: bool
    capacity: dict[str, int]
    hotline_ids: list[int]
    skills: dict[str, int]
    created_at: dt.datetime


# -- topics, scripts, knowledge base ---------------------------------------------------------


class TopicCreate(Body):
    hotline_id: Id
    kind: Literal["topic", "outcome"]
    name: Name
    counts_as: Literal["lead", "sale"] | None = None
    active: bool = True


class TopicUpdate(Body):
    name: Name | None = None
    counts_as: Literal["lead", "sale"] | None = None
    active: bool | None = None


class TopicRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    kind: str
    name: str
    counts_as: str | None
    active: bool


class ScriptAnswer(Body):
    label: Title
    next: Identifier | None = Field(default=None, description="next step id; null ends")


class ScriptStep(Body):
    text: LongText
    answers: list[ScriptAnswer] = Field(default_factory=list, max_length=20)


def check_steps(start: str | None, steps: dict[str, ScriptStep] | None) -> None:
    if steps is None:
        return
    if start is not None and start not in steps:
        raise ValueError(f"start_step: {start!r} is not one of the steps")
    for step_id, step in steps.items():
        for i, answer in enumerate(step.answers):
            if answer.next is not None and answer.next not in steps:
                raise ValueError(f"steps.{step_id}.answers[{i}].next: no step {answer.next!r}")


class ScriptCreate(Body):
    hotline_id: Id
    name: Name
    start_step: Identifier
    steps: dict[Identifier, ScriptStep] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _graph(self) -> ScriptCreate:
        check_steps(self.start_step, self.steps)
        return self


class ScriptUpdate(Body):
    name: Name | None = None
    start_step: Identifier | None = None
    steps: dict[Identifier, ScriptStep] | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _graph(self) -> ScriptUpdate:
        if (self.start_step is None) != (self.steps is None):
            raise ValueError("start_step and steps: change them together")
        check_steps(self.start_step, self.steps)
        return self


class ScriptRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    name: str
    start_step: str
    steps: dict[str, Any]


class KbArticleCreate(Body):
    hotline_id: Id
    title: Title
    body: LongText
    language: Language = "ru"
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class KbArticleUpdate(Body):
    title: Title | None = None
    body: LongText | None = None
    language: Language | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class KbArticleRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    title: str
    body: str
    language: str
    tags: list[str]
    updated_at: dt.datetime


# -- offer templates ("send offer" on the desktop) ------------------------------------------


class OfferTemplateFields(Body):
    @field_validator("subject", "body", check_fields=False)
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        """The sender's own check (:func:`hotline.offer_mail.check_template`): a template
        saved here is one the desktop can send."""
        if value is not None:
            if not value:
                raise ValueError("must not be empty: this is what the contact reads")
            try:
                check_template(value)
            except OfferTemplateError as exc:
                raise ValueError(str(exc)) from None
        return value


class OfferTemplateCreate(OfferTemplateFields):
    hotline_id: Id
    name: Name
    language: Language = "ru"
    subject: Title = Field(description="placeholders: {name} {operator} {company} {hotline}")
    body: LongText = Field(description="the same placeholders; {{ and }} for braces")
    active: bool = True


class OfferTemplateUpdate(OfferTemplateFields):
    name: Name | None = None
    language: Language | None = None
    subject: Title | None = None
    body: LongText | None = None
    active: bool | None = None


class OfferTemplateRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    name: str
    language: str
    subject: str
    body: str
    active: bool


# -- contacts --------------------------------------------------------------------------------

CustomValue = str | int | float | bool | None


class ContactFields(Body):
    name: ShortText | None = None
    phones: list[Phone] | None = Field(default=None, max_length=20)
    emails: list[EmailStr] | None = Field(default=None, max_length=20)
    custom_fields: JsonObject | None = Field(default=None, max_length=100)
    external_id: ShortText | None = None
    notes: LongText | None = None
    vip: bool | None = None


class ContactCreate(ContactFields):
    tenant_id: Id | None = Field(default=None, description="required for admins")


class ContactUpdate(ContactFields):
    pass


class ContactRead(Out):
    id: int
    tenant_id: int
    name: str
    phones: list[str]
    emails: list[str]
    custom_fields: dict[str, Any]
    external_id: str | None
    notes: str
    vip: bool
    created_at: dt.datetime


# -- interactions (read-only) ----------------------------------------------------------------


class EventRead(Out):
    seq: int
    type: EventType
    at: dt.datetime
    data: dict[str, Any]


class InteractionRead(Out):
    id: int
    tenant_id: int
    hotline_id: int
    queue_id: int | None
    channel: Channel
    direction: Direction
    contact_id: int | None
    operator_id: int | None
    source: str | None
    caller: str | None
    callee: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    topic_id: int | None
    outcome_id: int | None
    notes: str


class InteractionDetail(InteractionRead):
    events: list[EventRead]


# -- auth ------------------------------------------------------------------------------------


class LoginRequest(Body):
    login: ShortText
    password: Secret
    kind: Literal["session", "api"] = Field(
        default="api", description="session: a page cookie for a shift; api: a bearer token"
    )


class LoginResponse(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_at: dt.datetime
    user: UserRead
