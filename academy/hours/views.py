"""The learner's hours ledger page; the sums and the cycle rule live in
``courses.services.hours``."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from academy.access import USER, allow
from academy.hours import bp
from courses.services import hours as hours_service


@bp.get("/me/hours")
@allow(USER)
def my_hours() -> str:
    years = hours_service.ledger_years(current_user)
    year = request.args.get("year", type=int)
    if year not in years:
        year = years[0]
    ledger = hours_service.ledger(current_user, year)
    return render_template("hours/my_hours.html", ledger=ledger, years=years)
