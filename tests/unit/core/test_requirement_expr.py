"""Skill-requirement expressions: grammar, meaning, errors with columns, and properties.

The property tests check `Requirement.matches` against a reference written independently
of the parser: the generated expression is translated, token by token, into a Python
expression over a dict of levels and evaluated by Python (whose ``not``/``and``/``or``
precedence is the one the grammar promises).
"""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Mapping

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.core.routing.expr import (
    ANY,
    MAX_DEPTH,
    MAX_LENGTH,
    Requirement,
    RequirementError,
    parse_requirement,
)
from hotline.web.api.schemas import QueueCreate, QueueUpdate


def matches(text: str, **levels: int) -> bool:
    return parse_requirement(text).matches(levels)


# -- meaning ---------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    assert str(parse_requirement("a or b and c")) == "a or b and c"
    assert matches("a or b and c", a=1)
    assert not matches("a or b and c", b=1)
    assert matches("a or b and c", b=1, c=1)
    assert not matches("c and b or a", b=1)
    assert matches("c and b or a", a=1)


def test_parentheses_override_precedence() -> None:
    assert not matches("(a or b) and c", a=1)
    assert matches("(a or b) and c", a=1, c=1)
    assert str(parse_requirement("(a or b) and c")) == "(a or b) and c"


def test_not_binds_tightest() -> None:
    assert matches("not a", b=3)
    assert not matches("not a", a=1)
    # (not a) and b
    assert matches("not a and b", b=1)
    assert not matches("not a and b")
    # not (a and b)
    assert matches("not (a and b)", a=1)
    assert not matches("not (a and b)", a=1, b=1)
    # not applies to the whole comparison
    assert matches("not english >= 5", english=4)
    assert not matches("not english >= 5", english=5)
    assert matches("not not a", a=2)
    assert not matches("not not a")


@pytest.mark.parametrize(
    ("op", "level", "have", "expected"),
    [
        (">=", 5, 5, True),
        (">=", 5, 4, False),
        (">", 5, 6, True),
        (">", 5, 5, False),
        ("<=", 5, 5, True),
        ("<=", 5, 6, False),
        ("<", 5, 4, True),
        ("<", 5, 5, False),
        ("==", 5, 5, True),
        ("==", 5, 6, False),
        ("=", 5, 5, True),
        ("=", 5, 4, False),
        ("!=", 5, 4, True),
        ("!=", 5, 5, False),
    ],
)
def test_each_comparison(op: str, level: int, have: int, expected: bool) -> None:
    text = f"english {op} {level}"
    assert matches(text, english=have) is expected
    assert matches(f"not {text}", english=have) is not expected
    assert matches(f"not ({text})", english=have) is not expected


def test_single_equals_is_normalised_to_double() -> None:
    assert str(parse_requirement("english=5")) == "english == 5"
    assert parse_requirement("english = 5") == parse_requirement("english == 5")


def test_bare_skill_means_any_level() -> None:
    for level in range(1, 11):
        assert matches("english", english=level)
    assert not matches("english", german=5)
    assert not matches("english")


def test_missing_skill_counts_as_level_zero() -> None:
    assert matches("english < 5")
    assert matches("english <= 1")
    assert matches("english != 3")
    assert not matches("english == 1")
    assert not matches("english >= 1")
    # the documented way to ask for "some English, but not much"
    assert not matches("english and english < 5")
    assert matches("english and english < 5", english=3)


def test_case_and_whitespace_are_normalised() -> None:
    req = parse_requirement("  English>=05\tAND\n(NOT German OR Female)  ")
    assert req.source == "english >= 5 and (not german or female)"
    assert str(req) == req.source
    assert req.skills == frozenset({"english", "german", "female"})
    assert req.matches({"english": 5, "female": 1, "german": 9})
    assert parse_requirement("a>=5and b") == parse_requirement("a >= 5 and b")


def test_redundant_parentheses_and_chains_are_flattened() -> None:
    assert str(parse_requirement("((a))")) == "a"
    assert str(parse_requirement("a or (b or c)")) == "a or b or c"
    assert str(parse_requirement("(a and b) and (c and d)")) == "a and b and c and d"
    assert str(parse_requirement("(a and b) or c")) == "a and b or c"
    assert str(parse_requirement("not (not a)")) == "not not a"
    assert str(parse_requirement("NOT (a AND b)")) == "not (a and b)"
    assert str(parse_requirement("not (a or b) and c")) == "not (a or b) and c"
    assert str(parse_requirement("(not a) and (b >= 2)")) == "not a and b >= 2"
    assert str(parse_requirement("a and (b or c) and d")) == "a and (b or c) and d"


def test_long_chains() -> None:
    assert matches("a and b and c and d", a=1, b=1, c=1, d=1)
    assert not matches("a and b and c and d", a=1, b=1, c=1)
    assert matches("a or b or c or d", d=1)
    assert not matches("a or b or c or d", e=1)


def test_empty_requirement_is_any() -> None:
    assert parse_requirement("") is ANY
    assert parse_requirement(" \t\n ") is ANY
    assert ANY.matches({})
    assert ANY.matches({"english": 3})
    assert ANY.skills == frozenset()
    assert str(ANY) == ""
    assert ANY.score({"english": 3}) == 0


def test_score_sums_the_referenced_levels() -> None:
    req = parse_requirement("english >= 5 and (female or not german)")
    assert req.score({"english": 7, "female": 1, "french": 9}) == 8
    assert req.score({"german": 2}) == 2
    assert req.score({}) == 0


def test_equality_and_hash_follow_the_normalised_source() -> None:
    a = parse_requirement("English >= 5 AND female")
    b = parse_requirement("english>=5 and (female)")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, parse_requirement("female and english >= 5")}) == 2
    assert a != parse_requirement("english > 5 and female")
    assert repr(a) == "Requirement('english >= 5 and female')"


def test_pickle_and_copy_rebuild_the_predicate() -> None:
    req = parse_requirement("english >= 5 and not german")
    pickled = pickle.loads(pickle.dumps(req))  # noqa: S301 - our own bytes
    for clone in (pickled, copy.deepcopy(req), copy.copy(req)):
        assert clone == req
        assert clone.matches({"english": 6})
        assert not clone.matches({"english": 6, "german": 1})
    assert pickle.loads(pickle.dumps(ANY)) is ANY  # noqa: S301 - our own bytes


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        # levels
        ("english >= 11", "level must be 1–10", 12),
        ("english >= 0", "level must be 1–10", 12),
        ("english >= -1", "level must be 1–10", 12),
        ("english >= 5.5", "level must be a whole number 1–10", 12),
        ("english >=", "expected a level 1–10 after '>='", 11),
        ("english >= german", "expected a level 1–10 after '>='", 12),
        # unknown characters, and the spellings of other languages
        ("english $ 5", "unexpected character '$'", 9),
        ("english >= 5 && female", "use 'and' instead of '&&'", 14),
        ("english || female", "use 'or' instead of '||'", 9),
        ("english & female", "use 'and' instead of '&'", 9),
        ("!english", "use 'not' instead of '!'", 1),
        ("english => 5", "use '>=' instead of '=>'", 9),
        ("english ≥ 5", "use '>=' instead of '≥'", 9),
        ("'english'", "skill names are written without quotes", 1),
        (
            "английский",
            "unexpected character 'а': skill names use latin letters a-z, digits and '_'",
            1,
        ),
        # missing operands
        ("english and", "missing operand after 'and'", 12),
        ("english and   ", "missing operand after 'and'", 12),
        ("not", "missing operand after 'not'", 4),
        ("or female", "missing operand before 'or'", 1),
        ("english and or female", "missing operand before 'or'", 13),
        ("english and >= 5", "missing skill name before '>='", 13),
        ("5 >= english", "expected a skill name before '5' (e.g. 'english >= 5')", 1),
        ("()", "empty parentheses", 1),
        ("a and ()", "empty parentheses", 7),
        # parentheses
        ("(english or female", "'(' is never closed", 1),
        ("a and ((b or c)", "'(' is never closed", 7),
        ("english)", "unmatched ')'", 8),
        ("(a or b))", "unmatched ')'", 9),
        # trailing garbage
        ("english female", "missing 'and' or 'or' before 'female'", 9),
        ("(english female)", "missing 'and' or 'or' before 'female'", 10),
        ("english 5", "missing comparison before '5' (e.g. 'english >= 5')", 9),
        ("english (female)", "missing 'and' or 'or' before '('", 9),
        (
            "english >= 5 >= 3",
            "unexpected '>=': compare one skill name with one level (e.g. 'english >= 5')",
            14,
        ),
    ],
)
def test_errors_name_the_fault_and_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(RequirementError) as caught:
        parse_requirement(text)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.message, error.position, error.text) == (message, column, text)
    assert str(error) == f"{text}: {message} (at column {column})"


def test_error_example_from_the_docs() -> None:
    with pytest.raises(
        RequirementError, match=r"^english >= 11: level must be 1–10 \(at column 12\)$"
    ):
        parse_requirement("english >= 11")


def test_error_survives_pickling() -> None:
    error = RequirementError("level must be 1–10", 12, "english >= 11")
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (clone.message, clone.position, clone.text, str(clone)) == (
        error.message,
        error.position,
        error.text,
        str(error),
    )
    assert str(RequirementError("bad", 3)) == "bad (at column 3)"


def test_length_limit() -> None:
    assert parse_requirement("a" * MAX_LENGTH).skills == {"a" * MAX_LENGTH}
    assert parse_requirement(" " * (MAX_LENGTH - 1) + "a").source == "a"
    too_long = "a" * (MAX_LENGTH + 1)
    with pytest.raises(RequirementError) as caught:
        parse_requirement(too_long)
    assert caught.value.message == "expression is 501 characters long; the limit is 500"
    assert caught.value.position == MAX_LENGTH + 1
    # a long expression is shown as an excerpt, not in full
    assert str(caught.value).startswith("…aaaa")
    assert len(str(caught.value)) < 200


def test_nesting_limit() -> None:
    assert parse_requirement("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH).source == "a"
    text = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(RequirementError, match="nesting deeper than 50 levels") as caught:
        parse_requirement(text)
    assert caught.value.position == MAX_DEPTH + 1  # the 51st "("
    assert parse_requirement("not " * MAX_DEPTH + "a").matches({}) is (MAX_DEPTH % 2 == 1)
    with pytest.raises(RequirementError) as caught:
        parse_requirement("not " * (MAX_DEPTH + 1) + "a")
    assert caught.value.position == 4 * MAX_DEPTH + 1  # the 51st "not"
    # parentheses and "not" count together
    half = MAX_DEPTH // 2
    assert parse_requirement("(not " * half + "a" + ")" * half).skills == {"a"}
    with pytest.raises(RequirementError) as caught:
        parse_requirement("(not " * half + "(a)" + ")" * half)
    assert caught.value.position == 5 * half + 1


def test_known_skills() -> None:
    known = ["english", "female", "german"]
    req = parse_requirement("English >= 5 and not german", known_skills=known)
    assert req.skills == {"english", "german"}
    assert parse_requirement("english", known_skills=["English"]).skills == {"english"}
    assert parse_requirement("", known_skills=[]) is ANY
    with pytest.raises(RequirementError) as caught:
        parse_requirement("female and englsh >= 5", known_skills=known)
    assert str(caught.value) == (
        "female and englsh >= 5: unknown skill 'englsh' (known: english, female, german) "
        "(at column 12)"
    )
    with pytest.raises(RequirementError, match=r"unknown skill 'x' \(no skills are defined\)"):
        parse_requirement("x", known_skills=())
    many = [f"skill_{i:02}" for i in range(12)]
    with pytest.raises(RequirementError) as caught:
        parse_requirement("x", known_skills=many)
    assert caught.value.message == ("unknown skill 'x' (known: " + ", ".join(many[:10]) + ", …)")


def test_keywords_are_not_skill_names() -> None:
    with pytest.raises(RequirementError, match="missing operand before 'and'"):
        parse_requirement("and >= 5", known_skills=["and"])


# -- properties ------------------------------------------------------------------------------

SKILL_NAMES = ("a", "b", "english", "skill_2")
# (our spelling, Python's spelling)
COMPARISONS = (
    (">=", ">="),
    (">", ">"),
    ("<=", "<="),
    ("<", "<"),
    ("==", "=="),
    ("!=", "!="),
    ("=", "=="),
)

# A generated expression: (our text, the same in Python over a dict L, nesting depth).
Generated = tuple[str, str, int]


def _case(word: str, upper: bool) -> str:
    return word.upper() if upper else word


@st.composite
def atoms(draw: st.DrawFn) -> Generated:
    name = draw(st.sampled_from(SKILL_NAMES))
    upper = draw(st.booleans())
    if draw(st.booleans()):
        return _case(name, upper), f"(L.get({name!r}, 0) >= 1)", 0
    ours, python = draw(st.sampled_from(COMPARISONS))
    level = draw(st.integers(1, 10))
    space = draw(st.sampled_from(["", " "]))
    text = f"{_case(name, upper)}{space}{ours}{space}{level}"
    return text, f"(L.get({name!r}, 0) {python} {level})", 0


def _paren(child: Generated, paren: bool = True) -> Generated:
    if not paren:
        return child
    return f"({child[0]})", f"({child[1]})", child[2] + 1


def _not(child: Generated, upper: bool, paren: bool) -> Generated:
    text, python, depth = _paren(child, paren)
    return f"{_case('not', upper)} {text}", f"not {python}", depth + 1


def _binary(
    word: str, upper: bool, left: Generated, right: Generated, parens: tuple[bool, bool]
) -> Generated:
    left, right = _paren(left, parens[0]), _paren(right, parens[1])
    return (
        f"{left[0]} {_case(word, upper)} {right[0]}",
        f"{left[1]} {word} {right[1]}",
        max(left[2], right[2]),
    )


def _extend(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    # Parentheses are drawn where operands are combined, so that "not (a and b)",
    # "(a or b) and c" and their unparenthesised twins are all common.
    flags = st.booleans()
    return st.one_of(
        st.builds(_not, children, flags, flags),
        st.builds(
            _binary,
            st.sampled_from(["and", "or"]),
            flags,
            children,
            children,
            st.tuples(flags, flags),
        ),
    )


expressions = st.recursive(atoms(), _extend, max_leaves=10)
skill_maps = st.dictionaries(st.sampled_from(SKILL_NAMES), st.integers(1, 10))


def reference(python: str, levels: Mapping[str, int]) -> bool:
    result = eval(python, {"__builtins__": {}}, {"L": dict(levels)})  # noqa: S307 - test only
    assert isinstance(result, bool)
    return result


@given(expressions, st.lists(skill_maps, min_size=1, max_size=5))
def test_matches_agrees_with_python(generated: Generated, maps: list[dict[str, int]]) -> None:
    text, python, depth = generated
    assume(len(text) <= MAX_LENGTH and depth <= MAX_DEPTH)
    req = parse_requirement(text)
    for levels in maps:
        assert req.matches(levels) is reference(python, levels), (text, levels)


@given(expressions, st.lists(skill_maps, min_size=1, max_size=5))
def test_normalised_source_round_trips(generated: Generated, maps: list[dict[str, int]]) -> None:
    text, python, depth = generated
    assume(len(text) <= MAX_LENGTH and depth <= MAX_DEPTH)
    req = parse_requirement(text)
    again = parse_requirement(str(req))
    assert isinstance(again, Requirement)
    assert again == req
    assert str(again) == str(req)
    assert hash(again) == hash(req)
    assert again.skills == req.skills
    for levels in maps:  # the normalised text means what the original meant
        assert again.matches(levels) is reference(python, levels), (text, str(req), levels)


@given(expressions, skill_maps)
def test_skills_and_score(generated: Generated, levels: dict[str, int]) -> None:
    text, _, depth = generated
    assume(len(text) <= MAX_LENGTH and depth <= MAX_DEPTH)
    req = parse_requirement(text)
    words = set(re.findall(r"[a-z][a-z0-9_]*", text.lower()))
    assert req.skills == words - {"and", "or", "not"}
    assert req.score(levels) == sum(levels.get(name, 0) for name in req.skills)


# -- API validation --------------------------------------------------------------------------


def test_queue_schema_rejects_a_bad_requirement() -> None:
    with pytest.raises(ValidationError) as caught:
        QueueCreate(hotline_id=1, name="q", skill_requirement="english >=")
    (error,) = caught.value.errors()
    assert error["loc"] == ("skill_requirement",)
    assert "skill_requirement" in str(caught.value)
    assert "expected a level 1–10 after '>=' (at column 11)" in error["msg"]
    with pytest.raises(ValidationError, match="skill_requirement"):
        QueueUpdate(skill_requirement="english && female")


def test_queue_schema_accepts_a_good_requirement() -> None:
    assert QueueCreate(hotline_id=1, name="q").skill_requirement == ""
    queue = QueueCreate(hotline_id=1, name="q", skill_requirement="English >= 5 and female")
    assert queue.skill_requirement == "English >= 5 and female"  # stored as written
    assert QueueUpdate().skill_requirement is None
