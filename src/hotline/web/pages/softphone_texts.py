"""Texts of the desktop's browser softphone (ru, en); merged into the page texts by
``i18n.py``."""

from __future__ import annotations

__all__ = ["SOFTPHONE_TEXTS"]

SOFTPHONE_TEXTS: dict[str, tuple[str, str]] = {
    "softphone.title": ("Браузерный телефон", "Browser phone"),
    "softphone.hint": (
        "Разговаривайте через гарнитуру компьютера вместо SIP-телефона",
        "Talk through your computer's headset instead of a SIP phone",
    ),
    "softphone.hint_monitor": (
        "Включите, чтобы слушать разговоры операторов через браузер",
        "Turn it on to listen to operators' calls in the browser",
    ),
    "monitor.title": ("Прослушивание", "Silent monitor"),
    "monitor.hint": (
        "Вас не слышат ни клиент, ни оператор",
        "Neither the caller nor the operator hears you",
    ),
    "monitor.call": ("Разговор", "Call"),
    "monitor.listen": ("Слушать", "Listen"),
    "monitor.stop": ("Перестать слушать", "Stop listening"),
    "monitor.listening": ("Вы слушаете разговор", "You are listening to the call"),
    "softphone.on": ("Включить браузерный телефон", "Turn the browser phone on"),
    "softphone.off": ("Выключить браузерный телефон", "Turn the browser phone off"),
    "softphone.state": ("Состояние", "State"),
    "softphone.state.off": ("выключен", "off"),
    "softphone.state.new": ("подключается…", "connecting…"),
    "softphone.state.connecting": ("подключается…", "connecting…"),
    "softphone.state.connected": ("подключён", "connected"),
    "softphone.state.disconnected": ("связь прервалась", "connection lost"),
    "softphone.state.failed": ("ошибка соединения", "connection failed"),
    "softphone.state.closed": ("выключен", "off"),
    "softphone.auto_answer": ("Автоответ (гарнитура)", "Auto answer (headset)"),
    "softphone.ringing": ("Входящий вызов", "Incoming call"),
    "softphone.answer": ("Ответить", "Answer"),
    "softphone.decline": ("Отклонить", "Decline"),
    "softphone.packets": ("Пакеты: принято {in}, отправлено {out}", "Packets: in {in}, out {out}"),
    "softphone.no_mic": (
        "Нет доступа к микрофону: разрешите его в браузере",
        "No microphone access: allow it in the browser",
    ),
}
