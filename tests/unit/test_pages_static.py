"""Static checks of the pages: every text key the templates use is translated in both
languages, and the published WebSocket schema is the one the code validates with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.web.live_events import SCHEMA_VERSION, live_json_schema, parse_frame
from hotline.web.pages.i18n import TEXTS, translator
from hotline.web.pages.views import NOT_READY_REASONS

TEMPLATES = Path(__file__).parents[2] / "src" / "hotline" / "web" / "templates"
SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "ws-events.schema.json"


def test_given_the_templates_when_scanned_then_every_text_key_exists_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]*[a-z_])["']""", template.read_text()))
    assert len(used) > 40  # the scan found the keys (a broken regex would find none)
    used |= {f"reason.{r}" for r in NOT_READY_REASONS}  # built as "reason." ~ r
    assert sorted(used - TEXTS.keys()) == []
    for key in used:
        ru, en = TEXTS[key]
        assert ru and en, key
    assert translator("en")("login.submit") == "Log in"
    assert translator("de")("login.submit") == "Войти"  # unknown locale: Russian


def test_given_the_published_schema_when_compared_then_it_is_the_code_s() -> None:
    published = json.loads(SCHEMA_FILE.read_text())
    assert published == live_json_schema(), (
        "regenerate: python -m hotline.web.live_events > docs/ws-events.schema.json"
    )
    kinds = {ref.rsplit("/", 1)[-1] for ref in published["discriminator"]["mapping"].values()}
    assert len(kinds) == 7


def test_given_frames_when_parsed_then_version_and_type_are_enforced() -> None:
    frame = parse_frame(
        '{"v": 1, "type": "desktop.kpis", "at": 1.5, "data": {"handled": 2, "aht": 180.0}}'
    )
    assert (frame.v, frame.data.handled) == (SCHEMA_VERSION, 2)
    for bad in (
        '{"v": 2, "type": "desktop.kpis", "at": 1, "data": {"handled": 2, "aht": null}}',
        '{"v": 1, "type": "desktop.nope", "at": 1, "data": {}}',
        '{"v": 1, "type": "desktop.kpis", "at": 1, "data": {"handled": 2, "aht": 1, "x": 0}}',
    ):
        with pytest.raises(ValidationError):
            parse_frame(bad)
