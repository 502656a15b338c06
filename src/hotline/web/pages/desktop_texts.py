"""Texts of the desktop's script panel, knowledge-base search, contact form and callback
form (ru, en); merged into the page texts by ``i18n.py``."""

from __future__ import annotations

__all__ = ["DESKTOP_TEXTS"]

DESKTOP_TEXTS: dict[str, tuple[str, str]] = {
    "script.title": ("Скрипт", "Script"),
    "script.pick": ("Скрипт линии", "Hotline script"),
    "script.none": ("У этой линии нет скриптов", "This hotline has no scripts"),
    "script.restart": ("Сначала", "Start over"),
    "script.back": ("Назад", "Back"),
    "script.end": ("Скрипт завершён", "End of script"),
    "script.path": ("Пройдено", "Path taken"),
    "kb.title": ("База знаний", "Knowledge base"),
    "kb.query": ("Поиск по статьям", "Search articles"),
    "kb.search": ("Найти", "Search"),
    "kb.none": ("Ничего не найдено", "Nothing found"),
    "contact.title": ("Контакт", "Contact"),
    "contact.name": ("Имя", "Name"),
    "contact.phones": ("Телефоны (через запятую)", "Phones (comma-separated)"),
    "contact.emails": ("E-mail (через запятую)", "E-mails (comma-separated)"),
    "contact.notes": ("Комментарий о контакте", "About the contact"),
    "contact.vip": ("VIP", "VIP"),
    "contact.save": ("Сохранить контакт", "Save contact"),
    "contact.saved": ("Контакт сохранён", "Contact saved"),
    "contact.new": ("Новый контакт", "New contact"),
    "callback.title": ("Обратный звонок", "Callback"),
    "callback.number": ("Номер", "Number"),
    "callback.when": ("Дата и время (время линии)", "Date and time (hotline time)"),
    "callback.hotline": ("Линия", "Hotline"),
    "callback.save": ("Запланировать", "Schedule"),
    "callback.saved": ("Обратный звонок запланирован", "Callback scheduled"),
    "offer_mail.title": ("Отправить предложение", "Send an offer"),
    "offer_mail.template": ("Шаблон письма", "E-mail template"),
    "offer_mail.to": ("Кому", "To"),
    "offer_mail.send": ("Отправить письмо", "Send e-mail"),
    "offer_mail.sent": ("Письмо отправлено", "E-mail sent"),
    "offer_mail.none": ("У этой линии нет шаблонов писем", "This hotline has no e-mail templates"),
    "offer_mail.no_call": (
        "Письмо отправляется по текущему или последнему звонку",
        "The e-mail goes with the current or the last call",
    ),
    "kpi.sl_answered": ("Принято в норматив", "Answered within target"),
    "kpi.sales": ("Продажи", "Sales"),
    "kpi.leads": ("Лиды", "Leads"),
    "ready.wrap_up_required": (
        "Сначала сохраните тему и результат обращения №{id}",
        "Save the topic and outcome of interaction {id} first",
    ),
}
