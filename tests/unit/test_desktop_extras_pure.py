"""The pure parts of the desktop extras: stemming and snippets of the knowledge-base search,
the script-path check, and wall-clock times in a hotline's zone."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.web.api.callbacks import local_instant
from hotline.web.api.errors import ApiError
from hotline.web.api.kb_search import ArticleIndex, KbIndex, search_terms, snippet, stems
from hotline.web.pages.desktop_extras import ScriptPath, ScriptPathError, check_path

STEPS = {
    "a": {"text": "?", "answers": [{"label": "yes", "next": "b"}, {"label": "no", "next": None}]},
    "b": {"text": "!", "answers": [{"label": "ok", "next": None}]},
}


@pytest.mark.parametrize(
    ("words", "same"),
    [
        ("доставка доставки доставкой доставку", True),
        ("Ёлка елки", True),  # ё is read as е
        ("refunds refund refunded", True),
        ("доставка оплата", False),
    ],
)
def test_given_inflected_words_when_stemmed_then_one_stem_per_lemma(words: str, same: bool) -> None:
    assert (len(set(stems(words))) == 1) is same


def test_given_a_query_when_split_then_distinct_stems_and_no_punctuation() -> None:
    assert search_terms("Доставка, доставки?! refunds") == ["доставк", "refund"]
    assert search_terms(" ?! ") == []


def test_given_an_index_when_scored_then_every_term_must_match_and_titles_weigh_more() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    index = KbIndex()
    title_hit = index.put(1, at, "Доставка", "текст")
    body_hit = index.put(2, at, "Другое", "про доставку и доставкой")
    terms = search_terms("доставка")
    # title: 5; body: two forms of the word, 1 each
    assert (title_hit.score(terms), body_hit.score(terms)) == (5, 2)
    assert body_hit.score(search_terms("доставка оплата")) == 0
    assert index.get(1, at) is title_hit
    assert index.get(1, at + dt.timedelta(seconds=1)) is None  # edited since: stale
    assert isinstance(title_hit, ArticleIndex)


def test_given_a_long_body_when_a_snippet_is_cut_then_around_the_first_match() -> None:
    body = "вступление " * 40 + "Доставкой занимается курьер." + " хвост" * 40
    cut = snippet(body, search_terms("доставка"))
    assert cut.startswith("…") and cut.endswith("…")
    assert "Доставкой занимается курьер." in cut
    assert len(cut) <= 162


def test_given_paths_when_checked_then_only_the_scripts_edges_pass() -> None:
    ok = ScriptPath.model_validate(
        {"script_id": 1, "choices": [{"step": "a", "answer": 0}, {"step": "b", "answer": 0}]}
    )
    assert [c["label"] for c in check_path("a", STEPS, ok)] == ["yes", "ok"]
    for choices, message in (
        ([{"step": "b", "answer": 0}], "script.choices[0].step: expected 'a', got 'b'"),
        ([{"step": "a", "answer": 2}], "script.choices[0].answer: step 'a' has 2 answer(s)"),
        (
            [{"step": "a", "answer": 1}, {"step": "b", "answer": 0}],
            "script.choices[1]: the script had ended at the previous answer",
        ),
    ):
        with pytest.raises(ScriptPathError) as caught:
            check_path("a", STEPS, ScriptPath.model_validate({"script_id": 1, "choices": choices}))
        assert str(caught.value) == message


def test_given_wall_clock_times_when_converted_then_the_zones_offset_applies() -> None:
    # Moscow UTC+3 all year; New York in July is EDT, UTC-4
    assert local_instant(dt.datetime(2026, 11, 24, 10, 30), "Europe/Moscow") == dt.datetime(
        2026, 11, 24, 7, 30, tzinfo=dt.UTC
    )
    assert local_instant(dt.datetime(2026, 7, 1, 9, 0), "America/New_York") == dt.datetime(
        2026, 7, 1, 13, 0, tzinfo=dt.UTC
    )
    with pytest.raises(ApiError):  # New York skips 02:00-03:00 on 2026-03-08
        local_instant(dt.datetime(2026, 3, 8, 2, 30), "America/New_York")
