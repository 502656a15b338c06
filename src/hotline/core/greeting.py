"""The operator greeting line of a hotline, e.g. ``Здравствуйте, меня зовут {operator}, {company}``.

Templates are written by tenant administrators, so they are untrusted. ``str.format`` on
such a template would let ``{operator.__class__.__mro__}`` or ``{operator[0]}`` walk object
attributes, and a format spec such as ``{operator:>1000000000}`` allocate without bound.
Here a template is only *parsed* (``string.Formatter().parse``, which evaluates nothing) and
may contain bare named placeholders from `PLACEHOLDERS` and literal text, with ``{{`` and
``}}`` for literal braces; the value of a placeholder is inserted verbatim, never parsed.
"""

from __future__ import annotations

from string import Formatter

__all__ = ["PLACEHOLDERS", "GreetingTemplateError", "render_greeting", "validate_greeting_template"]

PLACEHOLDERS = frozenset({"operator", "company", "hotline"})
"""Names a greeting template may use: the operator's display name, the tenant company's
name and the hotline's name."""


class GreetingTemplateError(ValueError):
    """A greeting template is not acceptable; the administrator must edit it.

    ``problems`` lists every fault found (one entry per bad placeholder); ``str()`` joins
    them. Brace errors stop the parse, so they come alone.
    """

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[GreetingTemplateError], tuple[tuple[str, ...]]]:
        return type(self), (self.problems,)  # picklable: args hold the joined message


_ALLOWED = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))


def _parse(template: str) -> list[tuple[str, str | None]]:
    """``(literal text, placeholder name or None)`` pairs, or `GreetingTemplateError`."""
    if not isinstance(template, str):
        raise GreetingTemplateError((f"template must be a string, got {type(template).__name__}",))
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as error:  # "Single '}' encountered in format string", ...
        raise GreetingTemplateError(
            (f"unbalanced or malformed braces ({error}); write {{{{ and }}}} for literal braces",)
        ) from None
    problems: list[str] = []
    pieces: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        pieces.append((literal, name))
        if name is None:
            continue
        field = f"{{{name}{'' if conversion is None else '!' + conversion}"
        field += f"{'' if not spec else ':' + spec}}}"
        if name == "" or name.isdigit():
            problems.append(f"{field}: positional placeholders are not allowed, use a name")
        elif "." in name or "[" in name:
            problems.append(f"{field}: attribute and index access are not allowed")
        elif conversion is not None:
            problems.append(f"{field}: conversions (!r, !s, !a) are not allowed")
        elif spec:
            problems.append(f"{field}: format specs are not allowed")
        elif name not in PLACEHOLDERS:
            problems.append(f"{field}: unknown placeholder (allowed: {_ALLOWED})")
    if problems:
        raise GreetingTemplateError(tuple(problems))
    return pieces


def validate_greeting_template(template: str) -> None:
    """Raise `GreetingTemplateError` unless ``template`` is safe to render.

    Refused: unbalanced braces; placeholders outside `PLACEHOLDERS`; positional
    placeholders (``{}``, ``{0}``); attribute or index access (``{operator.__class__}``,
    ``{operator[0]}``); conversions (``{operator!r}``); format specs (``{operator:>10}``).
    """
    _parse(template)


def render_greeting(template: str, *, operator: str, company: str, hotline: str = "") -> str:
    """The greeting with placeholders replaced by the given values, inserted verbatim.

    Validates first (`validate_greeting_template`); never calls ``str.format`` on the
    template, so a value such as ``"{company}"`` stays as written.
    """
    values = {"operator": operator, "company": company, "hotline": hotline}
    return "".join(
        literal + ("" if name is None else values[name]) for literal, name in _parse(template)
    )
