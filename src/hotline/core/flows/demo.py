"""Two ready-made flow documents: the demo tenant's hotlines and a starting point for users.

Both use only the standard prompt set (`hotline.core.flows.validate.STANDARD_PROMPTS`) and
take the ids of the queues they send callers to. They are documents (what an administrator
would write in YAML), so they go through `validate_flow` like any other.
"""

from __future__ import annotations

__all__ = ["shop_flow", "virtual_secretary_flow"]


def _after_hours() -> dict[str, object]:
    """After hours: say so, then voicemail with a callback request."""
    return {
        # Not interruptible: a digit pressed during the greeting must not skip "we are closed".
        "after_hours": {
            "type": "play",
            "prompt": "after_hours",
            "next": "voicemail",
            "barge_in": False,
        },
        "voicemail": {
            "type": "voicemail",
            "prompt": "voicemail",
            "max_seconds": 120,
            "ask_callback": True,
            "next": "thanks",
        },
    }


def _endings() -> dict[str, object]:
    """The CSAT survey after a call, the thank-you after an accepted callback, goodbye."""
    return {
        "survey": {"type": "survey", "prompt": "survey", "timeout": 8, "next": "thanks"},
        "callback_accepted": {"type": "play", "prompt": "callback_accepted", "next": "end"},
        "thanks": {"type": "play", "prompt": "thanks", "next": "end"},
        "end": {"type": "hangup"},
    }


def _queue(queue_id: int) -> dict[str, object]:
    """Wait with an announcement every minute and a callback offer when the wait is long
    (routing decides "long": the queue's callback threshold, 180 s by default)."""
    return {
        "type": "queue",
        "queue": queue_id,
        "announce_every": 60,
        "callback_offer": True,
        "music": "moh",
        "next_after_call": "survey",
        "next_after_callback": "callback_accepted",
    }


def virtual_secretary_flow(accounting: int, hr: int, general: int) -> dict[str, object]:
    """Greeting, then in business hours a menu "1 accounting, 2 HR, 0 operator" (a wrong
    digit or silence twice sends the caller to the operator); after hours and on holidays a
    voicemail with a callback request. Each department is tagged as the call's topic."""
    return {
        "start": "greeting",
        "nodes": {
            "greeting": {"type": "play", "prompt": "greeting", "next": "hours"},
            "hours": {
                "type": "hours",
                "open": "menu",
                "closed": "after_hours",
                "holiday": "after_hours",
            },
            "menu": {
                "type": "menu",
                "prompt": "menu",
                "options": {"1": "accounting", "2": "hr", "0": "operator"},
                "timeout": 5,
                "retries": 2,
                "invalid_prompt": "invalid",
                "on_failure": "operator",
            },
            "accounting": {"type": "set", "topic": "accounting", "next": "q_accounting"},
            "q_accounting": _queue(accounting),
            "hr": {"type": "set", "topic": "hr", "next": "q_hr"},
            "q_hr": _queue(hr),
            "operator": {"type": "set", "topic": "general", "next": "q_general"},
            "q_general": _queue(general),
            **_after_hours(),
            **_endings(),
        },
    }


def shop_flow(sales: int) -> dict[str, object]:
    """Greeting, then in business hours the sales queue with wait announcements every 60 s
    and a callback offer ("press 1 to be called back, keeping your place"); after hours a
    voicemail with a callback request."""
    return {
        "start": "greeting",
        "nodes": {
            "greeting": {"type": "play", "prompt": "greeting", "next": "hours"},
            "hours": {"type": "hours", "open": "sales", "closed": "after_hours"},
            "sales": _queue(sales),
            **_after_hours(),
            **_endings(),
        },
    }
