"""Operator presence as a transition table.

::

                 go_ready                offer               accept
    offline ───────────────► ready ─────────────► reserved ─────────► busy
       ▲   ◄──── logout ────  │ ▲  ◄── timeout/decline (→ not_ready "missed")  │
       │                      │ │  ◄── cancel (caller left while ringing)      │ end
       │        go_not_ready  ▼ │ go_ready                                     ▼
       └──── logout ──── not_ready(reason)  ◄─── wrap_done (break/Rule 4) ─ wrap_up
                                   ready ◄──────── wrap_done ───────────────────┘

Rule 1: offers go only to ``ready`` operators, or ``busy`` ones with spare capacity on
        another channel (chats); a ringing (``reserved``) operator gets nothing else.
Rule 2: a break asked for while busy or in wrap-up is remembered and taken when the
        wrap-up ends (no one is pulled out of a call).
Rule 3: a missed offer puts the operator in ``not_ready("missed")``: an unattended
        desk must not keep taking calls.
Rule 4: where the queue requires the wrap-up to be saved (engine Rule 8), ``wrap_up``
        lasts past its timer until the save; ``wrap_done`` then leads to ``ready`` as
        usual, and if the save never comes ``wrap_done_to_break`` leads to
        ``not_ready("wrap_up")`` at the limit: held, never silently ready.
Anything not in the table is a :class:`TransitionError`.
"""

from __future__ import annotations

import enum

from hotline.core.model import OperatorState as S


class Transition(enum.IntEnum):  # int-valued: hashed in C on the hot path
    GO_READY = 0
    GO_NOT_READY = 1
    LOGOUT = 2
    OFFER = 3
    ACCEPT = 4
    MISS = 5  # timeout or decline
    CANCEL = 6  # the caller left while the offer rang
    CANCEL_TO_BUSY = 7  # same, while other chats stay open
    END = 8  # talk ended; wrap-up follows (possibly of 0 s)
    WRAP_DONE = 9
    WRAP_DONE_TO_BREAK = 10
    ANOTHER_ENDS = 11  # one of several chats ended, others remain
    ACCEPT_MORE = 12  # a further chat while busy


class TransitionError(RuntimeError):
    """The core asked for a transition the table forbids: a bug in the core (our fault)."""


T = Transition
TABLE: dict[tuple[S, Transition], S] = {
    (S.OFFLINE, T.GO_READY): S.READY,
    (S.OFFLINE, T.GO_NOT_READY): S.NOT_READY,
    (S.OFFLINE, T.LOGOUT): S.OFFLINE,
    (S.READY, T.GO_READY): S.READY,
    (S.READY, T.GO_NOT_READY): S.NOT_READY,
    (S.READY, T.LOGOUT): S.OFFLINE,
    (S.READY, T.OFFER): S.RESERVED,
    (S.NOT_READY, T.GO_READY): S.READY,
    (S.NOT_READY, T.GO_NOT_READY): S.NOT_READY,
    (S.NOT_READY, T.LOGOUT): S.OFFLINE,
    (S.RESERVED, T.ACCEPT): S.BUSY,
    (S.RESERVED, T.MISS): S.NOT_READY,
    (S.RESERVED, T.CANCEL): S.READY,
    (S.RESERVED, T.CANCEL_TO_BUSY): S.BUSY,
    (S.BUSY, T.OFFER): S.RESERVED,  # a further chat offered while chats are open
    (S.BUSY, T.END): S.WRAP_UP,
    (S.BUSY, T.ANOTHER_ENDS): S.BUSY,
    (S.BUSY, T.ACCEPT_MORE): S.BUSY,
    (S.WRAP_UP, T.END): S.WRAP_UP,  # another chat ends during wrap-up: it extends
    (S.WRAP_UP, T.WRAP_DONE): S.READY,
    (S.WRAP_UP, T.WRAP_DONE_TO_BREAK): S.NOT_READY,
}


def next_state(state: S, transition: Transition) -> S:
    try:
        return TABLE[state, transition]
    except KeyError:
        raise TransitionError(f"operator cannot {transition.name} while {state.value}") from None
