"""Course materials in the API: the same service functions and rules as the pages."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Request, g, url_for
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response

from academy.access import PUBLIC, STAFF, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ErrorSchema, list_schema
from academy.materials.views import allow_upload_size, send_material
from courses.models import CourseMaterial
from courses.services import lookups, materials

blp = Blueprint("api_materials", __name__, url_prefix="/api/v1", description="materials")


class MultipartParser(FlaskParser):
    """Reads the ``files`` location from the files and the plain fields of a multipart
    form, so that one schema (one documented request body) describes the whole form."""

    def load_files(self, req: Request, schema: Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


blp.ARGUMENTS_PARSER = MultipartParser()


class MaterialSchema(Schema):
    id = fields.Integer()
    course_id = fields.Integer()
    session_id = fields.Integer(allow_none=True)
    title = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    created_at = fields.DateTime(format="iso")
    download_url = fields.Method("dump_download_url")

    def dump_download_url(self, material: CourseMaterial) -> str:
        return url_for("api_materials.download_material", material_id=material.id)


MaterialListSchema = list_schema(MaterialSchema, "MaterialList")


class MaterialUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "the file (PDF, Office, image, video)"})
    title = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=materials.MAX_TITLE_LENGTH)
    )
    session_id = fields.Integer(load_default=None, allow_none=True)


def _with_upload_size(view: Any) -> Any:
    """Raise the request size limit to the file limit plus the form, before parsing."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        allow_upload_size()
        return view(*args, **kwargs)

    return wrapped


@blp.post("/courses/<int:course_id>/materials")
@allow(STAFF, owns="course")
@_with_upload_size
@blp.arguments(MaterialUploadSchema, location="files")
@blp.response(201, MaterialSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not a manager of this course")
@blp.alt_response(422, schema=ErrorSchema, description="Empty, too large or unsupported file")
@blp.doc(security=BEARER)
def upload_material(form: dict[str, Any], course_id: int) -> CourseMaterial:
    """Upload a material (multipart/form-data): trainers of the course and admins."""
    course = lookups.get_course(course_id)
    upload = form["file"]
    material = materials.upload(
        current_api_user(),
        course,
        upload.stream,
        filename=upload.filename,
        title=form.get("title"),
        session_id=form.get("session_id"),
    )
    return material


@blp.get("/courses/<int:course_id>/materials")
@allow(PUBLIC)
@blp.response(200, MaterialListSchema)
def list_materials(course_id: int) -> dict[str, Any]:
    """A course's materials; downloading them needs a token of an allowed user."""
    course = materials.course_for_viewer(g.get("api_user"), course_id)
    items = materials.list_for_course(course)
    return {"items": items, "total": len(items), "page": 1, "per_page": max(len(items), 1)}


@blp.get("/materials/<int:material_id>")
@allow(USER)
@blp.response(200, description="The file, as an attachment")
@blp.alt_response(403, schema=ErrorSchema, description="Not enrolled in the course")
@blp.doc(security=BEARER)
def download_material(material_id: int) -> Response:
    """Download a material: the course's enrolled learners, trainers and admins."""
    material = materials.get(material_id)
    return send_material(material, materials.get_for_download(current_api_user(), material))


@blp.delete("/materials/<int:material_id>")
@allow(STAFF, owns="material")
@blp.response(204)
@blp.alt_response(403, schema=ErrorSchema, description="Not a manager of this course")
@blp.doc(security=BEARER)
def delete_material(material_id: int) -> None:
    """Delete a material and its file: trainers of the course and admins."""
    material = materials.get(material_id)
    materials.delete(current_api_user(), material)
