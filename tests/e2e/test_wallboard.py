"""The supervisor moves a waiting caller to another queue from the wallboard, in a real
browser with a real call: a SIPp caller rings the test hotline while nobody is ready, the
wallboard lists them under the hotline's queue with their number, place and wait, and the
move control puts them in the other queue (``POST /api/v1/interactions/{id}/move``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import NUMBER, Server, log_in, shot
from tests.integration import sipmedia
from tests.integration.test_sip_calls import _kill, call

pytestmark = pytest.mark.slow

CALLER = "+79161234567"
LIVE_S = 15_000  # ms: deadline for a page to show a change


def test_given_a_waiting_caller_when_the_supervisor_moves_them_then_the_board_shows_them_in_the_other_queue(  # noqa: E501
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    first = server.ids["queue"]
    vip = server.api(
        "POST", "/queues", json={"hotline_id": server.ids["hotline"], "name": "Очередь VIP"}
    )["id"]
    board = log_in(browser, server, "supervisor")
    sipmedia.tone_pcap(tmp_path / "voice.pcap", 440, 1.0)
    caller, sink = call(
        cast(Any, server), tmp_path / "caller", NUMBER, CALLER, tmp_path / "voice.pcap",
        before_ms=0, talk_ms=60_000,
    )  # fmt: skip
    try:
        row = board.locator(f'#waiting table[data-queue="{first}"] tbody tr')
        expect(row).to_have_count(1, timeout=LIVE_S)
        expect(row.locator('td[data-k="caller"]')).to_have_text(CALLER)
        expect(row.locator('td[data-k="position"]')).to_have_text("1")
        iid = row.get_attribute("data-interaction")
        assert iid is not None
        shot(board, "wallboard-waiting")

        board.get_by_label(f"Перевести в: {CALLER}").select_option(str(vip))
        board.locator(f"#move-{iid}").click()
        moved = board.locator(f'#waiting table[data-queue="{vip}"] tr[data-interaction="{iid}"]')
        expect(moved).to_be_visible(timeout=LIVE_S)
        expect(board.locator(f'#waiting table[data-queue="{first}"]')).to_have_count(0)
        expect(moved.locator('td[data-k="position"]')).to_have_text("1")
        vip_waiting = board.locator(f'#queues tr[data-queue="{vip}"] td[data-k="waiting"]')
        expect(vip_waiting).to_have_text("1", timeout=LIVE_S)
        expect(board.locator(f'#queues tr[data-queue="{vip}"] td[data-k="offered"]')).to_have_text(
            "1"
        )
        shot(board, "wallboard-moved")
        # the event log has the move, by the supervisor
        detail = server.api("GET", f"/interactions/{iid}")
        assert detail["queue_id"] == vip
    finally:
        _kill(caller)
        sink.close()
        board.context.close()
