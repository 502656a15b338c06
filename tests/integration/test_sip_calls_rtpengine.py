"""A slice of ``test_sip_calls.py`` with ``HOTLINE_MEDIA_BACKEND=rtpengine``: the same
SIPp callers and operator phones against a ``hotline demo`` whose media run in a real
rtpengine daemon (started here, see ``rtpengine_daemon.py``).

The tests are imported from ``test_sip_calls`` and collected again here, where the
module's own ``pbx`` fixture (below) serves them: the assertions are literally the
same for both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rtpengine_daemon import RTPENGINE, running_rtpengine
from tests.integration.test_sip_calls import (
    Pbx,
    serving,
    test_given_a_closed_hotline_when_the_caller_speaks_then_the_voicemail_is_recorded,
    test_given_a_ready_operator_when_a_caller_presses_1_then_answered_bridged_and_recorded,
    test_given_a_talking_operator_when_hold_resume_and_hangup_via_api_then_logged_and_survey,
    test_given_baresip_as_the_operator_phone_when_a_call_comes_then_it_answers_and_talks,
    test_given_no_operator_when_the_caller_accepts_a_callback_then_it_is_promised_and_the_call_ends,
    test_given_no_operator_when_the_caller_hangs_up_in_queue_then_it_is_abandoned,
)
from tests.integration.test_sip_calls import pytestmark as sip_marks

pytestmark = [
    *sip_marks,
    pytest.mark.skipif(not Path(RTPENGINE).exists(), reason="needs rtpengine (apt: rtpengine)"),
]

__all__ = [
    "test_given_a_closed_hotline_when_the_caller_speaks_then_the_voicemail_is_recorded",
    "test_given_a_ready_operator_when_a_caller_presses_1_then_answered_bridged_and_recorded",
    "test_given_a_talking_operator_when_hold_resume_and_hangup_via_api_then_logged_and_survey",
    "test_given_baresip_as_the_operator_phone_when_a_call_comes_then_it_answers_and_talks",
    "test_given_no_operator_when_the_caller_accepts_a_callback_then_it_is_promised_and_the_call_ends",
    "test_given_no_operator_when_the_caller_hangs_up_in_queue_then_it_is_abandoned",
]


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    with running_rtpengine(tmp_path_factory.mktemp("rtpengine")) as daemon:
        env = {
            "HOTLINE_MEDIA_BACKEND": "rtpengine",
            "HOTLINE_RTPENGINE_NG": f"{daemon.ng[0]}:{daemon.ng[1]}",
            "HOTLINE_RTPENGINE_DTMF": f"{daemon.dtmf[0]}:{daemon.dtmf[1]}",
            "HOTLINE_RTPENGINE_RECORDING_DIR": str(daemon.recording_dir),
            # SIPp sends from its -mp port, the SDP names the test's sink socket
            "HOTLINE_RTPENGINE_SYMMETRIC_RTP": "false",
        }
        with serving(tmp_path_factory, env) as server:
            yield server
