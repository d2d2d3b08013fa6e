"""Admin: the certificates issued (search, filters), one certificate's facts and
versions, its revocation and its re-issue after a name correction."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.forms import submit
from courses.models import CertificateKind, CertificateStatus
from courses.services import certificates
from courses.services.certificates.issue import REASON_LENGTH


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Say why the certificate is revoked.")),
            Length(max=REASON_LENGTH),
        ],
    )


class ReissueForm(FlaskForm):
    """A CSRF-protected button: issue a new version with the holder's current name."""


@bp.get("/certificates")
@allow(ADMIN)
def certificate_list() -> str:
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    page = certificates.search(
        current_user,
        q=(request.args.get("q") or "")[:60],
        status=status,
        kind=kind,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=30,
    )
    return render_template(
        "admin/certificates.html",
        page=page,
        statuses=list(CertificateStatus),
        kinds=list(CertificateKind),
    )


def _detail_page(serial: str, revoke_form: RevokeForm | None = None) -> str:
    certificate = certificates.get_by_serial(serial)
    return render_template(
        "admin/certificate_detail.html",
        certificate=certificate,
        versions=certificates.history(certificate),
        revoke_form=revoke_form or RevokeForm(formdata=None),
        reissue_form=ReissueForm(formdata=None),
    )


@bp.get("/certificates/<serial>")
@allow(ADMIN)
def certificate_detail(serial: str) -> str:
    return _detail_page(serial)


@bp.post("/certificates/<serial>/revoke")
@allow(ADMIN)
def certificate_revoke(serial: str) -> str | Response | tuple[str, int]:
    certificate = certificates.get_by_serial(serial)
    form = RevokeForm()
    if form.validate_on_submit():
        answer = submit(
            lambda: certificates.revoke(certificate, current_user, form.reason.data),
            done=_("Certificate %(serial)s has been revoked.", serial=certificate.serial),
            to=url_for("admin.certificate_detail", serial=certificate.serial),
            form=form,
            beside="reason",
        )
        if answer is not None:
            return answer
    return _detail_page(serial, form), 422


@bp.post("/certificates/<serial>/reissue")
@allow(ADMIN)
def certificate_reissue(serial: str) -> Response:
    certificate = certificates.get_by_serial(serial)
    back = url_for("admin.certificate_detail", serial=certificate.serial)
    answer = submit(
        lambda: certificates.reissue(certificate, current_user),
        done=lambda new: _("Certificate %(serial)s has been issued.", serial=new.serial),
        to=lambda new: url_for("admin.certificate_detail", serial=new.serial),
        refused_to=back,
    )
    return answer or redirect(back)
