"""Admin: what every certificate printed from now on carries — the academy's name, the
signatory and the seal image (``courses.services.certificates.settings``)."""

from __future__ import annotations

import base64

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.forms import submit
from courses.services import certificates
from courses.services.certificates.settings import NAME_LENGTH, SIGNATORY_LENGTH


class CertificateSettingsForm(FlaskForm):
    academy_name = StringField(_l("Academy name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    signatory = StringField(_l("Signatory"), validators=[Optional(), Length(max=SIGNATORY_LENGTH)])
    seal = FileField(_l("Seal image (PNG or JPEG, at most 2 MB)"))
    remove_seal = BooleanField(_l("Print without a seal from now on"))


@bp.route("/certificates/settings", methods=["GET", "POST"])
@allow(ADMIN)
def certificate_settings() -> str | Response | tuple[str, int]:
    settings = certificates.certificate_settings()
    form = CertificateSettingsForm(obj=settings)
    if form.validate_on_submit():
        upload = form.seal.data
        seal = upload.stream if upload and getattr(upload, "filename", "") else None
        answer = submit(
            lambda: certificates.update_settings(
                current_user,
                form.academy_name.data or "",
                form.signatory.data or "",
                seal,
                remove_seal=bool(form.remove_seal.data),
            ),
            done=_("The certificate settings have been saved."),
            to=url_for("admin.certificate_settings"),
            form=form,
        )
        if answer is not None:
            return answer
    if form.is_submitted():
        return _page(form), 422
    return _page(form)


def _page(form: CertificateSettingsForm) -> str:
    """The form, and the current seal shown inline (a ``data:`` address)."""
    seal = certificates.seal_image()
    preview = None
    if seal is not None:
        data, media_type = seal
        preview = f"data:{media_type};base64,{base64.b64encode(data).decode()}"
    return render_template(
        "admin/certificate_settings.html",
        form=form,
        settings=certificates.certificate_settings(),
        seal_preview=preview,
    )
