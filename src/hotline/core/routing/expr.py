"""Skill requirements: the small expression language that says which operators a queue accepts.

A queue's ``skill_requirement`` is text written by an administrator, e.g.
``english >= 5 and (female or not german)``.  `parse_requirement` turns it into a
`Requirement` once, when the queue is saved or loaded; routing then only calls
`Requirement.matches`, which cannot fail.

Grammar (keywords and skill names are case-insensitive and normalised to lower case)::

    expr     := or_expr
    or_expr  := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | atom
    atom     := "(" expr ")" | SKILL [CMP LEVEL]
    SKILL    := [a-z][a-z0-9_]*          (but not "and", "or", "not")
    CMP      := ">=" | ">" | "<=" | "<" | "==" | "!="     ("=" is read as "==")
    LEVEL    := an integer from 1 to 10

So ``not`` binds tighter than ``and``, which binds tighter than ``or`` (as in Python and
SQL): ``a or b and c`` means ``a or (b and c)``, and ``not english >= 5`` means
``not (english >= 5)``.  Only this one spelling is accepted; ``&&``, ``||``, ``!``, ``=>``
and friends are refused with a message that names the right word.

Semantics.  An operator's skills are a mapping ``name -> level`` (levels 1-10).

* Rule 1: a skill the operator does not have counts as level 0 in every comparison.  So
  ``english < 5`` and ``english != 3`` are *true* for an operator without English, and
  ``not english`` means "has no English at all".  Write ``english and english < 5`` to
  require some English, but not much.
* Rule 2: a bare ``SKILL`` means "has the skill at any level", i.e. ``SKILL >= 1``.
* Rule 3: the empty (or whitespace-only) requirement is `ANY`: it accepts every operator.

Normalisation.  `Requirement.source` is the expression re-written canonically: lower case,
single spaces, ``=`` as ``==``, levels without leading zeros, only the parentheses that
precedence needs, and chains of the same operator flattened (``a or (b or c)`` becomes
``a or b or c``).  Two requirements are equal, and hash alike, when their normalised sources
are equal; ``parse_requirement(str(req)) == req`` always holds.

Limits.  At most `MAX_LENGTH` characters and `MAX_DEPTH` levels of nesting (parentheses
and ``not`` together), so that a hostile expression can neither exhaust the recursive
parser nor make evaluation slow.

Speed.  Parsing compiles the expression into nested closures, one per node, with the
comparison operator chosen at compile time (and ``not`` folded into a leaf comparison by
inverting it), so `Requirement.matches` does no dispatch on node types per call: about
3-4 million evaluations a second for a three-term expression on a 2-core AMD EPYC VM.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, TypeAlias

from hotline.core.model import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL

__all__ = [
    "ANY",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Requirement",
    "RequirementError",
    "parse_requirement",
]

#: Longest expression accepted, in characters; the API stores ``skill_requirement`` in a
#: 500-character column (``web.api.fields.Description``).
MAX_LENGTH = 500
#: Deepest nesting of parentheses and ``not`` accepted.  Real requirements nest two or three
#: levels; the limit keeps the recursive-descent parser far from Python's recursion limit.
MAX_DEPTH = 50

Skills: TypeAlias = Mapping[str, int]
_Predicate: TypeAlias = Callable[[Skills], bool]


class RequirementError(ValueError):
    """A skill requirement cannot be parsed; the administrator must correct the expression.

    ``message`` says what is wrong, ``position`` is the 1-based column where it is wrong
    (``len(text) + 1`` or just after the last word means "at the end"), and ``text`` is the
    expression as given.  ``str()`` reads like
    ``"english >= 11: level must be 1–10 (at column 12)"``; a long expression is shown as an
    excerpt around the column.
    """

    def __init__(self, message: str, position: int, text: str = "") -> None:
        self.message = message
        self.position = position
        self.text = text
        where = f" (at column {position})"
        super().__init__(
            f"{_excerpt(text, position - 1)}: {message}{where}" if text else f"{message}{where}"
        )

    def __reduce__(self) -> tuple[type[RequirementError], tuple[str, int, str]]:
        return type(self), (self.message, self.position, self.text)


def _excerpt(text: str, index: int, width: int = 80) -> str:
    """``text`` on one line, cut to about ``width`` characters around ``index``."""
    text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    if len(text) <= width:
        return text
    start = max(0, min(index - width // 2, len(text) - width))
    end = start + width
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


@dataclass(frozen=True, slots=True, repr=False)
class Requirement:
    """A parsed skill requirement: which operators a queue (or an expansion step) accepts.

    Build one with `parse_requirement` (or use `ANY`); the fields are filled by the parser.
    Frozen and hashable; equality and hash are those of the normalised `source`.  Pickling
    and copying go through the source (the compiled predicate is rebuilt).

    * ``source``: the normalised expression (``""`` for `ANY`); also what ``str()`` gives.
    * ``skills``: the skill names the expression refers to.
    """

    source: str
    skills: frozenset[str] = field(compare=False)
    _predicate: _Predicate = field(compare=False)

    def matches(self, skills: Skills) -> bool:
        """Whether an operator with these ``skills`` (name -> level) is accepted.

        Skills the operator lacks count as level 0 (module docstring, Rule 1).  Runs in the
        routing hot path: a few hundred nanoseconds for a three-term expression.
        """
        return self._predicate(skills)

    def score(self, skills: Skills) -> int:
        """Sum of the operator's levels in the skills this requirement refers to.

        The "best skill" strategy offers to the eligible operator with the highest score;
        skills the operator lacks add 0, and so does every skill for `ANY`.
        """
        return sum([skills.get(name, 0) for name in self.skills])

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"Requirement({self.source!r})"

    def __reduce__(self) -> tuple[Callable[[str], Requirement], tuple[str]]:
        return parse_requirement, (self.source,)


def _accept_all(skills: Skills) -> bool:
    return True


#: The empty requirement: every operator matches (what ``""`` parses to).
ANY = Requirement("", frozenset(), _accept_all)


def parse_requirement(text: str, *, known_skills: Collection[str] | None = None) -> Requirement:
    """Parse and compile a skill requirement (grammar and meaning: module docstring).

    ``known_skills``, when given, are the skill names defined for the tenant; a name outside
    them is an error (compared case-insensitively).  An empty or whitespace-only ``text``
    gives `ANY`.  Raises `RequirementError` naming the column of the first fault.
    """
    if len(text) > MAX_LENGTH:
        raise RequirementError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH + 1,
            text,
        )
    known = None if known_skills is None else frozenset(s.lower() for s in known_skills)
    node = _Parser(text, known).parse()
    if node is None:
        return ANY
    return Requirement(_render(node, 0), frozenset(_names(node)), _compile(node))


# -- syntax tree -----------------------------------------------------------------------------
# Only the parser, the renderer and the compiler see these; routing sees closures.


@dataclass(frozen=True, slots=True)
class _Compare:
    skill: str
    op: str | None  # None: a bare skill, "has it at any level"
    level: int


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _And:
    operands: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    operands: tuple[_Node, ...]


_Node: TypeAlias = _Compare | _Not | _And | _Or


def _names(node: _Node) -> set[str]:
    match node:
        case _Compare(skill=skill):
            return {skill}
        case _Not(operand=operand):
            return _names(operand)
        case _And(operands=operands) | _Or(operands=operands):
            return set().union(*(_names(o) for o in operands))


# Binding strength, loosest first; a child binding more loosely than its parent is
# parenthesised, so the output has exactly the parentheses precedence needs.
_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


def _render(node: _Node, parent: int) -> str:
    match node:
        case _Compare(skill=skill, op=None):
            return skill
        case _Compare(skill=skill, op=op, level=level):
            return f"{skill} {op} {level}"
        case _Not(operand=operand):
            return "not " + _render(operand, _NOT)
        case _And(operands=operands):
            text = " and ".join(_render(o, _AND) for o in operands)
            return f"({text})" if parent > _AND else text
        case _Or(operands=operands):
            text = " or ".join(_render(o, _OR) for o in operands)
            return f"({text})" if parent > _OR else text


# -- compiler --------------------------------------------------------------------------------

# For integers, ``not (x OP n)`` is ``x INVERSE n``.
_INVERSE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}


def _leaf(skill: str, op: str, level: int) -> _Predicate:
    # One closure per operator: the comparison is fixed here, not looked up per call.
    if op == ">=":

        def ge(skills: Skills) -> bool:
            return skills.get(skill, 0) >= level

        return ge
    if op == ">":

        def gt(skills: Skills) -> bool:
            return skills.get(skill, 0) > level

        return gt
    if op == "<=":

        def le(skills: Skills) -> bool:
            return skills.get(skill, 0) <= level

        return le
    if op == "<":

        def lt(skills: Skills) -> bool:
            return skills.get(skill, 0) < level

        return lt
    if op == "==":

        def eq(skills: Skills) -> bool:
            return skills.get(skill, 0) == level

        return eq

    def ne(skills: Skills) -> bool:
        return skills.get(skill, 0) != level

    return ne


def _compile(node: _Node) -> _Predicate:
    match node:
        case _Compare(skill=skill, op=op, level=level):
            return _leaf(skill, op or ">=", level)
        case _Not(operand=_Compare(skill=skill, op=op, level=level)):
            return _leaf(skill, _INVERSE[op or ">="], level)
        case _Not(operand=operand):
            inner = _compile(operand)

            def not_(skills: Skills) -> bool:
                return not inner(skills)

            return not_
        case _And(operands=operands):
            return _all([_compile(o) for o in operands])
        case _Or(operands=operands):
            return _any([_compile(o) for o in operands])


def _all(ps: list[_Predicate]) -> _Predicate:
    # Two and three operands are the common shapes; unrolled they save a loop per call.
    if len(ps) == 2:
        a, b = ps

        def and2(skills: Skills) -> bool:
            return a(skills) and b(skills)

        return and2
    if len(ps) == 3:
        a, b, c = ps

        def and3(skills: Skills) -> bool:
            return a(skills) and b(skills) and c(skills)

        return and3
    predicates = tuple(ps)

    def and_n(skills: Skills) -> bool:
        for p in predicates:  # noqa: SIM110 - a loop skips all()'s generator frame
            if not p(skills):
                return False
        return True

    return and_n


def _any(ps: list[_Predicate]) -> _Predicate:
    if len(ps) == 2:
        a, b = ps

        def or2(skills: Skills) -> bool:
            return a(skills) or b(skills)

        return or2
    if len(ps) == 3:
        a, b, c = ps

        def or3(skills: Skills) -> bool:
            return a(skills) or b(skills) or c(skills)

        return or3
    predicates = tuple(ps)

    def or_n(skills: Skills) -> bool:
        for p in predicates:  # noqa: SIM110 - a loop skips any()'s generator frame
            if p(skills):
                return True
        return False

    return or_n


# -- tokens and parser -----------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # "name", "and", "or", "not", "number", "cmp", "(", ")", "end"
    text: str  # as written (keywords and names lower-cased)
    start: int  # 0-based index into the expression


_TOKEN = re.compile(
    r"(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<number>-?[0-9]+(?:\.[0-9]*)?)"
    r"|(?P<cmp>>=|<=|==|!=|>|<|=)"
    r"|(?P<paren>[()])"
)
_WHITESPACE = " \t\r\n"
_KEYWORDS = frozenset({"and", "or", "not"})
# Spellings from other languages, longest first: refused with the one we use.
_HINTS = (
    ("&&", "and"),
    ("||", "or"),
    ("=>", ">="),
    ("=<", "<="),
    ("<>", "!="),
    ("&", "and"),
    ("|", "or"),
    ("≥", ">="),
    ("≤", "<="),
    ("≠", "!="),
)
_LEVELS = f"{MIN_SKILL_LEVEL}–{MAX_SKILL_LEVEL}"
_KNOWN_SHOWN = 10  # how many known skills an "unknown skill" message lists


class _Parser:
    """Recursive descent over a lazily scanned token stream, so the leftmost fault wins."""

    def __init__(self, text: str, known: frozenset[str] | None) -> None:
        self.text = text
        self.known = known
        self.pos = 0
        self.depth = 0
        self.prev: _Token | None = None
        self.tok = self._scan()

    # -- scanning

    def _scan(self) -> _Token:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            self.pos = pos
            return _Token("end", "", len(text.rstrip(_WHITESPACE)))
        for wrong, right in _HINTS:
            if text.startswith(wrong, pos):
                raise self._error(f"use '{right}' instead of '{wrong}'", pos)
        if text[pos] == "!" and not text.startswith("!=", pos):
            raise self._error("use 'not' instead of '!'", pos)
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            if char in "'\"":
                raise self._error("skill names are written without quotes", pos)
            if char.isalpha():
                raise self._error(
                    f"unexpected character {char!r}: skill names use latin letters a-z, "
                    "digits and '_'",
                    pos,
                )
            raise self._error(f"unexpected character {char!r}", pos)
        self.pos = match.end()
        kind = match.lastgroup
        word = match.group()
        if kind == "name":
            word = word.lower()
            return _Token(word if word in _KEYWORDS else "name", word, pos)
        if kind == "paren":
            return _Token(word, word, pos)
        return _Token("number" if kind == "number" else "cmp", word, pos)

    def _advance(self) -> _Token:
        self.prev, self.tok = self.tok, self._scan()
        return self.prev

    def _error(self, message: str, index: int) -> RequirementError:
        return RequirementError(message, index + 1, self.text)

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"nesting deeper than {MAX_DEPTH} levels", token.start)

    # -- grammar

    def parse(self) -> _Node | None:
        if self.tok.kind == "end":
            return None  # empty: ANY
        node = self._or()
        if self.tok.kind != "end":
            raise self._unexpected()
        return node

    def _or(self) -> _Node:
        operands = [self._and()]
        while self.tok.kind == "or":
            self._advance()
            operands.append(self._and())
        if len(operands) == 1:
            return operands[0]
        flat: list[_Node] = []
        for o in operands:
            flat.extend(o.operands if isinstance(o, _Or) else (o,))
        return _Or(tuple(flat))

    def _and(self) -> _Node:
        operands = [self._not()]
        while self.tok.kind == "and":
            self._advance()
            operands.append(self._not())
        if len(operands) == 1:
            return operands[0]
        flat: list[_Node] = []
        for o in operands:
            flat.extend(o.operands if isinstance(o, _And) else (o,))
        return _And(tuple(flat))

    def _not(self) -> _Node:
        if self.tok.kind != "not":
            return self._atom()
        self._enter(self.tok)
        self._advance()
        node = _Not(self._not())
        self.depth -= 1
        return node

    def _atom(self) -> _Node:
        tok = self.tok
        if tok.kind == "(":
            self._enter(tok)
            self._advance()
            node = self._or()
            if self.tok.kind == "end":
                raise self._error("'(' is never closed", tok.start)
            if self.tok.kind != ")":
                raise self._unexpected()
            self._advance()
            self.depth -= 1
            return node
        if tok.kind == "name":
            self._check_known(tok)
            self._advance()
            if self.tok.kind != "cmp":
                return _Compare(tok.text, None, MIN_SKILL_LEVEL)
            op = self._advance().text
            return _Compare(tok.text, "==" if op == "=" else op, self._level(op))
        raise self._missing_operand()

    def _level(self, op: str) -> int:
        tok = self.tok
        if tok.kind != "number":
            raise self._error(f"expected a level {_LEVELS} after '{op}'", tok.start)
        if "." in tok.text:
            raise self._error(f"level must be a whole number {_LEVELS}", tok.start)
        level = int(tok.text)
        if not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            raise self._error(f"level must be {_LEVELS}", tok.start)
        self._advance()
        return level

    def _check_known(self, tok: _Token) -> None:
        if self.known is None or tok.text in self.known:
            return
        if not self.known:
            raise self._error(f"unknown skill '{tok.text}' (no skills are defined)", tok.start)
        shown = sorted(self.known)[:_KNOWN_SHOWN]
        more = ", …" if len(self.known) > _KNOWN_SHOWN else ""
        raise self._error(
            f"unknown skill '{tok.text}' (known: {', '.join(shown)}{more})", tok.start
        )

    # -- error messages

    def _missing_operand(self) -> RequirementError:
        tok = self.tok
        if tok.kind == "end":
            after = f" after '{self.prev.text}'" if self.prev is not None else ""
            return self._error(f"missing operand{after}", tok.start)
        if tok.kind == ")" and self.prev is not None and self.prev.kind == "(":
            return self._error("empty parentheses", self.prev.start)
        if tok.kind == "number":
            return self._error(
                f"expected a skill name before '{tok.text}' (e.g. 'english >= {tok.text}')",
                tok.start,
            )
        if tok.kind == "cmp":
            return self._error(f"missing skill name before '{tok.text}'", tok.start)
        return self._error(f"missing operand before '{tok.text}'", tok.start)

    def _unexpected(self) -> RequirementError:
        """After a complete operand: the token is neither 'and', 'or', ')' nor the end."""
        tok = self.tok
        if tok.kind == ")":
            return self._error("unmatched ')'", tok.start)
        if tok.kind == "number" and self.prev is not None and self.prev.kind == "name":
            return self._error(
                f"missing comparison before '{tok.text}' (e.g. '{self.prev.text} >= {tok.text}')",
                tok.start,
            )
        if tok.kind == "cmp":
            return self._error(
                f"unexpected '{tok.text}': compare one skill name with one level "
                "(e.g. 'english >= 5')",
                tok.start,
            )
        return self._error(f"missing 'and' or 'or' before '{tok.text}'", tok.start)
