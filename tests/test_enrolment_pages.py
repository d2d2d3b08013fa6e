"""Enrolment pages: the course page's enrol box, "My courses", rosters and their exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Course, Enrolment, EnrolmentStatus, Notice
from courses.services import enrolments
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_organisation,
    make_trainer,
    make_user,
)


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _status(user, course) -> EnrolmentStatus | None:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(
        sa.select(Enrolment.status)
        .where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
        .order_by(Enrolment.id.desc())
    )


def test_anonymous_visitors_are_asked_to_log_in_first(app_ctx, client):
    course = make_course(sessions=1)
    html = _html(client.get(f"/courses/{course.id}"))
    assert f'href="/login?next=/courses/{course.id}"' in html
    response = client.post(f"/courses/{course.id}/enrol")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_a_learner_enrols_from_the_course_page_and_sees_the_result(
    app_ctx, client, login_as, flashed
):
    course = make_course(
        "社区心理健康服务", sessions=2, cancel_deadline=datetime(2030, 3, 1, tzinfo=UTC)
    )
    learner = make_user()
    login_as(learner)
    html = _html(client.get(f"/courses/{course.id}"))
    assert f'action="/courses/{course.id}/enrol"' in html
    assert "2030-03-01 08:00" in html  # the cancellation deadline, in Shanghai time
    response = client.post(f"/courses/{course.id}/enrol")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.id}")
    assert _status(learner, course) == EnrolmentStatus.ENROLLED
    assert flashed[-1][0] == "success"
    html = _html(client.get(f"/courses/{course.id}"))
    assert "已报名" in html and "取消报名" in html
    # a double click: the second request enrols nobody twice and says so kindly
    client.post(f"/courses/{course.id}/enrol")
    assert flashed[-1][0] == "info"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1
    assert db.session.get(Course, course.id).seats_taken == 1


def test_a_full_course_offers_the_waitlist_and_tells_the_place(app_ctx, client, login_as, flashed):
    course = make_course(sessions=1, capacity=1)
    make_enrolment(course, make_user())
    learner = make_user()
    login_as(learner)
    assert "加入候补" in _html(client.get(f"/courses/{course.id}"))
    client.post(f"/courses/{course.id}/enrol")
    assert _status(learner, course) == EnrolmentStatus.WAITLISTED
    assert "1" in flashed[-1][1]
    html = _html(client.get(f"/courses/{course.id}"))
    assert "候补第 1 位" in html or "候补第1位" in html


def test_missing_prerequisites_are_named_and_the_button_is_off(app_ctx, client, login_as):
    basics = make_course("社工实务入门", sessions=1)
    course = make_course("个案管理进阶", sessions=1, prerequisites=[basics])
    login_as(make_user())
    html = _html(client.get(f"/courses/{course.id}"))
    assert "社工实务入门" in html.split('class="enrol-refusal"')[1].split("</p>")[0]
    assert f'action="/courses/{course.id}/enrol"' not in html
    client.post(f"/courses/{course.id}/enrol")
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_cancelling_from_my_courses_promotes_the_next_learner_who_sees_a_notice(
    app_ctx, client, login_as
):
    course = make_course("通讯员培训", sessions=1, capacity=1)
    holder, waiting = make_user(), make_user()
    seat = enrolments.enrol(holder, course)
    enrolments.enrol(waiting, course)
    db.session.commit()
    login_as(holder)
    html = _html(client.get("/me/courses"))
    assert "通讯员培训" in html and f"/enrolments/{seat.id}/cancel" in html
    response = client.post(f"/enrolments/{seat.id}/cancel")
    assert response.headers["Location"].endswith("/me/courses")
    assert _status(holder, course) == EnrolmentStatus.CANCELLED
    assert _status(waiting, course) == EnrolmentStatus.ENROLLED

    client.post("/logout")
    login_as(waiting)
    html = _html(client.get("/me/courses"))
    assert "“通讯员培训”空出名额，已为您报名。" in html
    client.post("/me/notices/read")
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(sa.func.count(Notice.id)).where(Notice.read_at.is_(None))) == 0
    )
    assert 'id="notices-title"' not in _html(client.get("/me/courses"))


def test_my_courses_lists_waitlist_place_and_upcoming_sessions(app_ctx, client, login_as):
    learner = make_user()
    full = make_course("满员的课", sessions=1, capacity=1)
    make_enrolment(full, make_user())
    enrolments.enrol(learner, full)
    open_course = make_course("开放的课", sessions=2)
    enrolments.enrol(learner, open_course)
    db.session.commit()
    login_as(learner)
    html = _html(client.get("/me/courses"))
    assert "满员的课" in html and "离开候补" in html
    upcoming = html.split('id="upcoming-title"')[1].split("</section>")[0]
    assert upcoming.count('class="card timetable-item"') == 2  # the seat holder's sessions only
    assert "满员的课" not in upcoming


def test_someone_else_s_enrolment_cannot_be_cancelled(app_ctx, client, login_as, flashed):
    course = make_course(sessions=1)
    other = make_enrolment(course, make_user())
    login_as(make_user())
    client.post(f"/enrolments/{other.id}/cancel")
    assert flashed[-1][0] == "error"
    assert _status(other.user, course) == EnrolmentStatus.ENROLLED


def test_the_roster_is_for_the_course_s_trainers_and_admins(app_ctx, client, login_as):
    trainer = make_trainer()
    course = make_course(sessions=1, trainers=[trainer])
    make_enrolment(course, make_user())
    assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 302
    login_as(make_user())
    assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 403
    assert client.get(f"/manage/courses/{course.id}/enrolments.csv").status_code == 403
    client.post("/logout")
    login_as(make_trainer())
    assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 403
    assert client.get(f"/manage/courses/{course.id}/enrolments.xlsx").status_code == 403
    client.post("/logout")
    login_as(trainer)
    assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 200


def test_trainer_approves_rejects_promotes_and_removes_with_an_audit_trail(
    app_ctx, client, login_as
):
    trainer = make_trainer()
    course = make_course(sessions=1, capacity=1, approval_required=True, trainers=[trainer])
    a, b, c = make_user(name="甲"), make_user(name="乙"), make_user(name="丙")
    requests = {user.id: enrolments.enrol(user, course) for user in (a, b, c)}
    db.session.commit()
    login_as(trainer)
    html = _html(client.get(f"/manage/courses/{course.id}/enrolments"))
    assert html.count("/approve") == 3
    client.post(f"/manage/enrolments/{requests[a.id].id}/approve")
    client.post(f"/manage/enrolments/{requests[b.id].id}/approve")
    client.post(f"/manage/enrolments/{requests[c.id].id}/reject", data={"reason": "不符合条件"})
    assert _status(a, course) == EnrolmentStatus.ENROLLED
    assert _status(b, course) == EnrolmentStatus.WAITLISTED
    assert _status(c, course) == EnrolmentStatus.REJECTED
    client.post(f"/manage/enrolments/{requests[b.id].id}/promote")
    assert _status(b, course) == EnrolmentStatus.ENROLLED
    assert db.session.get(Course, course.id).capacity == 2
    client.post(f"/manage/enrolments/{requests[a.id].id}/remove", data={"reason": "重复报名"})
    assert _status(a, course) == EnrolmentStatus.CANCELLED
    db.session.rollback()
    actions = sorted(
        db.session.scalars(
            sa.select(AuditLogEntry.action).where(
                AuditLogEntry.actor_id == trainer.id, AuditLogEntry.object_type == "enrolment"
            )
        )
    )
    assert actions == [
        "enrolment.approve",
        "enrolment.approve",
        "enrolment.promote",
        "enrolment.reject",
        "enrolment.remove",
    ]
    reasons = {
        e.action: e.data.get("reason")
        for e in db.session.scalars(sa.select(AuditLogEntry))
        if e.action in ("enrolment.reject", "enrolment.remove")
    }
    assert reasons == {"enrolment.reject": "不符合条件", "enrolment.remove": "重复报名"}


def test_a_refused_roster_action_changes_nothing_and_says_why(app_ctx, client, login_as, flashed):
    trainer = make_trainer()
    course = make_course(sessions=1, trainers=[trainer])
    seat = make_enrolment(course, make_user())
    login_as(trainer)
    client.post(f"/manage/enrolments/{seat.id}/approve")
    assert flashed[-1][0] == "error"
    assert _status(seat.user, course) == EnrolmentStatus.ENROLLED
    assert client.post(f"/manage/enrolments/{seat.id}/explode").status_code == 404


def test_trainer_enrols_a_learner_by_phone_and_gets_a_field_error_for_an_unknown_one(
    app_ctx, client, login_as
):
    trainer = make_trainer()
    course = make_course(
        sessions=1, trainers=[trainer], enrol_closes_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    learner = make_user(phone="13800138000", email=None)
    login_as(trainer)
    response = client.post(
        f"/manage/courses/{course.id}/enrolments", data={"login": "138 0013 8000"}
    )
    assert response.status_code == 302
    assert _status(learner, course) == EnrolmentStatus.ENROLLED
    response = client.post(f"/manage/courses/{course.id}/enrolments", data={"login": "13900000000"})
    assert response.status_code == 200
    assert "该账号不存在或已停用" in _html(response)
    response = client.post(
        f"/manage/courses/{course.id}/enrolments", data={"login": "138 0013 8000"}
    )
    assert response.status_code == 200
    assert 'class="flash flash-error"' in _html(response) or "已报名" in _html(response)


def test_roster_page_runs_a_fixed_number_of_statements(app_ctx, client, login_as, count_queries):
    trainer = make_trainer()
    course = make_course(sessions=1, capacity=3, trainers=[trainer])
    organisation = make_organisation()
    login_as(trainer)

    def statements() -> int:
        with count_queries() as recorded:
            assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 200
        return len(recorded)

    for _ in range(2):
        enrolments.enrol(make_user(organisation=organisation), course)
    db.session.commit()
    few = statements()
    for _ in range(20):
        enrolments.enrol(make_user(organisation=organisation), course)
    db.session.commit()
    assert statements() == few


def _roster_course():  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course("=SUM(A1) 社区营造", sessions=1, capacity=1, trainers=[trainer])
    organisation = make_organisation("桂城街道平东社区")
    first = make_user(name="张三", phone="13800000001", email=None, organisation=organisation)
    second = make_user(name="李四", phone="13800000002", email="li@example.org")
    enrolments.enrol(first, course, now=datetime(2030, 2, 1, 2, 0, tzinfo=UTC))
    enrolments.enrol(second, course, now=datetime(2030, 2, 1, 3, 0, tzinfo=UTC))
    db.session.commit()
    return trainer, course


def test_roster_exports_as_xlsx_read_back_by_openpyxl(app_ctx, client, login_as):
    trainer, course = _roster_course()
    login_as(trainer)
    response = client.get(f"/manage/courses/{course.id}/enrolments.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "姓名", "手机号", "邮箱", "所属机构", "状态")
    assert rows[1][:6] == (1, "张三", "13800000001", None, "桂城街道平东社区", "已报名")
    assert rows[2][1] == "李四" and rows[2][5] == "候补中" and rows[2][6] == 1
    assert rows[1][7] == datetime(2030, 2, 1, 10, 0)  # a real date, in Shanghai time
    assert len(rows) == 3


def test_roster_exports_as_csv_with_a_bom_for_excel(app_ctx, client, login_as):
    trainer, course = _roster_course()
    login_as(trainer)
    response = client.get(f"/manage/courses/{course.id}/enrolments.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "姓名", "手机号"]
    assert rows[1][1:3] == ["张三", "13800000001"]
    assert rows[1][7] == "2030-02-01 10:00"
    assert rows[2][5] == "候补中"
    assert len(rows) == 3


def test_admins_see_every_roster(app_ctx, client, login_as):
    course = make_course(sessions=1)
    make_enrolment(course, make_user(name="王五"))
    login_as(make_admin())
    assert "王五" in _html(client.get(f"/manage/courses/{course.id}/enrolments"))


def test_cancel_deadline_shown_and_enforced_on_the_page(app_ctx, client, login_as, flashed):
    course = make_course(sessions=1, cancel_deadline=datetime.now(UTC) - timedelta(hours=1))
    learner = make_user()
    seat = make_enrolment(course, learner)
    login_as(learner)
    html = _html(client.get(f"/courses/{course.id}"))
    assert f"/enrolments/{seat.id}/cancel" not in html
    client.post(f"/enrolments/{seat.id}/cancel")
    assert flashed[-1][0] == "error"
    assert _status(learner, course) == EnrolmentStatus.ENROLLED


def test_cancel_returns_only_to_pages_of_this_site(app_ctx, client, login_as):
    course = make_course(sessions=1)
    learner = make_user()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        seat = make_enrolment(course, learner)
        login_as(learner)
        response = client.post(f"/enrolments/{seat.id}/cancel", data={"next": target})
        assert response.headers["Location"].endswith("/me/courses"), target
        client.post("/logout")
        db.session.rollback()
    seat = make_enrolment(course, learner)
    login_as(learner)
    response = client.post(f"/enrolments/{seat.id}/cancel", data={"next": f"/courses/{course.id}"})
    assert response.headers["Location"].endswith(f"/courses/{course.id}")


def test_a_request_awaiting_approval_can_be_withdrawn_from_the_course_page(
    app_ctx, client, login_as, flashed
):
    course = make_course(sessions=1, approval_required=True)
    learner = make_user()
    login_as(learner)
    assert "申请报名" in _html(client.get(f"/courses/{course.id}"))
    client.post(f"/courses/{course.id}/enrol")
    assert _status(learner, course) == EnrolmentStatus.PENDING
    html = _html(client.get(f"/courses/{course.id}"))
    assert "待审核" in html and "撤回申请" in html
    enrolment_id = db.session.scalar(sa.select(Enrolment.id))
    response = client.post(
        f"/enrolments/{enrolment_id}/cancel", data={"next": f"/courses/{course.id}"}
    )
    assert response.headers["Location"].endswith(f"/courses/{course.id}")
    assert _status(learner, course) == EnrolmentStatus.CANCELLED
    assert flashed[-1] == ("success", "已撤回报名申请。")


def test_an_enrolment_in_a_course_that_is_over_does_not_ask_to_contact_the_trainer(
    app_ctx, client, login_as
):
    ended = datetime.now(UTC) - timedelta(days=90)
    course = make_course("已结束的课程", sessions=2, first_session_at=ended, cancel_deadline=ended)
    learner = make_user()
    make_enrolment(course, learner)
    login_as(learner)

    for url in ("/me/courses", f"/courses/{course.id}"):
        html = _html(client.get(url))
        assert "如不能参加，请联系讲师" not in html, url
        assert "课程已结束，结业结果确认中。" in html, url
        assert "取消报名" not in html, url
