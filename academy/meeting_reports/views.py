"""Meeting-report pages: upload a participant export for a session, preview what it
matches, confirm to apply. Each view parses, makes one service call (the request commits
once, in academy.transactions) and redirects; the rules live in
``courses.services.meeting_reports``."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, allow
from academy.forms import attempt
from academy.manage.forms import ButtonForm
from academy.meeting_reports import bp
from academy.meeting_reports.forms import ReportUploadForm
from courses.db import utcnow
from courses.models import ImportStatus, SessionMode
from courses.services import meeting_reports, permissions

ONLINE_MODES = (SessionMode.ONLINE, SessionMode.HYBRID)


@bp.route("/manage/sessions/<int:session_id>/reports", methods=["GET", "POST"])
@allow(STAFF, owns="session")
def upload(session_id: int) -> str | Response:
    session = permissions.managed_session(current_user, session_id)
    form = ReportUploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        data = upload_file.stream.read(meeting_reports.MAX_REPORT_BYTES + 1)
        outcome = attempt(
            lambda: meeting_reports.upload_report(
                current_user, session, upload_file.filename or "", data
            ),
            # Offline, the page has no form to show it beside: flashed.
            form if session.mode in ONLINE_MODES else None,
            beside="file",
        )
        if outcome.value is not None:
            if not outcome.value.created:
                flash(_("This file was uploaded before: here is its import again."), "info")
            import_id = outcome.value.report_import.id
            return redirect(url_for("meeting_reports.preview", import_id=import_id))
    imports = meeting_reports.imports_for_session(current_user, session)
    return render_template(
        "meeting_reports/upload.html",
        session=session,
        course=session.course,
        form=form,
        online=session.mode in ONLINE_MODES,
        ended=session.ends_at <= utcnow(),
        imports=[(item, meeting_reports.counts(item)) for item in imports],
        layouts=meeting_reports.LAYOUT_LABELS,
        accept=meeting_reports.ACCEPT,
        max_mb=meeting_reports.MAX_REPORT_BYTES // (1024 * 1024),
        max_rows=meeting_reports.MAX_REPORT_ROWS,
    )


@bp.get("/manage/reports/<int:import_id>")
@allow(STAFF, owns="import")
def preview(import_id: int) -> str:
    report_import = permissions.managed_import(current_user, import_id)
    session = report_import.session
    shown = meeting_reports.view(report_import, session)
    groups = {outcome: [] for outcome in meeting_reports.OUTCOMES}
    for row in shown["rows"]:
        groups.setdefault(row["outcome"], []).append(row)
    return render_template(
        "meeting_reports/preview.html",
        report=shown,
        groups=groups,
        session=session,
        course=session.course,
        applied=report_import.status == ImportStatus.APPLIED,
        choosing=bool(shown["learners"]) and any(row["pickable"] for row in shown["rows"]),
        button=ButtonForm(),
    )


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def _choices(form: Mapping[str, str]) -> dict[int, int | None]:
    """The learners chosen in the preview's selects (``choice-<row>``); an empty select
    chooses no one."""
    choices: dict[int, int | None] = {}
    for key, value in form.items():
        row = key.removeprefix("choice-")
        if row == key or not _is_number(row) or not value:
            continue
        choices[int(row)] = int(value) if _is_number(value) else -1  # -1: refused as invalid
    return choices


@bp.post("/manage/reports/<int:import_id>/apply")
@allow(STAFF, owns="import")
def apply(import_id: int) -> Response:
    report_import = permissions.managed_import(current_user, import_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    page = url_for("meeting_reports.preview", import_id=report_import.id)
    already = report_import.status == ImportStatus.APPLIED
    applied = attempt(
        lambda: meeting_reports.apply_report(
            current_user, report_import, choices=_choices(request.form)
        )
    )
    if applied.ok and already:
        flash(_("This report was applied already; nothing changed."), "info")
    elif applied.ok:
        matched = meeting_reports.counts(applied.value)["matched"]
        flash(_("Report applied: attendance updated for %(n)s learners.", n=matched), "success")
    return redirect(page)
