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
}
