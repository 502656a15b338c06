"""Telephony adapter: SIP signalling, RTP media and call control.

The protocol layer (``telephony.sip``, ``telephony.rtp``) is sans-I/O: bytes in,
values out, no sockets and no clock, so it can be driven in real time by
``hotline serve`` and tested without a network. Only the asyncio shells
(``listener``, later ``transport`` and ``b2bua``) touch sockets.
"""
