"""Operator greeting templates: what is refused, and rendering that never runs str.format."""

from __future__ import annotations

import pickle
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.greeting import (
    PLACEHOLDERS,
    GreetingTemplateError,
    render_greeting,
    validate_greeting_template,
)

RUSSIAN = "Здравствуйте, меня зовут {operator}, компания {company}"


def test_renders_the_russian_greeting() -> None:
    validate_greeting_template(RUSSIAN)
    assert render_greeting(RUSSIAN, operator="Анна", company="Матрёшка") == (
        "Здравствуйте, меня зовут Анна, компания Матрёшка"
    )


def test_renders_every_placeholder_and_hotline_defaults_to_empty() -> None:
    template = "{company} / {hotline}: {operator}"
    assert render_greeting(template, operator="Ann", company="ACME", hotline="Support") == (
        "ACME / Support: Ann"
    )
    assert render_greeting(template, operator="Ann", company="ACME") == "ACME / : Ann"
    assert sorted(PLACEHOLDERS) == ["company", "hotline", "operator"]


def test_placeholders_may_repeat_and_text_may_be_empty() -> None:
    assert render_greeting("{operator}{operator}", operator="ab", company="") == "abab"
    assert render_greeting("", operator="x", company="y") == ""


def test_doubled_braces_are_literal_braces() -> None:
    assert render_greeting("{{operator}} is {operator}", operator="Ann", company="") == (
        "{operator} is Ann"
    )


def test_values_are_inserted_verbatim_and_never_parsed() -> None:
    # With str.format applied twice, "{company}" in a name would be expanded; here it is not.
    assert render_greeting(
        "Hi, I am {operator}", operator="{company} {0.__class__} }{", company="ACME"
    ) == ("Hi, I am {company} {0.__class__} }{")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            "Hello {name}",
            "{name}: unknown placeholder (allowed: {company}, {hotline}, {operator})",
        ),
        (
            "Hello { operator }",
            "{ operator }: unknown placeholder (allowed: {company}, {hotline}, {operator})",
        ),
        (
            "Hello {Operator}",
            "{Operator}: unknown placeholder (allowed: {company}, {hotline}, {operator})",
        ),
        ("Hello {}", "{}: positional placeholders are not allowed, use a name"),
        ("Hello {0}", "{0}: positional placeholders are not allowed, use a name"),
        (
            "Hello {operator.__class__}",
            "{operator.__class__}: attribute and index access are not allowed",
        ),
        (
            "{operator.__class__.__mro__[1].__subclasses__}",
            "{operator.__class__.__mro__[1].__subclasses__}: "
            "attribute and index access are not allowed",
        ),
        ("{operator[0]}", "{operator[0]}: attribute and index access are not allowed"),
        ("{0.__globals__}", "{0.__globals__}: attribute and index access are not allowed"),
        ("{operator!r}", "{operator!r}: conversions (!r, !s, !a) are not allowed"),
        ("{operator!s}", "{operator!s}: conversions (!r, !s, !a) are not allowed"),
        ("{operator:>1000000000}", "{operator:>1000000000}: format specs are not allowed"),
        ("{operator:{company}}", "{operator:{company}}: format specs are not allowed"),
        (
            "Hello {operator",
            "unbalanced or malformed braces (expected '}' before end of string); "
            "write {{ and }} for literal braces",
        ),
        (
            "Hello operator}",
            "unbalanced or malformed braces (Single '}' encountered in format string); "
            "write {{ and }} for literal braces",
        ),
        (
            "Hello {",
            "unbalanced or malformed braces (Single '{' encountered in format string); "
            "write {{ and }} for literal braces",
        ),
        (
            "{operator!}",
            "unbalanced or malformed braces (unmatched '{' in format spec); "
            "write {{ and }} for literal braces",
        ),
    ],
)
def test_refused_templates_name_the_fault(template: str, problem: str) -> None:
    with pytest.raises(GreetingTemplateError) as caught:
        validate_greeting_template(template)
    assert caught.value.problems == (problem,)
    assert str(caught.value) == problem
    with pytest.raises(GreetingTemplateError):
        render_greeting(template, operator="Ann", company="ACME")


def test_every_fault_is_listed_in_order() -> None:
    with pytest.raises(GreetingTemplateError) as caught:
        validate_greeting_template("{operator} {name} {company.x} {hotline!r} {other}")
    allowed = "(allowed: {company}, {hotline}, {operator})"
    assert caught.value.problems == (
        f"{{name}}: unknown placeholder {allowed}",
        "{company.x}: attribute and index access are not allowed",
        "{hotline!r}: conversions (!r, !s, !a) are not allowed",
        f"{{other}}: unknown placeholder {allowed}",
    )
    assert str(caught.value) == "; ".join(caught.value.problems)


def test_template_must_be_a_string() -> None:
    with pytest.raises(GreetingTemplateError) as caught:
        validate_greeting_template(cast(str, None))
    assert caught.value.problems == ("template must be a string, got NoneType",)


def test_error_is_a_value_error_and_survives_pickling() -> None:
    assert issubclass(GreetingTemplateError, ValueError)
    error = GreetingTemplateError(("a", "b"))
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.problems, str(copy)) == (("a", "b"), "a; b")


brace_free = st.text().filter(lambda text: "{" not in text and "}" not in text)


@given(text=brace_free, operator=st.text(), company=st.text())
def test_text_without_braces_renders_as_itself(text: str, operator: str, company: str) -> None:
    assert render_greeting(text, operator=operator, company=company) == text


@given(before=brace_free, after=brace_free, operator=st.text(), company=st.text())
def test_any_value_is_inserted_verbatim(
    before: str, after: str, operator: str, company: str
) -> None:
    template = f"{before}{{operator}}{after}{{company}}"
    assert render_greeting(template, operator=operator, company=company) == (
        f"{before}{operator}{after}{company}"
    )


@given(template=st.text(alphabet="{}!:.[]0ao r", max_size=20))
def test_validation_and_rendering_agree(template: str) -> None:
    # Rendering refuses exactly what validation refuses. No name can be spelt with this
    # alphabet, so an accepted template holds only literal text and doubled braces.
    try:
        validate_greeting_template(template)
    except GreetingTemplateError as error:
        with pytest.raises(GreetingTemplateError) as caught:
            render_greeting(template, operator="OP", company="CO")
        assert caught.value.problems == error.problems
    else:
        rendered = render_greeting(template, operator="OP", company="CO")
        assert rendered == template.replace("{{", "{").replace("}}", "}")
