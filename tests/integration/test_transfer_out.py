"""Transfer to an outside number through an outbound trunk, against a real server: the
caller is a SIPp UAC, the operator a browser phone (aiortc, auto answer), the carrier a
SIPp UAS behind ``hotline trunk add --outbound``.  Answered: the caller hears the
carrier's party (a 1.5 kHz tone), the operator is in wrap-up, the log names the number.
Busy: the caller is given back to the operator.  The carrier's scenario checks the
Request-URI carries the dialled number.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import sipmedia
from tests.integration.test_demo_server import hotline_command
from tests.integration.test_sip_calls import (
    SIPP_DIR,
    Pbx,
    _finish,
    _free_media_port,
    _kill,
    _sipp,
    dominant_hz,
    free_port,
    types,
)
from tests.integration.test_softphone import (
    WEB_LINE,
    caller_hears,
    log_until,
    logged,
    on_call,
    softphone_server,
    status,
    until,
)
from tests.integration.world import auth

pytestmark = pytest.mark.slow

OUTSIDE = "+74957770011"
CARRIER_PORT = free_port()


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """The softphone tests' server with a trunk that sends calls out to our SIPp carrier."""
    with softphone_server(tmp_path_factory) as server:
        yield from _with_trunk(server)


def _with_trunk(softphone_pbx: Pbx) -> Iterator[Pbx]:
    result = subprocess.run(  # noqa: S603 - our own command
        [*hotline_command(), "trunk", "add", "carrier",
         "--outbound", f"sip:127.0.0.1:{CARRIER_PORT}", "--data", str(softphone_pbx.data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # trunks are read with the rest of the configuration: any change through the API
    # reloads it (a restart would too)
    hotline = softphone_pbx.api("GET", f"/hotlines/{WEB_LINE['id']}")
    softphone_pbx.api("PATCH", f"/hotlines/{WEB_LINE['id']}", json={"name": hotline["name"]})
    yield softphone_pbx


def carrier(workdir: Path, answer: bool) -> subprocess.Popen[str]:
    """The carrier's side: checks the number, then answers (a 1.5 kHz party) or is busy."""
    workdir.mkdir(parents=True, exist_ok=True)
    check = (
        '<recv request="INVITE" crlf="true">\n  <action>\n'
        f'    <ereg regexp="INVITE sip:\\{OUTSIDE}@127.0.0.1:{CARRIER_PORT};user=phone SIP/2.0"'
        ' search_in="msg" check_it="true" assign_to="dialled" />\n'
        # SIPp insists an assigned variable is used
        '    <log message="dialled [$dialled]" />\n  </action>\n</recv>'
    )
    if answer:
        sipmedia.tone_pcap(workdir / "operator.pcap", 1500, 20.0)
        text = (SIPP_DIR / "operator_uas.xml").read_text()
        plain = '<recv request="INVITE" crlf="true" />'
        assert text.count(plain) == 1, "operator_uas.xml changed: update this test"
        text = text.replace(plain, check)
    else:
        text = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy carrier">
{check}
<send><![CDATA[

      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]busy[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
<recv request="ACK" />
</scenario>
"""
    scenario = workdir / "carrier.xml"
    scenario.write_text(text)
    return _sipp(
        workdir, scenario, "-p", str(CARRIER_PORT), "-mi", "127.0.0.1",
        "-mp", str(_free_media_port()),
    )  # fmt: skip


async def test_given_a_talking_call_when_transferred_to_an_outside_number_then_the_caller_talks_to_it(  # noqa: E501
    pbx: Pbx, tmp_path: Path
) -> None:
    far = carrier(tmp_path / "carrier", answer=True)
    try:
        async with on_call(
            pbx, tmp_path, "79990002001", talk_ms=9000, auto_answer=True, seconds=30.0
        ) as talk:
            iid, _ = await log_until(pbx, "79990002001", logged("answered"))
            done = pbx.api(
                "POST", f"/calls/{iid}/transfer", pbx.tokens["op_web"], json={"number": OUTSIDE}
            )
            assert done == {"interaction_id": iid, "done": True}
            _, events = await log_until(pbx, "79990002001", logged("transferred"))
            transferred = next(e for e in events if e["type"] == "transferred")
            assert transferred["data"]["to"] == OUTSIDE
            assert transferred["data"]["operator_id"] == pbx.operators["op_web"]
            # the operator's part is over: wrap-up, the browser phone is free again
            await log_until(pbx, "79990002001", logged("wrap_up_started"))
            await until(lambda: status(pbx, "op_web")["in_call"] is False, "the phone freed")
            # the caller hears the outside party
            heard = await caller_hears(talk.sink)
            assert abs(dominant_hz(heard) - 1500) < 20, dominant_hz(heard)
            # the caller hangs up (BYE after 9 s): the carrier gets our BYE
            await asyncio.to_thread(_finish, talk.caller, "caller")
            await asyncio.to_thread(
                _finish, far, "carrier (the hotline's BYE when the caller left)"
            )
    finally:
        _kill(far)


async def test_given_a_busy_outside_number_when_transferring_then_the_caller_comes_back(
    pbx: Pbx, tmp_path: Path
) -> None:
    far = carrier(tmp_path / "carrier", answer=False)
    try:
        async with on_call(pbx, tmp_path, "79990002002", auto_answer=True, seconds=30.0) as talk:
            iid, _ = await log_until(pbx, "79990002002", logged("answered"))
            headers = auth(pbx.tokens["op_web"])
            for body, error_id in (
                ({"number": "call me"}, "invalid_number"),
                ({"number": OUTSIDE, "queue_id": pbx.queues["web"]}, "validation_error"),
                ({}, "validation_error"),
            ):
                bad = pbx.http.post(f"/api/v1/calls/{iid}/transfer", json=body, headers=headers)
                assert bad.status_code == 422 and bad.json()["error_id"] == error_id, bad.text
            pbx.api(
                "POST", f"/calls/{iid}/transfer", pbx.tokens["op_web"], json={"number": OUTSIDE}
            )
            await asyncio.to_thread(_finish, far, "busy carrier")
            _, events = await log_until(
                pbx,
                "79990002002",
                lambda ev: any(e["data"].get("transfer_failed") == "486" for e in ev),
            )
            kinds = types(events)
            assert "transferred" not in kinds
            # held while it rang, resumed when it failed: talking with the operator again
            assert kinds.index("held") < kinds.index("resumed")
            assert status(pbx, "op_web")["in_call"] is True
            again = await talk.browser.hears("the caller again")
            assert abs(dominant_hz(again) - 440) < 10
            pbx.api("POST", f"/calls/{iid}/hangup", pbx.tokens["op_web"])
            await asyncio.to_thread(_finish, talk.caller, "caller (the operator hung up)")
    finally:
        _kill(far)
