"""The pure parts of the desktop's rules and figures: the operator's own KPIs over queue
visits (hand-computed), what a wrap-up still lacks, and offer templates filled in."""

from __future__ import annotations

import email
import email.policy

import pytest

from hotline.core.kpi import QueueVisit, VisitOutcome
from hotline.offer_mail import OfferTemplateError, build_offer, render
from hotline.web.pages.desktop_kpis import own_kpis
from hotline.web.pages.wrap_up_rule import MissingWrapUp, missing_fields

OP = 7
DAY = 1_000_000.0  # the day's start, seconds


def _answered(iid: int, queue: int, arrived: float, wait: float, talk: float | None = None,
              wrap: float | None = None, operator: int = OP) -> QueueVisit:  # fmt: skip
    answered = arrived + wait
    return QueueVisit(
        interaction_id=iid,
        queue_id=queue,
        arrived_at=arrived,
        outcome=VisitOutcome.ANSWERED,
        answered_at=answered,
        ended_at=None if talk is None else answered + talk,
        operator_id=operator,
        wrap_up=wrap,
    )


def test_given_answered_visits_in_queues_with_their_own_thresholds_then_sl_of_answered() -> None:
    visits = [
        _answered(1, 10, DAY + 60, wait=5, talk=100, wrap=20),  # T 20: within
        _answered(2, 10, DAY + 120, wait=21, talk=50, wrap=10),  # T 20: not within
        _answered(3, 11, DAY + 180, wait=21, talk=30, wrap=0),  # T 30: within
        _answered(4, 12, DAY + 240, wait=20),  # no queue known: the default T 20, within
        _answered(5, 10, DAY - 1, wait=1, talk=5, wrap=5),  # yesterday
        _answered(6, 10, DAY + 60, wait=1, talk=5, wrap=5, operator=8),  # someone else
        QueueVisit(
            interaction_id=7,
            queue_id=10,
            arrived_at=DAY + 10,
            outcome=VisitOutcome.ABANDONED,
            ended_at=DAY + 50,
        ),
    ]
    marks = {1: "sale", 2: "lead", 3: "sale", 5: "sale", 6: "sale"}
    kpis = own_kpis(OP, visits, DAY, {10: 20.0, 11: 30.0}, marks)
    assert (kpis.answered, kpis.answered_within) == (4, 3)
    assert kpis.sl_answered == 0.75
    # handled: 1, 2, 3; AHT ((100 + 20) + (50 + 10) + (30 + 0)) / 3 = 70
    assert (kpis.handled, kpis.aht) == (3, 70.0)
    assert (kpis.sales, kpis.leads) == (2, 1)


def test_given_a_call_answered_twice_by_the_operator_then_its_sale_counts_once() -> None:
    visits = [
        _answered(1, 10, DAY, wait=1, talk=10, wrap=1),
        _answered(1, 11, DAY + 100, wait=40, talk=10, wrap=1),  # transferred back to them
    ]
    kpis = own_kpis(OP, visits, DAY, {10: 20.0, 11: 20.0}, {1: "sale"})
    assert (kpis.answered, kpis.answered_within, kpis.sl_answered) == (2, 1, 0.5)
    assert kpis.sales == 1


def test_given_no_answered_visit_then_ratios_are_null_not_zero() -> None:
    kpis = own_kpis(OP, [], DAY, {}, {})
    assert kpis.as_dict() == {
        "handled": 0,
        "aht": None,
        "answered": 0,
        "answered_within": 0,
        "sl_answered": None,
        "sales": 0,
        "leads": 0,
    }


@pytest.mark.parametrize(
    ("required", "topic", "outcome", "missing"),
    [
        (False, None, None, ()),
        (True, 1, 2, ()),
        (True, 1, None, ("outcome",)),
        (True, None, 2, ("topic",)),
        (True, None, None, ("topic", "outcome")),
    ],
)
def test_given_a_wrap_up_when_checked_then_what_it_lacks(
    required: bool, topic: int | None, outcome: int | None, missing: tuple[str, ...]
) -> None:
    assert missing_fields(required, topic, outcome) == missing


def test_given_a_missing_wrap_up_then_the_message_names_the_interaction_and_the_fields() -> None:
    gap = MissingWrapUp(42, 3, "Shop", "+79161234567", ("topic", "outcome"))
    assert gap.message == (
        "interaction 42 from +79161234567 on hotline 'Shop' has no topic and no outcome "
        "recorded: save its wrap-up (topic and outcome) before going ready"
    )
    assert gap.details()[0]["missing"] == ["topic", "outcome"]


def test_given_a_template_when_rendered_then_values_verbatim_and_braces_literal() -> None:
    values = {"name": "{operator}", "operator": "Анна", "company": "Матрёшка", "hotline": "H"}
    assert render("Привет, {name}! {{x}} — {operator}, {company}", values) == (
        "Привет, {operator}! {x} — Анна, Матрёшка"
    )


@pytest.mark.parametrize(
    "template", ["{name.__class__}", "{0}", "{name!r}", "{name:>99}", "{unknown}", "{name"]
)
def test_given_an_unsafe_template_when_rendered_then_refused(template: str) -> None:
    with pytest.raises(OfferTemplateError):
        render(template, {"name": "x"})


def test_given_a_name_with_line_breaks_when_building_then_no_header_is_split() -> None:
    values = {"name": "Eve\r\nBcc: all@example.com", "operator": "", "company": "", "hotline": ""}
    message = build_offer(
        "Hi {name}", "Body", to="eve@example.com", to_name=values["name"], values=values,
        sender="offers@example.com",
    )  # fmt: skip
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Hi Eve Bcc: all@example.com"
    assert parsed["Bcc"] is None
    assert parsed["To"].addresses[0].addr_spec == "eve@example.com"  # one address, quoted


@pytest.mark.parametrize(
    "subject",
    [
        "Матрёшка: скидка 10 % для Пётр Сидоров",  # folded at "для Пётр" by the default policy
        "Матрёшка: коллекция недели и бесплатная доставка для {name} " * 4,
        "Plain ASCII subject, long enough to be folded somewhere along the way " * 2,
    ],
)
def test_given_a_long_cyrillic_subject_when_sent_then_it_arrives_word_for_word(
    subject: str,
) -> None:
    values = {"name": "Пётр Сидоров", "operator": "Анна", "company": "Матрёшка", "hotline": ""}
    message = build_offer(
        subject, "Здравствуйте, {name}!", to="p@example.com", to_name="Пётр Сидоров",
        values=values, sender="offers@example.com",
    )  # fmt: skip
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == " ".join(render(subject, values).split())
    assert parsed["To"] == "Пётр Сидоров <p@example.com>"
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content() == "Здравствуйте, Пётр Сидоров!"
