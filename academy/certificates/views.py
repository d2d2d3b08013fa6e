"""The public verification page, the learner's certificates and the request for a
continuing-education proof (继续教育证明)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import PUBLIC, USER, allow
from academy.certificates import bp
from academy.certificates.forms import TranscriptForm
from academy.forms import attempt, submit
from courses.errors import NotFound
from courses.services import certificates
from courses.services import hours as hours_service


def _verification_page(serial: str) -> tuple[str, int]:
    checked = attempt(lambda: certificates.verify(serial), unshown=(NotFound,))
    if checked.ok:
        return render_template(
            "certificates/verify.html", serial=serial, verification=checked.value
        ), 200
    error = checked.error
    page = render_template(
        "certificates/verify.html",
        serial=serial,
        verification=None,
        problem=str(error.message if error is not None else ""),
        code=error.code if error is not None else None,
    )
    return page, 404


@bp.get("/verify")
@allow(PUBLIC)
def verify_form() -> str | tuple[str, int]:
    serial = (request.args.get("serial") or "").strip()[:64]
    if not serial:
        return render_template("certificates/verify.html", serial="", verification=None)
    return _verification_page(serial)


@bp.get("/verify/<serial>")
@allow(PUBLIC)
def verify(serial: str) -> tuple[str, int]:
    return _verification_page(serial[:64])


def _years() -> list[int]:
    return hours_service.ledger_years(current_user)


def _mine_page(form: TranscriptForm, status: int = 200) -> tuple[str, int]:
    mine = certificates.mine(current_user)
    return render_template(
        "certificates/mine.html",
        certificates=mine,
        ready={c.id: c.pdf_key is not None for c in mine},
        form=form,
    ), status


@bp.get("/me/certificates")
@allow(USER)
def mine() -> tuple[str, int]:
    return _mine_page(TranscriptForm().offer(_years()))


@bp.post("/me/certificates/transcript")
@allow(USER)
def request_transcript() -> Response | tuple[str, int]:
    form = TranscriptForm().offer(_years())
    if form.validate_on_submit():
        answer = submit(
            lambda: certificates.request_transcript(current_user, **form.period_asked()),
            done=lambda c: _("Your proof %(serial)s is being drawn.", serial=c.serial),
            to=url_for("certificates.mine") + "#certificates",
            form=form,
            beside="period",
        )
        if answer is not None:
            return answer
    return _mine_page(form, 422)
