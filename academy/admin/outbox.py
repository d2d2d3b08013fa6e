"""Admin: the outbox rows still owed to workers (pending) and those given up (dead),
with a retry button each; rows of topics whose consumer does not exist yet (e-mail
notifications, say) are listed apart, as waiting for it rather than stuck."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.forms import submit
from courses.services import outbox
from workers.routes import consumed_topics

TABS = ("pending", "dead")


class RetryForm(FlaskForm):
    """A CSRF-protected button: put the row back in line."""


@bp.get("/outbox")
@allow(ADMIN)
def outbox_list() -> str:
    tab = request.args.get("status", "pending")
    tab = tab if tab in TABS else "pending"
    counts = outbox.counts()
    routes = consumed_topics()
    consumed = sorted(routes)
    waiting = sorted({topic for (_status, topic) in counts if topic not in routes})
    page = outbox.listing(
        current_user, tab, consumed, page=request.args.get("page", 1, type=int) or 1
    )
    unconsumed = outbox.listing(current_user, tab, waiting, page=1) if waiting else None
    return render_template(
        "admin/outbox.html",
        tab=tab,
        tabs=TABS,
        page=page,
        unconsumed=unconsumed,
        counts=sorted(counts.items()),
        consumed=set(consumed),
        retry_form=RetryForm(formdata=None),
    )


@bp.post("/outbox/<int:event_id>/retry")
@allow(ADMIN)
def outbox_retry(event_id: int) -> Response:
    back = url_for("admin.outbox_list", status=request.form.get("tab", "dead"))
    answer = submit(
        lambda: outbox.retry(current_user, event_id),
        done=lambda event: _("Event %(id)s is back in line.", id=event.id),
        to=back,
        refused_to=back,
    )
    return answer or redirect(back)
