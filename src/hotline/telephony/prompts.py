"""The standard prompt set, saying numbers and waits, and the prompt files on disk.

A hotline without uploaded recordings plays these prompts, rendered once by espeak-ng
and sox into 8 kHz mono 16-bit PCM WAV files under ``DIRECTORY/LANG/NAME.wav``.

* :data:`STANDARD_PROMPTS` (language → name → text) and :data:`TONES` are the data.
* :func:`say_number`, :func:`say_duration` and :func:`expand` are pure: they turn a
  number, a wait or the items of a flow's ``Play`` (``hotline.core.flows.actions``:
  ``Prompt``, ``Number``, ``Duration``) into prompt *names*.
* :func:`ensure_prompts` renders missing or outdated files and :class:`PromptLibrary`
  maps names to files: the adapter part, which runs subprocesses and reads the disk, so
  it is called at start-up or in a worker thread, never on the event loop.

Name scheme (the same in every language, so a flow names a prompt once):

* ``num_0`` … ``num_19``, ``num_20`` … ``num_90`` (tens), ``num_100`` … ``num_900``
  (hundreds: "сто", "двести"; "one hundred", "two hundred"); Russian also has the
  feminine ``num_1_f`` ("одна") and ``num_2_f`` ("две"), as for минута and секунда,
  and the neuter ``num_1_n`` ("одно").
* ``less_than_minute`` for a wait of 0;
* ``minute_CAT`` and ``second_CAT`` where CAT is the CLDR plural category of the number
  before it (unicode.org/cldr, "Language Plural Rules"): Russian ``one`` (минута),
  ``few`` (минуты), ``many`` (минут); English ``one`` (minute) and ``other`` (minutes).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, assert_never

from hotline.core.flows.actions import Duration, Number, Prompt, PromptItem

__all__ = [
    "LESS_THAN_A_MINUTE",
    "MAX_MINUTES",
    "STANDARD_PROMPTS",
    "TONES",
    "Gender",
    "PromptError",
    "PromptLibrary",
    "ensure_prompts",
    "expand",
    "plural_category",
    "say_duration",
    "say_number",
]


class PromptError(Exception):
    """A prompt is missing, or could not be rendered: the message names the prompt, and
    the Debian package when a program is missing."""


# --- the data ----------------------------------------------------------------------------

_SENTENCES: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "greeting": "Здравствуйте! Вы позвонили на горячую линию.",
        "menu": "Нажмите один, чтобы связаться с бухгалтерией, два — с отделом кадров, "
        "ноль — чтобы поговорить с оператором.",
        "invalid": "Извините, такого варианта нет. Попробуйте ещё раз.",
        "after_hours": "Сейчас мы не работаем. Оставьте сообщение после сигнала "
        "и нажмите решётку, когда закончите.",
        "voicemail": "Оставьте, пожалуйста, сообщение после сигнала. "
        "Когда закончите, нажмите решётку.",
        "callback_offer": "Время ожидания велико. Нажмите один, и мы вам перезвоним: "
        "ваша очередь сохранится.",
        "callback_confirm": "Нажмите один, если хотите, чтобы мы вам перезвонили.",
        "callback_accepted": "Спасибо! Мы перезвоним вам, как только освободится оператор. "
        "Можете положить трубку.",
        "thanks": "Спасибо за звонок. До свидания!",
        "survey": "Пожалуйста, оцените разговор от одного до пяти, где пять — отлично.",
        "ewt_intro": "Примерное время ожидания:",
        "position_intro": "Ваш номер в очереди:",
        "less_than_minute": "меньше минуты",
    },
    "en": {
        "greeting": "Hello! You have reached the hotline.",
        "menu": "Press 1 for accounting, 2 for human resources, or 0 to speak to an operator.",
        "invalid": "Sorry, that is not a valid choice. Please try again.",
        "after_hours": "We are closed now. Please leave a message after the tone, "
        "and press the pound key when you are done.",
        "voicemail": "Please leave your message after the tone. "
        "Press the pound key when you are done.",
        "callback_offer": "The wait is long. Press 1 and we will call you back; "
        "you keep your place in line.",
        "callback_confirm": "Press 1 if you want us to call you back.",
        "callback_accepted": "Thank you! We will call you back as soon as an operator is free. "
        "You can hang up now.",
        "thanks": "Thank you for calling. Goodbye!",
        "survey": "Please rate the call from 1 to 5, where 5 is excellent.",
        "ewt_intro": "The estimated waiting time is",
        "position_intro": "Your position in the queue is",
        "less_than_minute": "less than a minute",
    },
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_RU_WORDS = _words(
    "ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать "
    "тринадцать четырнадцать пятнадцать шестнадцать семнадцать восемнадцать девятнадцать "
    "двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто "
    "сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот"
)
_EN_BELOW_100 = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety"
)
_EN_WORDS = (*_EN_BELOW_100, *(f"{unit} hundred" for unit in _EN_BELOW_100[1:10]))
#: the values that have a word of their own, in the order of the word lists above
_NUMBER_VALUES = (*range(20), *range(20, 100, 10), *range(100, 1000, 100))
_WORDS: Mapping[str, Mapping[str, str]] = {
    "ru": {
        **{f"num_{n}": word for n, word in zip(_NUMBER_VALUES, _RU_WORDS, strict=True)},
        "num_1_f": "одна",
        "num_2_f": "две",
        "num_1_n": "одно",
        "minute_one": "минута",
        "minute_few": "минуты",
        "minute_many": "минут",
        "second_one": "секунда",
        "second_few": "секунды",
        "second_many": "секунд",
    },
    "en": {
        **{f"num_{n}": word for n, word in zip(_NUMBER_VALUES, _EN_WORDS, strict=True)},
        "minute_one": "minute",
        "minute_other": "minutes",
        "second_one": "second",
        "second_other": "seconds",
    },
}

#: language → prompt name → the text espeak-ng speaks.
STANDARD_PROMPTS: Mapping[str, Mapping[str, str]] = {
    language: {**_SENTENCES[language], **_WORDS[language]} for language in _SENTENCES
}
LESS_THAN_A_MINUTE = "less_than_minute"

_MOH_NOTES = _words("C4 E4 G4 C5  A3 C4 E4 A4  F3 A3 C4 F4  G3 B3 D4 G4")
#: name → (sox input options, sox effects): tones, put in every language's directory.
TONES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # 1 kHz for half a second, the tone voicemail systems commonly use (our choice).
    "beep": (
        ("-r", "8000", "-n"),
        _words("synth 0.5 sine 1000 gain -6 fade 0.01 0.5 0.01"),
    ),
    # Music on hold: an 8 s loop of plucked arpeggios, C - Am - F - G: one note per input
    # channel, started 0.25 s apart by `delay`, mixed to mono.  sox's pluck wants 48 kHz.
    "moh": (
        ("-c", "16", "-r", "48000", "-n"),
        (
            "synth",
            "8",
            *(word for note in _MOH_NOTES for word in ("pluck", note)),
            "delay",
            *(f"{chord * 2 + i * 0.25:g}" for chord in range(4) for i in range(4)),
            *_words("remix - trim 0 8 gain -n -9 fade 0.05 8 0.3 rate 8000"),
        ),
    ),
}


# --- saying numbers and waits (pure) -----------------------------------------------------


def _check_language(language: str) -> None:
    if language not in STANDARD_PROMPTS:
        raise PromptError(f"language {language!r}: the standard prompts are in {list(_SENTENCES)}")


def plural_category(n: int, language: str) -> str:
    """The CLDR plural category of a whole number: which form of a noun follows it."""
    _check_language(language)
    if language == "en":
        return "one" if n == 1 else "other"
    if n % 10 == 1 and n % 100 != 11:
        return "one"  # 1, 21, 101 минута
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"  # 2–4, 22–24 минуты
    return "many"  # 0, 5–20, 25–30 минут


def say_number(n: int, language: str, *, gender: Gender | None = None) -> list[str]:
    """Prompt names that say ``n`` (0–999): ru 121 feminine → ``["num_100", "num_20",
    "num_1_f"]`` (сто двадцать одна), en 115 → ``["num_100", "num_15"]`` (one hundred
    fifteen).  ``gender`` is that of the noun counted, as in the flow's `Number`; it
    matters in Russian only, and only for 1 and 2 (один/одна/одно, два/две/два);
    ``None`` is masculine, the form for counting ("номер пять")."""
    _check_language(language)
    if not 0 <= n <= 999:
        raise PromptError(f"say_number: {n} is outside 0–999")
    if n == 0:
        return ["num_0"]
    hundreds, rest = divmod(n, 100)
    names = [f"num_{hundreds * 100}"] if hundreds else []
    if 10 <= rest <= 19:
        return [*names, f"num_{rest}"]
    tens, units = divmod(rest, 10)
    if tens:
        names.append(f"num_{tens * 10}")
    if units:
        names.append(f"num_{units}{_GENDER_SUFFIX.get((language, gender, units), '')}")
    return names


Gender = Literal["masculine", "feminine", "neuter"]
#: The gendered forms of 1 and 2 that differ from the masculine one.
_GENDER_SUFFIX: Mapping[tuple[str, Gender | None, int], str] = {
    ("ru", "feminine", 1): "_f",
    ("ru", "feminine", 2): "_f",
    ("ru", "neuter", 1): "_n",
}

#: A wait is said in whole minutes up to this many (999: the largest number we say).
MAX_MINUTES = 999


def say_duration(seconds: float, language: str) -> list[str]:
    """Prompt names that announce a wait as call centres do.

    Rounded *up*, so the caller is not promised less than the estimate: from 60 s in
    whole minutes (61 s → "2 minutes"), below that in tens of seconds (5 s → "10
    seconds", 59 s → "1 minute"); 0 or less → ``less_than_minute``.  Longer than
    :data:`MAX_MINUTES` is said as that many minutes.
    """
    _check_language(language)
    if math.isnan(seconds):
        raise PromptError("say_duration: the wait is NaN seconds")
    if seconds <= 0:
        return [LESS_THAN_A_MINUTE]
    if seconds <= 50:
        unit, count = "second", math.ceil(seconds / 10) * 10
    elif seconds <= MAX_MINUTES * 60:
        unit, count = "minute", math.ceil(seconds / 60)  # 50.1–60 s round up to 1 minute
    else:
        unit, count = "minute", MAX_MINUTES
    # Both минута and секунда are feminine: одна минута, две секунды.
    words = say_number(count, language, gender="feminine")
    return [*words, f"{unit}_{plural_category(count, language)}"]


def expand(items: Iterable[str | PromptItem], language: str) -> list[str]:
    """The prompt names of a flow's `Play` items, in order: ``[Prompt("ewt_intro"),
    Duration(130)]`` → ``["ewt_intro", "num_3", "minute_few"]`` in Russian.  A plain
    ``str`` is short for ``Prompt(str)``."""
    names: list[str] = []
    for item in items:
        match item:
            case str():
                names.append(item)
            case Prompt(name):
                names.append(name)
            case Number(value, gender):
                names += say_number(value, language, gender=gender)
            case Duration(seconds):
                names += say_duration(seconds, language)
            case _:
                assert_never(item)
    return names


# --- files on disk (adapter: subprocesses and file I/O) ----------------------------------


def hotline_uploads_dir(data_dir: Path, hotline_id: int) -> Path:
    """Where a hotline's uploaded prompts live: ``LANG/NAME.wav`` under it."""
    return data_dir / "prompts" / "hotlines" / str(hotline_id)


def hotline_overrides(data_dir: Path, hotline_id: int) -> dict[str, Path]:
    """``{"LANG/NAME": path}`` of a hotline's uploads, as :class:`PromptLibrary` takes
    them (blocking: lists a directory; half-written uploads are not ``*.wav``)."""
    root = hotline_uploads_dir(data_dir, hotline_id)
    if not root.is_dir():
        return {}
    return {f"{p.parent.name}/{p.stem}": p for p in sorted(root.glob("*/*.wav"))}


class PromptLibrary:
    """Prompt names → WAV files, for one set of uploaded overrides.

    The constructor lists ``directory`` once (file I/O: build the library at start-up
    or in a thread); :meth:`path`, :meth:`exists` and :meth:`render` are then lookups
    in memory, safe on the event loop.  Look-up order for ``(name, language)``:

    1. ``overrides["LANG/NAME"]``, then ``overrides["NAME"]``: a hotline's uploaded
       recordings (paths to audio files; not checked here, but where they are uploaded);
    2. ``directory/LANG/NAME.wav``;
    3. the same name in the other languages, in the order of ``languages``.
    """

    def __init__(
        self,
        directory: Path,
        overrides: Mapping[str, Path] | None = None,
        *,
        languages: Sequence[str] = ("ru", "en"),
    ) -> None:
        self.directory = directory
        self.languages = tuple(languages)
        self.overrides: Mapping[str, Path] = dict(overrides or {})
        self._files: dict[tuple[str, str], Path] = {}
        if directory.is_dir():
            for path in sorted(directory.glob("*/*.wav")):
                self._files[path.parent.name, path.stem] = path

    def _find(self, name: str, language: str) -> Path | None:
        for key in (f"{language}/{name}", name):
            if key in self.overrides:
                return self.overrides[key]
        for candidate in (language, *self.languages):
            if (candidate, name) in self._files:
                return self._files[candidate, name]
        return None

    def with_overrides(self, overrides: Mapping[str, Path]) -> PromptLibrary:
        """The same standard files (no new listing) with one hotline's uploads first."""
        if not overrides:
            return self
        library = copy.copy(self)
        library.overrides = dict(overrides)
        return library

    def path(self, name: str, language: str) -> Path:
        """The file to play for ``name`` in ``language``; :class:`PromptError` if none."""
        found = self._find(name, language)
        if found is None:
            raise PromptError(
                f"no prompt {name!r} for language {language!r}: neither uploaded nor in "
                f"{self.directory} (ensure_prompts renders the standard ones)"
            )
        return found

    def exists(self, name: str, language: str) -> bool:
        """Whether :meth:`path` finds a file (any of the three places)."""
        return self._find(name, language) is not None

    def render(self, items: Iterable[str | PromptItem], language: str) -> list[Path]:
        """The files to play, in order, for a flow's ``Play`` items (see :func:`expand`)."""
        return [self.path(name, language) for name in expand(items, language)]


#: espeak-ng voices, by our language codes.
VOICES: Mapping[str, str] = {"ru": "ru", "en": "en"}
#: Words per minute: a little slower than espeak-ng's 175, for the telephone (our choice).
SPEECH_WPM = 150
MANIFEST = "manifest.json"
#: Part of every file's hash: change it when the rendering below changes, to redo all.
RECIPE_VERSION = 1
#: 8 kHz mono 16-bit signed PCM: what MediaBackend.play reads without converting.
_WAV_OUT = ("-t", "wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
#: Trim espeak-ng's leading and trailing silence, so that "сто" "двадцать" "одна" run on,
#: normalise to -3 dBFS peak, then a short pause.
_TRIM = ("silence", "1", "0.02", "0.2%", "reverse", "silence", "1", "0.02", "0.2%", "reverse")
WORKERS = 4
TOOL_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class _Job:
    """One file to render: a text to speak, or a tone (``text`` is ``None``)."""

    language: str
    name: str
    text: str | None

    @property
    def key(self) -> str:
        return f"{self.language}/{self.name}"

    def espeak_args(self, text: str) -> list[str]:
        return ["-v", VOICES[self.language], "-s", str(SPEECH_WPM), "--stdout", text]

    def sox_effects(self) -> list[str]:
        if self.text is None:
            return list(TONES[self.name][1])
        pause = "0.25" if self.name in _SENTENCES[self.language] else "0.05"
        return [*_TRIM, "gain", "-n", "-3", "pad", "0", pause]

    def digest(self) -> str:
        """What the file is made from: it is rendered again when this changes."""
        made_of = (
            [*TONES[self.name][0], *self.sox_effects()]
            if self.text is None
            else [*self.espeak_args(self.text), *self.sox_effects()]
        )
        recipe = json.dumps([RECIPE_VERSION, *made_of], ensure_ascii=False)
        return hashlib.sha256(recipe.encode()).hexdigest()


def _tool(command: str, package: str) -> str:
    found = shutil.which(command)
    if found is None:
        raise PromptError(f"{command} not found on PATH: install the Debian package {package}")
    return found


def _run(job: _Job, argv: Sequence[str], stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(  # noqa: S603 - our tools, our arguments, no shell
            argv, input=stdin, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PromptError(f"prompt {job.key}: {argv[0]} failed: {exc}") from exc
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace").strip()
        raise PromptError(f"prompt {job.key}: {argv[0]} exited {result.returncode}: {error}")
    return result.stdout


def _render(job: _Job, path: Path, espeak: str, sox: str) -> None:
    """Render one file: espeak-ng's WAV on stdout into sox, or sox's synth; written to a
    temporary name, then renamed, so a file is either whole or absent."""
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.wav")
    output = [*_WAV_OUT, str(partial), *job.sox_effects()]
    try:
        if job.text is None:
            _run(job, [sox, "-V1", *TONES[job.name][0], *output])
        else:
            speech = _run(job, [espeak, *job.espeak_args(job.text)])
            _run(job, [sox, "-V1", "-t", "wav", "-", *output], speech)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # absent or damaged: every file is rendered again
    prompts = data.get("prompts") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in prompts.items()} if isinstance(prompts, dict) else {}


def _write_manifest(path: Path, manifest: Mapping[str, str]) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    content = {"version": RECIPE_VERSION, "prompts": dict(sorted(manifest.items()))}
    partial.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def ensure_prompts(
    directory: Path,
    languages: Sequence[str] = ("ru", "en"),
    *,
    espeak: str = "espeak-ng",
    sox: str = "sox",
    workers: int = WORKERS,
) -> PromptLibrary:
    """Render the standard prompts and tones that are missing or outdated, and return
    the library of ``directory``.

    Blocking: runs espeak-ng and sox as subprocesses (``workers`` at a time) and writes
    files, so call it at install or start-up, or in a thread — never on the event loop.
    Idempotent: ``directory/manifest.json`` keeps a hash of each file's text and recipe,
    and only files whose hash changed or that are absent are rendered, so a second call
    runs no program at all (and needs neither installed).  Raises :class:`PromptError`
    when espeak-ng or sox is missing (naming the Debian package) or fails; the files
    rendered before the failure are kept.
    """
    for language in languages:
        _check_language(language)
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    manifest = _read_manifest(manifest_path)
    jobs = [
        _Job(language, name, text)
        for language in languages
        for name, text in [*STANDARD_PROMPTS[language].items(), *((tone, None) for tone in TONES)]
    ]
    todo = [
        job
        for job in jobs
        if manifest.get(job.key) != job.digest()
        or not (directory / job.language / f"{job.name}.wav").is_file()
    ]
    if todo:
        speech = any(job.text is not None for job in todo)
        espeak_path = _tool(espeak, "espeak-ng") if speech else espeak
        sox_path = _tool(sox, "sox")
        for language in languages:
            (directory / language).mkdir(exist_ok=True)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompts") as pool:
            futures = {
                job: pool.submit(_render, job, directory / f"{job.key}.wav", espeak_path, sox_path)
                for job in todo
            }
        failures = [error for future in futures.values() if (error := future.exception())]
        manifest.update({job.key: job.digest() for job, f in futures.items() if not f.exception()})
        _write_manifest(manifest_path, manifest)
        if failures:
            raise PromptError(
                f"{len(failures)} of {len(todo)} prompts failed; the first: {failures[0]}"
            ) from failures[0]
    return PromptLibrary(directory, languages=languages)
