"""Saying numbers and waits in Russian and English: which prompts, and what they say."""

from __future__ import annotations

import math

import pytest

from hotline.core.flows.actions import Duration, Number, Prompt, PromptItem
from hotline.telephony.prompts import (
    LESS_THAN_A_MINUTE,
    STANDARD_PROMPTS,
    TONES,
    Gender,
    PromptError,
    expand,
    plural_category,
    say_duration,
    say_number,
)

#: The names the flow engine plays, in every language.
FLOW_PROMPTS = {
    "greeting", "menu", "invalid", "after_hours", "voicemail", "callback_offer",
    "callback_confirm", "callback_accepted", "thanks", "survey", "ewt_intro",
    "position_intro", LESS_THAN_A_MINUTE,
}  # fmt: skip


def spoken(names: list[str], language: str) -> str:
    return " ".join(STANDARD_PROMPTS[language][name] for name in names)


# --- numbers -------------------------------------------------------------------------------

NUMBERS = [
    # n, Russian names (masculine), Russian names (feminine)
    (0, ["num_0"], ["num_0"]),
    (1, ["num_1"], ["num_1_f"]),
    (2, ["num_2"], ["num_2_f"]),
    (5, ["num_5"], ["num_5"]),
    (11, ["num_11"], ["num_11"]),
    (21, ["num_20", "num_1"], ["num_20", "num_1_f"]),
    (22, ["num_20", "num_2"], ["num_20", "num_2_f"]),
    (99, ["num_90", "num_9"], ["num_90", "num_9"]),
    (100, ["num_100"], ["num_100"]),
    (101, ["num_100", "num_1"], ["num_100", "num_1_f"]),
    (115, ["num_100", "num_15"], ["num_100", "num_15"]),
    (999, ["num_900", "num_90", "num_9"], ["num_900", "num_90", "num_9"]),
]
WORDS = {
    # n: (Russian, Russian feminine, English)
    0: ("ноль", "ноль", "zero"),
    1: ("один", "одна", "one"),
    2: ("два", "две", "two"),
    5: ("пять", "пять", "five"),
    11: ("одиннадцать", "одиннадцать", "eleven"),
    21: ("двадцать один", "двадцать одна", "twenty one"),
    22: ("двадцать два", "двадцать две", "twenty two"),
    99: ("девяносто девять", "девяносто девять", "ninety nine"),
    100: ("сто", "сто", "one hundred"),
    101: ("сто один", "сто одна", "one hundred one"),
    115: ("сто пятнадцать", "сто пятнадцать", "one hundred fifteen"),
    999: ("девятьсот девяносто девять", "девятьсот девяносто девять", "nine hundred ninety nine"),
}


@pytest.mark.parametrize(("n", "ru", "ru_feminine"), NUMBERS)
def test_given_number_then_golden_names_and_words(
    n: int, ru: list[str], ru_feminine: list[str]
) -> None:
    assert say_number(n, "ru") == ru
    assert say_number(n, "ru", gender="feminine") == ru_feminine
    # English has one form, and its names are the masculine Russian ones.
    assert say_number(n, "en") == say_number(n, "en", gender="feminine") == ru
    ru_text, ru_feminine_text, en_text = WORDS[n]
    assert spoken(ru, "ru") == ru_text
    assert spoken(ru_feminine, "ru") == ru_feminine_text
    assert spoken(ru, "en") == en_text


def test_given_121_feminine_then_sto_dvadtsat_odna() -> None:
    assert spoken(say_number(121, "ru", gender="feminine"), "ru") == "сто двадцать одна"
    assert spoken(say_number(212, "ru", gender="feminine"), "ru") == "двести двенадцать"


@pytest.mark.parametrize(
    ("n", "text"), [(1, "одно"), (2, "два"), (21, "двадцать одно"), (111, "сто одиннадцать")]
)
def test_given_neuter_noun_then_odno_and_dva(n: int, text: str) -> None:
    assert spoken(say_number(n, "ru", gender="neuter"), "ru") == text
    assert say_number(n, "ru", gender="masculine") == say_number(n, "ru")


GENDERS: tuple[Gender | None, ...] = (None, "masculine", "feminine", "neuter")


@pytest.mark.parametrize("language", ["ru", "en"])
def test_given_every_number_then_every_name_is_a_standard_prompt(language: str) -> None:
    for n in range(1000):
        for gender in GENDERS:
            names = say_number(n, language, gender=gender)
            assert set(names) <= STANDARD_PROMPTS[language].keys(), (n, names)
            assert names == sorted(names, key=lambda name: -int(name.split("_")[1])), names


@pytest.mark.parametrize("n", [-1, 1000])
def test_given_number_out_of_range_then_prompt_error(n: int) -> None:
    with pytest.raises(PromptError, match=f"say_number: {n} is outside 0–999"):
        say_number(n, "ru")


def test_given_unknown_language_then_prompt_error_lists_the_known() -> None:
    with pytest.raises(PromptError, match=r"language 'de'.*\['ru', 'en'\]"):
        say_number(5, "de")


@pytest.mark.parametrize(
    ("n", "category"),
    [(0, "many"), (1, "one"), (2, "few"), (4, "few"), (5, "many"), (11, "many"), (12, "many"),
     (14, "many"), (20, "many"), (21, "one"), (22, "few"), (25, "many"), (101, "one"),
     (111, "many"), (112, "many"), (122, "few"), (999, "many")],
)  # fmt: skip
def test_given_number_then_russian_plural_category(n: int, category: str) -> None:
    assert plural_category(n, "ru") == category
    assert plural_category(n, "en") == ("one" if n == 1 else "other")


# --- waits ---------------------------------------------------------------------------------

DURATIONS = [
    # seconds, ru names, ru text, en text
    (0, [LESS_THAN_A_MINUTE], "меньше минуты", "less than a minute"),
    (5, ["num_10", "second_many"], "десять секунд", "ten seconds"),
    (59, ["num_1_f", "minute_one"], "одна минута", "one minute"),
    (60, ["num_1_f", "minute_one"], "одна минута", "one minute"),
    (61, ["num_2_f", "minute_few"], "две минуты", "two minutes"),
    (179, ["num_3", "minute_few"], "три минуты", "three minutes"),
    (180, ["num_3", "minute_few"], "три минуты", "three minutes"),
    (181, ["num_4", "minute_few"], "четыре минуты", "four minutes"),
    (3600, ["num_60", "minute_many"], "шестьдесят минут", "sixty minutes"),
]


@pytest.mark.parametrize(("seconds", "ru", "ru_text", "en_text"), DURATIONS)
def test_given_wait_then_golden_names_and_words(
    seconds: float, ru: list[str], ru_text: str, en_text: str
) -> None:
    assert say_duration(seconds, "ru") == ru
    assert spoken(ru, "ru") == ru_text
    assert spoken(say_duration(seconds, "en"), "en") == en_text


@pytest.mark.parametrize(
    ("seconds", "ru_text", "en_text"),
    [
        (0.4, "десять секунд", "ten seconds"),
        (10, "десять секунд", "ten seconds"),
        (10.5, "двадцать секунд", "twenty seconds"),
        (21, "тридцать секунд", "thirty seconds"),
        (50, "пятьдесят секунд", "fifty seconds"),
        (300, "пять минут", "five minutes"),
        (660, "одиннадцать минут", "eleven minutes"),
        (1260, "двадцать одна минута", "twenty one minutes"),
        (1320, "двадцать две минуты", "twenty two minutes"),
        (1440, "двадцать четыре минуты", "twenty four minutes"),
        (7260, "сто двадцать одна минута", "one hundred twenty one minutes"),
        (-3, "меньше минуты", "less than a minute"),
        (10**9, "девятьсот девяносто девять минут", "nine hundred ninety nine minutes"),
        (math.inf, "девятьсот девяносто девять минут", "nine hundred ninety nine minutes"),
    ],
)
def test_given_more_waits_then_rounded_up_and_in_the_right_form(
    seconds: float, ru_text: str, en_text: str
) -> None:
    assert spoken(say_duration(seconds, "ru"), "ru") == ru_text
    assert spoken(say_duration(seconds, "en"), "en") == en_text


@pytest.mark.parametrize("language", ["ru", "en"])
def test_given_every_wait_up_to_17_hours_then_every_name_is_a_standard_prompt(
    language: str,
) -> None:
    for seconds in range(0, 999 * 60 + 1, 7):
        names = say_duration(seconds, language)
        assert set(names) <= STANDARD_PROMPTS[language].keys(), (seconds, names)


def test_given_nan_wait_then_prompt_error() -> None:
    with pytest.raises(PromptError, match="NaN"):
        say_duration(math.nan, "ru")


# --- the set and expand ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "en"])
def test_given_language_then_flow_prompts_and_tones_are_there(language: str) -> None:
    assert STANDARD_PROMPTS[language].keys() >= FLOW_PROMPTS
    assert all(text.strip() for text in STANDARD_PROMPTS[language].values())
    assert {"beep", "moh"} == TONES.keys()
    assert not TONES.keys() & STANDARD_PROMPTS[language].keys()


def test_given_play_items_then_expand_says_numbers_and_waits() -> None:
    items: list[str | PromptItem] = [
        Prompt("ewt_intro"),
        Duration(130),
        "position_intro",
        Number(21),
        Number(21, gender="feminine"),
    ]
    assert expand(items, "ru") == [
        "ewt_intro", "num_3", "minute_few", "position_intro", "num_20", "num_1", "num_20",
        "num_1_f",
    ]  # fmt: skip
    assert spoken(expand(items, "en"), "en") == (
        "The estimated waiting time is three minutes Your position in the queue is "
        "twenty one twenty one"
    )
