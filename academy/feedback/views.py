"""Feedback pages: the learner's survey and, for trainers and admins, the averages and
comments. Each view parses, makes one service call and redirects (the request commits
once, in academy.transactions); the rules and their messages live in
``courses.services.feedback``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, USER, allow
from academy.feedback import bp
from academy.feedback.forms import FeedbackForm
from academy.forms import attempt
from courses.errors import PermissionDenied
from courses.services import feedback as feedback_service
from courses.services import lookups

COMMENTS_PER_PAGE = 20


@bp.route("/courses/<int:course_id>/feedback", methods=["GET", "POST"])
@allow(USER)
def survey(course_id: int) -> str | Response | tuple[str, int]:
    course = lookups.get_course(course_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        sent = attempt(
            lambda: feedback_service.submit_feedback(
                current_user,
                course,
                form.content_score.data,
                form.trainer_score.data,
                form.organisation_score.data,
                form.comment.data or "",
            ),
            form,
            unshown=(PermissionDenied,),
            news=frozenset({"feedback_already_given"}),
        )
        if sent.ok:
            flash(_("Thank you for your feedback!"), "success")
        if sent.ok or sent.code == "feedback_already_given":  # the refusal is news, flashed
            return redirect(url_for("enrolments.my_courses"))
        if isinstance(sent.error, PermissionDenied):  # not enrolled in the course
            abort(403)
    state = feedback_service.feedback_state(current_user, course)
    if state.state == "not_enrolled":
        abort(403)
    status = 422 if request.method == "POST" else 200
    return render_template("feedback/survey.html", course=course, state=state, form=form), status


@bp.get("/manage/courses/<int:course_id>/feedback")
@allow(STAFF, owns="course")
def summary(course_id: int) -> str:
    course = lookups.get_course(course_id)
    result = feedback_service.feedback_summary(
        current_user,
        course,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=COMMENTS_PER_PAGE,
    )
    return render_template("feedback/summary.html", course=course, summary=result)


@bp.get("/manage/feedback")
@allow(STAFF)
def by_trainer() -> str:
    """Satisfaction averaged over each trainer's courses (admins see every trainer)."""
    rows = feedback_service.satisfaction_by_trainer(current_user)
    return render_template("feedback/trainers.html", rows=rows)
