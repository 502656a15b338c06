"""The standard prompts rendered by the real espeak-ng and sox, and looked up on disk.

One module fixture renders the whole set for both languages once (a couple of seconds
on two cores); tests that change files work on a copy of it.
"""

from __future__ import annotations

import json
import shutil
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.core.flows.actions import Duration, Number, Prompt
from hotline.telephony import prompts
from hotline.telephony.prompts import (
    STANDARD_PROMPTS,
    TONES,
    PromptError,
    PromptLibrary,
    ensure_prompts,
)

#: A generous bound for the whole set on a 2-core CI machine (measured: about 1.3–2.3 s).
RENDER_ALL_WITHIN_S = 30.0
ABSENT = "/nonexistent/bin/tool"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found on PATH: install Debian package {package}")
    directory = tmp_path_factory.mktemp("prompts")
    started = time.perf_counter()
    ensure_prompts(directory)
    elapsed = time.perf_counter() - started
    assert elapsed < RENDER_ALL_WITHIN_S, f"rendering every prompt took {elapsed:.1f} s"
    return directory


@pytest.fixture
def copy(rendered: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered, tmp_path / "prompts"))


def stamps(directory: Path) -> dict[str, int]:
    return {
        str(p.relative_to(directory)): p.stat().st_mtime_ns
        for p in directory.rglob("*")
        if p.is_file()
    }


def all_names(language: str) -> list[str]:
    return [*STANDARD_PROMPTS[language], *TONES]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_given_empty_directory_when_ensure_prompts_then_8khz_mono_16bit_wavs_with_sound(
    rendered: Path, language: str
) -> None:
    for name in all_names(language):
        path = rendered / language / f"{name}.wav"
        with wave.open(str(path), "rb") as wav:
            params = wav.getparams()
            samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2")
        assert (params.framerate, params.nchannels, params.sampwidth) == (8000, 1, 2), name
        assert params.comptype == "NONE", name
        assert 0.15 < params.nframes / 8000 < 12, (name, params.nframes)
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        assert rms > 500, (name, rms)  # speech or a tone, not silence
    assert sorted(p.stem for p in (rendered / language).iterdir()) == sorted(all_names(language))


def test_given_rendered_set_then_moh_loops_for_8s_and_beep_is_1khz(rendered: Path) -> None:
    with wave.open(str(rendered / "en" / "beep.wav"), "rb") as wav:
        beep = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(beep))
    assert abs(np.fft.rfftfreq(len(beep), 1 / 8000)[int(np.argmax(spectrum))] - 1000) < 5
    with wave.open(str(rendered / "ru" / "moh.wav"), "rb") as wav:
        assert wav.getnframes() == 8 * 8000


def test_given_rendered_set_when_ensure_prompts_again_then_it_runs_nothing(
    rendered: Path,
) -> None:
    before = stamps(rendered)
    # Neither program exists: the call succeeds only because it has nothing to render.
    library = ensure_prompts(rendered, espeak=ABSENT, sox=ABSENT)
    assert stamps(rendered) == before
    assert library.path("greeting", "ru") == rendered / "ru" / "greeting.wav"


def test_given_changed_text_when_ensure_prompts_then_only_that_prompt_is_rendered(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stamps(copy)
    changed = {lang: dict(texts) for lang, texts in STANDARD_PROMPTS.items()}
    changed["ru"]["thanks"] = "Спасибо, что позвонили!"
    monkeypatch.setattr(prompts, "STANDARD_PROMPTS", changed)
    ensure_prompts(copy)
    after = stamps(copy)
    assert {name for name in after if after[name] != before.get(name)} == {
        "ru/thanks.wav",
        "manifest.json",
    }
    ensure_prompts(copy, espeak=ABSENT, sox=ABSENT)  # the manifest has the new text
    assert stamps(copy) == after


def test_given_deleted_file_or_lost_manifest_then_rendered_again(copy: Path) -> None:
    (copy / "en" / "num_7.wav").unlink()
    ensure_prompts(copy, languages=("en",))
    assert (copy / "en" / "num_7.wav").is_file()
    (copy / "manifest.json").write_text("{not json")
    before = stamps(copy)
    ensure_prompts(copy, languages=("en",))
    after = stamps(copy)
    assert all(after[f"en/{name}.wav"] != before[f"en/{name}.wav"] for name in all_names("en"))
    assert all(after[key] == before[key] for key in before if key.startswith("ru/"))
    assert "ru/greeting" not in json.loads((copy / "manifest.json").read_text())["prompts"]


@pytest.mark.parametrize(
    ("espeak", "sox", "package"),
    [("no-such-espeak-ng", "sox", "espeak-ng"), ("espeak-ng", "no-such-sox", "sox")],
)
def test_given_missing_program_then_prompt_error_names_the_debian_package(
    tmp_path: Path, espeak: str, sox: str, package: str
) -> None:
    with pytest.raises(PromptError, match=f"install the Debian package {package}$"):
        ensure_prompts(tmp_path, espeak=espeak, sox=sox)
    assert not list(tmp_path.rglob("*.wav"))


def test_given_failing_espeak_then_prompt_error_names_a_prompt_and_tones_are_kept(
    tmp_path: Path,
) -> None:
    false = shutil.which("false")
    assert false is not None
    with pytest.raises(PromptError, match=r"prompts failed; the first: prompt en/\w+: .* exited 1"):
        ensure_prompts(tmp_path, languages=("en",), espeak=false)
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == ["beep.wav", "moh.wav"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())["prompts"]
    assert sorted(manifest) == ["en/beep", "en/moh"]


# --- the library ---------------------------------------------------------------------------


def test_given_rendered_set_then_render_gives_the_files_in_order(rendered: Path) -> None:
    library = PromptLibrary(rendered)
    assert library.render(
        [Prompt("ewt_intro"), Duration(130), Number(21, gender="feminine")], "ru"
    ) == [
        rendered / "ru" / name
        for name in ("ewt_intro.wav", "num_3.wav", "minute_few.wav", "num_20.wav", "num_1_f.wav")
    ]
    assert all(path.is_file() for path in library.render(["moh", Number(999)], "en"))


def test_given_prompt_in_one_language_only_then_the_other_is_used(tmp_path: Path) -> None:
    for relative in ("en/only_en.wav", "ru/only_ru.wav", "ru/both.wav", "en/both.wav"):
        (tmp_path / relative).parent.mkdir(exist_ok=True)
        (tmp_path / relative).touch()
    library = PromptLibrary(tmp_path)
    assert library.path("only_en", "ru") == tmp_path / "en" / "only_en.wav"
    assert library.path("only_ru", "en") == tmp_path / "ru" / "only_ru.wav"
    assert library.path("both", "en") == tmp_path / "en" / "both.wav"
    assert library.path("only_ru", "de") == tmp_path / "ru" / "only_ru.wav"
    assert library.exists("only_en", "ru")
    assert not library.exists("nowhere", "ru")
    with pytest.raises(PromptError, match="no prompt 'nowhere' for language 'ru'"):
        library.path("nowhere", "ru")


def test_given_overrides_then_they_win_language_specific_first(tmp_path: Path) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "greeting.wav").touch()
    uploaded, uploaded_en = tmp_path / "up.wav", tmp_path / "up-en.wav"
    library = PromptLibrary(tmp_path, {"greeting": uploaded, "en/greeting": uploaded_en})
    assert library.path("greeting", "ru") == uploaded
    assert library.path("greeting", "en") == uploaded_en
    assert library.exists("greeting", "de")
    assert PromptLibrary(tmp_path / "absent").exists("greeting", "ru") is False
