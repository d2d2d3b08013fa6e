"""Course management on the /manage pages, on a desktop and on a phone: the pages that call
``courses.services.courses`` (SPEC §3 item 3, issue 3 items 1–2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import Course, CourseSession, Programme, PublicationStatus, SessionMode
from tests import course_setup
from tests.course_setup import count, fresh
from tests.factories import (
    make_admin,
    make_course,
    make_programme,
    make_session,
    make_trainer,
    make_user,
)

# The trainer and their draft course, as every course-management test module has them.
trainer, draft = course_setup.trainer, course_setup.draft


# --- pages ---------------------------------------------------------------------------------------


def form_of(rendered, template: str):  # type: ignore[no-untyped-def]
    contexts = [context for name, context in rendered if name == template]
    assert contexts, f"{template} was not rendered"
    return contexts[-1]["form"]


def page_course(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "通讯员培训",
        "summary": "新闻写作与拍摄",
        "topic": "通讯员培训",
        "level": "beginner",
        "mode": "offline",
        "programme_id": "0",
        "capacity": "40",
        "completion_threshold": "0.8",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["anonymous", "learner"])
def test_learners_and_visitors_cannot_reach_management(app, app_ctx, role):
    course = make_course(trainers=[make_trainer()], sessions=1)
    client = app.test_client()
    if role == "learner":
        learner = make_user()
        client.post("/login", data={"login": learner.email, "password": "correct-horse-9"})
    expected = 302 if role == "anonymous" else 403
    for url in (
        "/manage/",
        "/manage/courses/new",
        f"/manage/courses/{course.id}",
        f"/manage/courses/{course.id}/sessions",
        "/manage/programmes",
    ):
        assert client.get(url).status_code == expected, url
    response = client.post("/manage/courses/new", data=page_course())
    assert response.status_code == expected
    assert count(Course) == 1


def test_a_trainer_cannot_open_nor_change_another_trainers_course(login_as, trainer):
    other = make_course("别人的课程", trainers=[make_trainer()], sessions=1)
    session_id = other.sessions[0].id
    client = login_as(trainer)
    assert client.get(f"/manage/courses/{other.id}").status_code == 403
    assert client.get(f"/manage/courses/{other.id}/sessions").status_code == 403
    assert client.get(f"/manage/sessions/{session_id}").status_code == 403
    assert (
        client.post(f"/manage/courses/{other.id}", data=page_course(title="改")).status_code == 403
    )
    assert (
        client.post(f"/manage/courses/{other.id}/status", data={"status": "archived"}).status_code
        == 403
    )
    assert client.post(f"/manage/sessions/{session_id}/delete").status_code == 403
    assert client.post(f"/manage/courses/{other.id}/clone", data={}).status_code == 403
    # Programmes: a trainer sees the page, listing only the programmes they built.
    assert client.get("/manage/programmes").status_code == 200
    other = fresh(other)
    assert (other.title, other.status) == ("别人的课程", PublicationStatus.PUBLISHED)
    assert count(CourseSession) == 1
    assert count(Course) == 1


def test_the_list_shows_a_trainer_only_their_courses_and_an_admin_all(login_as, trainer, rendered):
    mine = make_course("我的课程", trainers=[trainer])
    make_course("别人的课程", trainers=[make_trainer()])
    client = login_as(trainer)
    response = client.get("/manage/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "我的课程" in page and "别人的课程" not in page
    assert [c.id for c in rendered[-1][1]["page"].items] == [mine.id]


def test_an_admin_sees_every_course(app, app_ctx):
    make_course("甲课程", trainers=[make_trainer()])
    make_course("乙课程")
    admin = make_admin()
    client = app.test_client()
    client.post("/login", data={"login": admin.email, "password": "correct-horse-9"})
    page = client.get("/manage/").get_data(as_text=True)
    assert "甲课程" in page and "乙课程" in page


def test_a_trainer_builds_a_course_on_the_pages(login_as, trainer):
    client = login_as(trainer)
    assert client.get("/manage/courses/new").status_code == 200
    response = client.post("/manage/courses/new", data=page_course())
    assert response.status_code == 302
    course = db.session.scalar(sa.select(Course))
    assert response.headers["Location"] == f"/manage/courses/{course.id}/sessions"
    assert [t.id for t in course.trainers] == [trainer.id]
    assert (course.capacity, course.status) == (40, PublicationStatus.DRAFT)

    response = client.post(
        f"/manage/courses/{course.id}/sessions",
        data={
            "starts_at": "2030-05-06T14:00",
            "ends_at": "2030-05-06T16:15",
            "mode": "online",
            "meeting_url": "https://meeting.tencent.com/dm/abc",
            "meeting_number": "888 111 222",
        },
    )
    assert response.status_code == 302
    session = db.session.scalar(sa.select(CourseSession))
    assert session.class_hours == 3.0  # 135 minutes
    assert session.starts_at == datetime(2030, 5, 6, 6, 0, tzinfo=UTC)

    response = client.post(f"/manage/courses/{course.id}/status", data={"status": "published"})
    assert response.status_code == 302
    assert fresh(course).status == PublicationStatus.PUBLISHED


def test_a_session_at_half_past_eleven_in_shanghai_is_stored_in_utc_and_shown_back(
    login_as, trainer, draft, rendered
):
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{draft.id}/sessions",
        data={
            "starts_at": "2030-05-06T23:30",
            "ends_at": "2030-05-07T01:00",
            "mode": "offline",
            "venue": "桂城街道党群服务中心",
        },
    )
    assert response.status_code == 302
    session = db.session.scalar(sa.select(CourseSession))
    assert session.starts_at == datetime(2030, 5, 6, 15, 30, tzinfo=UTC)
    assert session.ends_at == datetime(2030, 5, 6, 17, 0, tzinfo=UTC)
    assert session.class_hours == 2.0

    listing = client.get(f"/manage/courses/{draft.id}/sessions").get_data(as_text=True)
    assert "2030-05-06 23:30" in listing
    edit = client.get(f"/manage/sessions/{session.id}").get_data(as_text=True)
    assert 'value="2030-05-06T23:30"' in edit
    assert 'value="2030-05-07T01:00"' in edit


def test_the_enrolment_window_is_entered_and_shown_in_shanghai_time(login_as, trainer, draft):
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{draft.id}",
        data=page_course(enrol_opens_at="2030-04-01T08:00", enrol_closes_at="2030-04-30T23:30"),
    )
    assert response.status_code == 302
    course = fresh(draft)
    assert course.enrol_opens_at == datetime(2030, 4, 1, 0, 0, tzinfo=UTC)
    assert course.enrol_closes_at == datetime(2030, 4, 30, 15, 30, tzinfo=UTC)
    page = client.get(f"/manage/courses/{draft.id}").get_data(as_text=True)
    assert 'value="2030-04-30T23:30"' in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"capacity": "0"}, "capacity"),
        (
            {"enrol_opens_at": "2030-04-02T08:00", "enrol_closes_at": "2030-04-01T08:00"},
            "enrol_closes_at",
        ),
        ({"completion_threshold": "1.5"}, "completion_threshold"),
        ({"title": ""}, "title"),
    ],
)
def test_course_form_errors_show_on_the_field_and_save_nothing(
    login_as, trainer, rendered, data, field
):
    client = login_as(trainer)
    response = client.post("/manage/courses/new", data=page_course(**data))
    assert response.status_code == 200
    form = form_of(rendered, "manage/course_form.html")
    assert getattr(form, field).errors, form.errors
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count(Course) == 0


def test_session_form_errors_show_on_the_field_and_save_nothing(login_as, trainer, draft, rendered):
    make_session(draft, starts_at=datetime(2030, 5, 6, 1, 0, tzinfo=UTC))  # 09:00–11:00 Shanghai
    client = login_as(trainer)
    cases = [
        ({"starts_at": "2030-05-06T10:00", "ends_at": "2030-05-06T12:00"}, "starts_at"),
        ({"starts_at": "2030-05-07T10:00", "ends_at": "2030-05-07T09:00"}, "ends_at"),
        (
            {"starts_at": "2030-05-07T10:00", "ends_at": "2030-05-07T12:00", "class_hours": "0"},
            "class_hours",
        ),
        (
            {"starts_at": "2030-05-07T10:00", "ends_at": "2030-05-07T12:00", "capacity": "0"},
            "capacity",
        ),
        ({"starts_at": "2030-05-07T10:00", "ends_at": "2030-05-07T12:00", "venue": ""}, "venue"),
    ]
    for data, field in cases:
        payload = {"mode": "offline", "venue": "服务中心", **data}
        response = client.post(f"/manage/courses/{draft.id}/sessions", data=payload)
        assert response.status_code == 200, data
        form = form_of(rendered, "manage/sessions.html")
        assert getattr(form, field).errors, (data, form.errors)
    assert count(CourseSession) == 1


def test_publishing_without_sessions_on_the_page_is_refused(login_as, trainer, draft, flashed):
    client = login_as(trainer)
    response = client.post(f"/manage/courses/{draft.id}/status", data={"status": "published"})
    assert response.status_code == 302
    assert fresh(draft).status == PublicationStatus.DRAFT
    assert flashed[-1][0] == "error"
    assert "session" in flashed[-1][1].lower() or "课次" in flashed[-1][1]


def test_cloning_on_the_page_keeps_the_local_time_of_day(login_as, trainer):
    course = make_course(trainers=[trainer], sessions=2)  # Mondays 09:30 Shanghai
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{course.id}/clone",
        data={"title": "第二期", "first_session_on": "2031-03-03"},
    )
    assert response.status_code == 302
    copy = db.session.scalar(sa.select(Course).where(Course.cloned_from_id == course.id))
    assert response.headers["Location"] == f"/manage/courses/{copy.id}"
    assert copy.status == PublicationStatus.DRAFT
    assert [s.starts_at for s in copy.sessions] == [
        datetime(2031, 3, 3, 1, 30, tzinfo=UTC),
        datetime(2031, 3, 10, 1, 30, tzinfo=UTC),
    ]


def test_editing_and_deleting_a_session_on_the_pages(login_as, trainer, draft):
    session = make_session(draft)
    client = login_as(trainer)
    response = client.post(
        f"/manage/sessions/{session.id}",
        data={
            "title": "第一讲",
            "starts_at": "2030-03-04T09:30",
            "ends_at": "2030-03-04T12:30",
            "mode": "recorded",
            "video_url": "https://v.example.org/1.mp4",
            "class_hours": "",
        },
    )
    assert response.status_code == 302
    session = fresh(session)
    assert (session.title, session.mode, session.class_hours) == (
        "第一讲",
        SessionMode.RECORDED,
        4.0,
    )
    assert session.venue is None
    assert client.post(f"/manage/sessions/{session.id}/delete").status_code == 302
    assert count(CourseSession) == 0


def test_the_manage_link_shows_for_trainers_only(app, app_ctx, login_as, trainer):
    client = login_as(trainer)
    assert 'href="/manage/"' in client.get("/").get_data(as_text=True)
    learner_client = app.test_client()
    learner = make_user()
    learner_client.post("/login", data={"login": learner.email, "password": "correct-horse-9"})
    assert 'href="/manage/"' not in learner_client.get("/").get_data(as_text=True)


def test_the_course_list_runs_a_fixed_number_of_statements(login_as, trainer, count_queries):
    client = login_as(trainer)
    for n in range(2):
        make_course(f"课程{n}", trainers=[trainer], sessions=2)
    with count_queries() as few:
        client.get("/manage/")
    for n in range(6):
        make_course(f"更多课程{n}", trainers=[trainer], sessions=2)
    with count_queries() as many:
        assert client.get("/manage/").status_code == 200
    assert len(many) == len(few)


# --- on a phone ----------------------------------------------------------------------------------


@pytest.fixture
def phone(app):  # type: ignore[no-untyped-def]
    """A 375 px wide Chromium page against a live server of the test app."""
    import shutil
    import threading

    from playwright import sync_api as playwright_api
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(
            viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True
        )
        page = context.new_page()
        page.base_url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
        yield page
        context.close()
        browser.close()
    server.shutdown()
    thread.join(timeout=5)


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_trainer_builds_and_publishes_a_course_on_a_phone(app_ctx, phone):
    trainer = make_trainer(name="手机讲师", email="phone.trainer@example.org")
    base = phone.base_url
    phone.goto(f"{base}/login")
    phone.fill("input[name=login]", "phone.trainer@example.org")
    phone.fill("input[name=password]", "correct-horse-9")
    phone.click("form button[type=submit]")
    phone.wait_for_load_state()

    phone.click("#menu-toggle")  # on a phone the menu folds behind one button
    phone.click("a[href='/manage/']")
    phone.wait_for_load_state()
    assert fits_the_screen(phone)
    phone.click("a[href='/manage/courses/new']")
    phone.wait_for_load_state()
    assert fits_the_screen(phone)
    phone.fill("input[name=title]", "城乡融合发展专题讲座")
    phone.fill("input[name=topic]", "城乡融合")
    phone.select_option("select[name=level]", "intermediate")
    phone.select_option("select[name=mode]", "hybrid")
    phone.fill("input[name=capacity]", "60")
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()

    assert "/sessions" in phone.url
    assert fits_the_screen(phone)
    phone.fill("input[name=starts_at]", "2030-06-01T23:30")
    phone.fill("input[name=ends_at]", "2030-06-02T01:00")
    phone.select_option("select[name=mode]", "online")
    phone.fill(
        "input[name=meeting_url]", "https://meeting.tencent.com/dm/abcdefghijklmnopqrstuvwxyz"
    )
    phone.fill("input[name=meeting_number]", "123 456 789")
    phone.click("#add form button[type=submit]")
    phone.wait_for_load_state()
    assert "2030-06-01 23:30" in phone.content()
    assert fits_the_screen(phone)

    phone.goto(f"{base}/manage/")
    phone.click("form[action$='/status'] button")  # the first: publish
    phone.wait_for_load_state()
    assert fits_the_screen(phone)
    course = db.session.scalar(sa.select(Course))
    db.session.refresh(course)
    assert course.status == PublicationStatus.PUBLISHED
    assert [t.id for t in course.trainers] == [trainer.id]
    assert course.sessions[0].starts_at == datetime(2030, 6, 1, 15, 30, tzinfo=UTC)

    # An offline session too, then the programme that gathers the trainer's courses.
    phone.goto(f"{base}/manage/courses/{course.id}/sessions")
    phone.fill("input[name=starts_at]", "2030-06-08T09:30")
    phone.fill("input[name=ends_at]", "2030-06-08T12:00")
    phone.select_option("select[name=mode]", "offline")
    phone.fill("input[name=venue]", "桂城街道社会工作服务中心")
    phone.fill("input[name=room]", "3楼培训室")
    phone.click("#add form button[type=submit]")
    phone.wait_for_load_state()
    assert "2030-06-08 09:30" in phone.content()

    phone.goto(f"{base}/manage/programmes")
    assert fits_the_screen(phone)
    phone.fill("#add input[name=title]", "城乡融合发展系列")
    phone.fill("#add #course_ids-search", "城乡")  # the picker finds the course
    phone.click("#add .picker-option:has-text('城乡融合发展专题讲座')")
    assert phone.is_checked(f"#add input[name=course_ids][value='{course.id}']")
    assert fits_the_screen(phone)
    phone.click("#add form button[type=submit]")
    phone.wait_for_load_state()
    db.session.rollback()  # end this test's read snapshot: the server wrote since
    programme = db.session.scalar(sa.select(Programme))
    assert programme is not None, phone.inner_text("main")
    assert programme.created_by_id == trainer.id
    phone.goto(f"{base}/manage/programmes/{programme.id}")
    phone.click("form[action$='/status'] button")  # the first: publish
    phone.wait_for_load_state()
    assert fits_the_screen(phone)
    db.session.rollback()
    programme = db.session.get(Programme, programme.id)
    assert programme.status == PublicationStatus.PUBLISHED
    assert [c.id for c in programme.courses] == [course.id]
    assert len(db.session.get(Course, course.id).sessions) == 2


def test_an_admin_picks_trainers_and_prerequisites_by_searching_on_a_phone(app_ctx, phone):
    admin = make_admin(email="phone.admin@example.org")
    kept = make_trainer(name="何志明")
    make_trainer(name="黄丽芳")
    for n in range(30):
        make_trainer(name=f"讲师{n:02d}")
    basics = make_course("社会工作概论", topic="社工基础")
    course = make_course("个案工作", trainers=[kept], status=PublicationStatus.DRAFT)
    base = phone.base_url
    phone.goto(f"{base}/login")
    phone.fill("input[name=login]", admin.email)
    phone.fill("input[name=password]", "correct-horse-9")
    phone.click("form button[type=submit]")
    phone.wait_for_load_state()

    phone.goto(f"{base}/manage/courses/{course.id}")
    assert phone.locator("input[name=trainer_ids]").count() == 1  # only the chosen one
    assert fits_the_screen(phone)
    search = phone.locator("#trainer_ids-search")
    search.fill("黄")
    phone.wait_for_selector("#trainer_ids .picker-option")
    assert phone.locator("#trainer_ids .picker-option").all_inner_texts() == ["黄丽芳"]
    search.press("ArrowDown")
    search.press("Enter")  # picks; does not send the form
    assert phone.locator("input[name=trainer_ids]:checked").count() == 2
    phone.uncheck(f"input[name=trainer_ids][value='{kept.id}']")
    prerequisites = phone.locator("#prerequisite_ids-search")
    prerequisites.fill("概论")
    phone.click("#prerequisite_ids .picker-option:has-text('社会工作概论')")
    assert fits_the_screen(phone)
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    db.session.rollback()
    saved = db.session.get(Course, course.id)
    assert [t.name for t in saved.trainers] == ["黄丽芳"]
    assert [c.id for c in saved.prerequisites] == [basics.id]


# --- the same rules for pages and API (issue 12 item 4) ------------------------------------------


def edit_form(course: Course, **overrides: Any) -> dict[str, Any]:
    return page_course(**{"title": course.title, **overrides})


def test_a_trainer_cannot_choose_trainers_on_the_page(login_as, trainer, draft, flashed):
    colleague, outsider = make_trainer(), make_trainer()
    draft.trainers = [trainer, colleague]
    db.session.commit()
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{draft.id}",
        data=edit_form(draft, title="不该保存", trainer_ids=[str(outsider.id)]),
    )
    assert response.status_code == 200
    assert flashed[-1][0] == "error"
    course = fresh(draft)
    assert course.title == "草稿课程"
    assert {t.id for t in course.trainers} == {trainer.id, colleague.id}
    # The form as the page shows it (no trainers' field) saves and keeps the co-trainer.
    response = client.post(f"/manage/courses/{draft.id}", data=edit_form(draft, title="新标题"))
    assert response.status_code == 302
    course = fresh(draft)
    assert course.title == "新标题"
    assert {t.id for t in course.trainers} == {trainer.id, colleague.id}
    response = client.post("/manage/courses/new", data=page_course(trainer_ids=[str(outsider.id)]))
    assert response.status_code == 200
    assert count(Course) == 1


def test_an_admin_chooses_trainers_on_the_page(login_as, trainer, draft):
    outsider = make_trainer()
    client = login_as(make_admin())
    response = client.post(
        f"/manage/courses/{draft.id}", data=edit_form(draft, trainer_ids=[str(outsider.id)])
    )
    assert response.status_code == 302
    assert {t.id for t in fresh(draft).trainers} == {outsider.id}


def test_the_page_offers_and_accepts_the_same_programmes(login_as, trainer, draft, rendered):
    mine = make_programme("我的计划", created_by_id=trainer.id)
    archived = make_programme("已归档", created_by_id=trainer.id, status=PublicationStatus.ARCHIVED)
    theirs = make_programme("别人的计划", created_by_id=make_trainer().id)
    client = login_as(trainer)
    assert client.get(f"/manage/courses/{draft.id}").status_code == 200
    form = form_of(rendered, "manage/course_form.html")
    assert [value for value, _label in form.programme_id.choices] == [0]  # none chosen yet
    offered = client.get("/manage/choices/programmes?q=").get_json()["items"]
    assert [item["id"] for item in offered] == [mine.id]
    for programme in (archived, theirs):
        response = client.post(
            f"/manage/courses/{draft.id}", data=edit_form(draft, programme_id=str(programme.id))
        )
        assert response.status_code == 200
        assert form_of(rendered, "manage/course_form.html").programme_id.errors
        assert fresh(draft).programme_id is None
    response = client.post(
        f"/manage/courses/{draft.id}", data=edit_form(draft, programme_id=str(mine.id))
    )
    assert response.status_code == 302
    assert fresh(draft).programme_id == mine.id


@pytest.mark.parametrize("date", ["9999-12-31", "2031-03-03"])
def test_clone_date_rules_on_the_page(login_as, trainer, flashed, date):
    """A date beyond what the sessions can move to, or a date for a course without sessions,
    is refused with a message and copies nothing."""
    with_sessions = make_course(trainers=[trainer], sessions=2)
    without = make_course(trainers=[trainer], status=PublicationStatus.DRAFT)
    course = with_sessions if date.startswith("9999") else without
    client = login_as(trainer)
    response = client.post(f"/manage/courses/{course.id}/clone", data={"first_session_on": date})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/courses/{course.id}"
    assert flashed[-1][0] == "error"
    assert count(Course) == 2
