"""Locale and time-zone selection: zh_CN by default, English on request."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, get_locale

from academy.extensions import babel
from courses.settings import to_local


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and tasks: the academy's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["locale"] = wanted
        return wanted
    # The user's own preference is copied into the session at login, so choosing the
    # language never needs the database (the 503 page must render when it is down).
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in the academy's time zone."""
    if value is None:
        return ""
    return to_local(value).strftime(fmt)  # an extreme stored value is shown, not fatal


def safe_dateformat(value: datetime | None, format: str | None = None) -> str:
    """Babel's ``dateformat``, except that a stored extreme (year 9999 in UTC, which the
    academy's zone carries past the calendar's end) is shown as stored, not fatal."""
    try:
        return format_date(value, format)
    except OverflowError:
        return format_date(value, format, rebase=False)


def current_locale() -> str:
    """The locale of this request as configured (``zh_CN`` or ``en``), for templates.

    Babel expands ``zh_CN`` to ``zh_Hans_CN`` (hence the catalogue's folder name);
    pages show the short form, as in ``<html lang="zh-CN">`` and ``?lang=zh_CN``.
    """
    locale = get_locale()
    if locale is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories="translations",
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["dateformat"] = safe_dateformat
    app.jinja_env.globals["current_locale"] = current_locale
