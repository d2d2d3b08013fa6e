"""Security headers on every response; no third-party origins are ever needed."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: Headers on every response.
ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), microphone=()"),
)


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        wanted = list(ALWAYS)
        path = request.path
        if not path.startswith("/api/v1/openapi"):
            wanted.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted.append(("Strict-Transport-Security", "max-age=31536000"))
        if path.startswith("/api/") or response.mimetype == "text/html":
            wanted.append(("Cache-Control", "no-store"))
        # A header the view set itself stays. One pass over the headers it set: looking
        # each wanted header up (``setdefault``) scans them all every time, on every
        # response.
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response
