"""The routing core driven in real time: the directory of hotlines, queues and operators
loaded from the database, the event-log writer, and :class:`LiveCenter`, the one inbox
through which SIP, HTTP and timers reach the engine (STYLE.md #4)."""
