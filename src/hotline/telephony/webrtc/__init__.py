"""The browser softphone: an operator talks through the desktop page (WebRTC) instead of a
SIP phone.

Browser media is always DTLS-SRTP (and usually Opus), while our media legs speak plain
G.711 RTP (``telephony/media``).  So the server is the browser's WebRTC peer (aiortc) and
a gateway: what the browser sends is decoded, resampled to 8 kHz and sent as µ-law RTP to
the operator's media leg; what the leg sends back is decoded and played to the browser.
Call control (``b2bua.py``) sees a plain RTP peer at the gateway's address, so both media
backends (in-process and rtpengine) work unchanged.  ``audio.py`` is the pure framing,
``phone.py`` one browser's peer connection, ``softphones.py`` the registry per operator.
"""
