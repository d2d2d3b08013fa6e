"""Material pages: the list of a course's materials, upload, download and deletion."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import Optional

from academy.access import PUBLIC, STAFF, USER, allow
from academy.downloads import content_disposition
from academy.forms import attempt, back_to
from academy.materials import bp
from courses.errors import NotFound, PermissionDenied
from courses.models import Course, CourseMaterial, User
from courses.services import lookups, materials
from courses.services.permissions import can_manage_course

#: Room for the multipart envelope and the other form fields around the file itself.
FORM_OVERHEAD_BYTES = 256 * 1024


class MaterialUploadForm(FlaskForm):
    file = FileField()
    title = StringField(validators=[Optional()])
    session_id = IntegerField(validators=[Optional()])
    next = HiddenField()


class DeleteForm(FlaskForm):
    """A CSRF-protected delete button."""

    next = HiddenField()


def list_context(user: User | None, course: Course) -> dict[str, Any]:
    """What ``templates/materials/_list.html`` needs besides ``course``, for any page that
    includes it: ``render_template(..., course=course, **list_context(user, course))``."""
    return {
        "materials": materials.list_for_course(course),
        "can_manage": can_manage_course(user, course),
        "can_download": materials.can_download(user, course),
        "accept": materials.ACCEPT,
        "max_upload_mb": materials.max_upload_bytes() // (1024 * 1024),
    }


def allow_upload_size() -> None:
    """Let a file of the configured size through, so that a bigger one gets our own message
    ("file_too_large") rather than a bare 413 for the whole request."""
    request.max_content_length = materials.max_upload_bytes() + FORM_OVERHEAD_BYTES


def _found(getter: Any, object_id: int) -> Any:
    """For forms: a missing object is a 404 page, not a flash after a redirect."""
    try:
        return getter(object_id)
    except NotFound:
        abort(404)


@bp.get("/courses/<int:course_id>/materials")
@allow(PUBLIC)
def course_materials(course_id: int) -> str:
    course = materials.course_for_viewer(current_user, course_id)
    return render_template(
        "materials/list.html",
        course=course,
        course_url=_course_page(course),
        **list_context(current_user, course),
    )


def _course_page(course: Course) -> str:
    """The catalogue's page of the course when the app has one, else the home page."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/courses/<int:course_id>" and "GET" in (rule.methods or ()):
            return url_for(rule.endpoint, course_id=course.id)
    return url_for("main.index")


@bp.post("/courses/<int:course_id>/materials")
@allow(STAFF, owns="course")
def upload(course_id: int) -> Response:
    allow_upload_size()
    course = _found(lookups.get_course, course_id)
    form = MaterialUploadForm()
    back = back_to(url_for("materials.course_materials", course_id=course.id))
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(back)
    upload_file = form.file.data
    if upload_file is None or not getattr(upload_file, "filename", None):
        flash(_("Choose a file to upload."), "error")
        return redirect(back)
    uploaded = attempt(
        lambda: materials.upload(
            current_user,
            course,
            upload_file.stream,
            filename=upload_file.filename,
            title=form.title.data,
            session_id=form.session_id.data,
        ),
        unshown=(PermissionDenied,),
    )
    if isinstance(uploaded.error, PermissionDenied):
        abort(403)
    if uploaded.ok:
        flash(_("%(title)s has been uploaded.", title=uploaded.value.title), "success")
    return redirect(back)


@bp.get("/materials/<int:material_id>")
@allow(USER)
def download(material_id: int) -> Response:
    material = materials.get(material_id)
    return send_material(material, materials.get_for_download(current_user, material))


def send_material(material: CourseMaterial, stream: Any) -> Response:
    """The file as an attachment, with its stored type and a UTF-8 file name (RFC 5987)."""
    response = send_file(
        stream,
        mimetype=material.content_type,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.content_length = material.size_bytes
    response.headers["Content-Disposition"] = content_disposition(material.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/materials/<int:material_id>/delete")
@allow(STAFF, owns="material")
def delete(material_id: int) -> Response:
    material = _found(materials.get, material_id)
    form = DeleteForm()
    back = back_to(
        url_for("materials.course_materials", course_id=material.course_id),
    )
    title = material.title
    if form.validate_on_submit():
        deleted = attempt(
            lambda: materials.delete(current_user, material), unshown=(PermissionDenied,)
        )
        if isinstance(deleted.error, PermissionDenied):
            abort(403)
        if deleted.ok:
            flash(_("%(title)s has been deleted.", title=title), "success")
    return redirect(back)
