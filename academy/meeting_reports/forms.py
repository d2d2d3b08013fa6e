"""Forms of the meeting-report pages; they only parse, the service decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ReportUploadForm(FlaskForm):
    file = FileField(
        _l("Participant export (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )
