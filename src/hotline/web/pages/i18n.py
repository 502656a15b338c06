"""Page texts in Russian and English, chosen by the user's ``locale`` (Russian by default).

A plain table rather than gettext catalogues: the pages have a few dozen strings and no
translator workflow yet; a missing key shows the key itself, which a test would catch.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.web.pages.admin_texts import ADMIN_TEXTS
from hotline.web.pages.desktop_texts import DESKTOP_TEXTS
from hotline.web.pages.report_texts import REPORT_TEXTS
from hotline.web.pages.softphone_texts import SOFTPHONE_TEXTS

__all__ = ["LOCALES", "translator"]

LOCALES = ("ru", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # key: (ru, en)
    "app": ("Хотлайн", "Hotline"),
    "login.title": ("Вход", "Log in"),
    "login.login": ("Логин", "Login"),
    "login.password": ("Пароль", "Password"),
    "login.submit": ("Войти", "Log in"),
    "login.bad": ("Неверный логин или пароль", "Login or password is wrong"),
    "login.throttled": ("Слишком много попыток, попробуйте позже", "Too many attempts; try later"),
    "logout": ("Выйти", "Log out"),
    "nav.desktop": ("Рабочее место", "Desktop"),
    "nav.wallboard": ("Табло", "Wallboard"),
    "nav.reports": ("Отчёты", "Reports"),
    "desktop.title": ("Рабочее место оператора", "Operator desktop"),
    "status": ("Статус", "Status"),
    "state.offline": ("Не в сети", "Offline"),
    "state.ready": ("Готов", "Ready"),
    "state.not_ready": ("Не готов", "Not ready"),
    "state.reserved": ("Входящий", "Ringing"),
    "state.busy": ("Разговор", "Talking"),
    "state.wrap_up": ("Обработка", "Wrap-up"),
    "reason": ("Причина", "Reason"),
    "reason.break": ("Перерыв", "Break"),
    "reason.lunch": ("Обед", "Lunch"),
    "reason.training": ("Обучение", "Training"),
    "reason.meeting": ("Совещание", "Meeting"),
    "kpi.today": ("Мои показатели за сегодня", "My figures today"),
    "kpi.handled": ("Обработано", "Handled"),
    "kpi.aht": ("Среднее время обработки", "Average handle time"),
    "offer.title": ("Входящий вызов", "Incoming call"),
    "offer.none": ("Нет входящих вызовов", "No incoming call"),
    "offer.hotline": ("Линия", "Hotline"),
    "offer.queue": ("Очередь", "Queue"),
    "offer.wait": ("Ожидание", "Waited"),
    "offer.caller": ("Номер", "Caller"),
    "offer.contact": ("Контакт", "Contact"),
    "offer.unknown": ("Новый клиент", "New caller"),
    "offer.answer_hint": (
        "Снимите трубку телефона, чтобы ответить",
        "Pick up your phone to answer",
    ),
    "call.phase.talking": ("Разговор", "Talking"),
    "call.phase.held": ("На удержании", "On hold"),
    "call.phase.wrap_up": ("Обработка", "Wrap-up"),
    "call.phase.ended": ("Завершён", "Ended"),
    "call.hold": ("Удержание", "Hold"),
    "call.resume": ("Снять с удержания", "Resume"),
    "call.hangup": ("Завершить", "Hang up"),
    "call.transfer": ("Перевести", "Transfer"),
    "call.transfer_to": ("Перевести в очередь", "Transfer to queue"),
    "call.transfer_number": ("Внешний номер", "Outside number"),
    "call.transfer_out": ("Перевести на номер", "Transfer to the number"),
    "history.title": ("Предыдущие обращения", "Previous interactions"),
    "history.none": ("Обращений не было", "No earlier interactions"),
    "history.date": ("Дата", "Date"),
    "history.topic": ("Тема", "Topic"),
    "history.outcome": ("Результат", "Outcome"),
    "history.operator": ("Оператор", "Operator"),
    "history.notes": ("Заметки", "Notes"),
    "wrapup.title": ("Обработка после вызова", "Wrap-up"),
    "wrapup.left": ("Осталось", "Time left"),
    "wrapup.held": (
        "Время обработки вышло: сохраните тему и результат, чтобы продолжить",
        "Wrap-up time is over: save the topic and outcome to go on",
    ),
    "wrapup.topic": ("Тема обращения", "Topic"),
    "wrapup.outcome": ("Результат", "Outcome"),
    "wrapup.notes": ("Заметки", "Notes"),
    "wrapup.save": ("Сохранить", "Save"),
    "wrapup.extend": ("Продлить на 30 с", "30 s more"),
    "wrapup.saved": ("Сохранено", "Saved"),
    "wrapup.required": ("Выберите тему и результат", "Choose a topic and an outcome"),
    "wallboard.title": ("Табло супервизора", "Supervisor wallboard"),
    "wb.queue": ("Очередь", "Queue"),
    "wb.waiting": ("Ждут", "Waiting"),
    "wb.longest": ("Макс. ожидание", "Longest wait"),
    "wb.offered": ("Поступило", "Offered"),
    "wb.answered": ("Отвечено", "Answered"),
    "wb.abandoned": ("Потеряно", "Abandoned"),
    "wb.sl": ("Уровень сервиса", "Service level"),
    "wb.asa": ("Ср. время ответа", "ASA"),
    "wb.aht": ("Ср. время обработки", "AHT"),
    "wb.operators": ("Операторы", "Operators"),
    "wb.operator": ("Оператор", "Operator"),
    "wb.state": ("Состояние", "State"),
    "wb.in_state": ("В состоянии", "Time in state"),
    "wb.set_state": ("Сменить состояние", "Change state"),
    "wb.apply": ("Применить", "Apply"),
    "wb.today": ("сегодня", "today"),
    # who waits per queue, and the control that moves a caller to another queue
    "wb.waiting_title": ("Ожидающие в очередях", "Waiting callers"),
    "wb.wait.caller": ("Номер", "Caller"),
    "wb.wait.wait": ("Ждёт", "Waiting"),
    "wb.wait.position": ("Место", "Place"),
    "wb.wait.move_to": ("Перевести в", "Move to"),
    "wb.wait.move": ("Перевести", "Move"),
    "wb.wait.ringing": ("звонит оператору", "ringing"),
    "wb.wait.none": ("Никто не ждёт", "Nobody is waiting"),
    "wb.wait.unknown": ("номер не определён", "unknown number"),
    "reports.title": ("Отчёты за сегодня", "Today's reports"),
    "reports.soon": (
        "Подробные отчёты появятся здесь; пока — показатели очередей за сегодня.",
        "Detailed reports will appear here; for now, today's queue figures.",
    ),
    "live.connected": ("На связи", "Live"),
    "live.reconnecting": ("Переподключение…", "Reconnecting…"),
    "error.forbidden": ("Доступ запрещён", "Access denied"),
    "error.forbidden_text": (
        "У вашей учётной записи нет доступа к этой странице.",
        "Your account may not open this page.",
    ),
    "error.telephony": ("Телефония не запущена", "Telephony is not running"),
    **ADMIN_TEXTS,
    **REPORT_TEXTS,
    **DESKTOP_TEXTS,
    **SOFTPHONE_TEXTS,
}


def translator(locale: str) -> Callable[[str], str]:
    """``t(key)`` for one locale; unknown locales fall back to Russian."""
    index = LOCALES.index(locale) if locale in LOCALES else 0

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        return key if pair is None else pair[index]

    return t
