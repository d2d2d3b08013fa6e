"""The trainers' long lists stay bounded: the course list, a course's roster and a
session's roll-call come a page at a time, with a search, in a number of statements
that does not grow with the rows (SPEC §4 Speed; STYLE 10)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceRecord,
    AttendanceStatus,
    Course,
    EnrolmentStatus,
    PublicationStatus,
)
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)

#: Much less than the 633 KB the list weighed with every course of a scale-10 demo.
MAX_PAGE_BYTES = 80_000


def links(html: str, rel: str) -> list[str]:
    return [unescape(href) for href in re.findall(rf'href="([^"]+)" rel="{rel}"', html)]


def selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="card-title"><a href="/manage/courses/\d+">([^<]+)</a>', html)


@pytest.fixture
def trainer(app_ctx):  # type: ignore[no-untyped-def]
    return make_trainer(name="王讲师")


def test_the_course_list_comes_a_page_at_a_time_in_bounded_size_and_statements(
    login_as, trainer, count_queries
):
    for n in range(3):
        make_course(f"课程{n:03d}", trainers=[trainer], sessions=2)
    client = login_as(trainer)
    with count_queries() as few:
        assert client.get("/manage/").status_code == 200
    for n in range(3, 120):
        course = make_course(f"课程{n:03d}", trainers=[trainer], sessions=2)
    learners = [make_user() for _ in range(5)]
    for learner in learners[:3]:
        make_enrolment(course, learner, EnrolmentStatus.PENDING)
    for position, learner in enumerate(learners[3:], start=1):
        make_enrolment(course, learner, EnrolmentStatus.WAITLISTED, waitlist_position=position)

    with count_queries() as many:
        response = client.get("/manage/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(selects(many)) == len(selects(few)) <= 8
    assert len(response.data) < MAX_PAGE_BYTES
    shown = titles(html)
    assert len(shown) == 20 and shown[0] == "课程119"  # newest first
    assert "120 门课程" in html  # trainers searching or filtering see the plain count
    assert html.count("2 个课次") == 20
    assert "3 人待审核" in html and "2 人候补" in html  # the newest course's queue

    seen = list(shown)
    next_pages = links(html, "next")
    while next_pages:
        html = client.get(next_pages[0]).get_data(as_text=True)
        seen += titles(html)
        next_pages = links(html, "next")
    assert sorted(seen) == [f"课程{n:03d}" for n in range(120)]
    assert links(html, "prev") == ["/manage/?page=5"]


def test_the_course_list_counts_sessions_hours_and_waiting_learners_in_sql(
    app_ctx, trainer, login_as, rendered
):
    course = make_course("个案工作", trainers=[trainer], sessions=3)
    make_session(course, starts_at=course.sessions[-1].ends_at, class_hours=1.5)
    make_enrolment(course, make_user(), EnrolmentStatus.PENDING)
    make_enrolment(course, make_user(), EnrolmentStatus.WAITLISTED, waitlist_position=1)
    make_enrolment(course, make_user())
    make_course("空课程", trainers=[trainer])
    login_as(trainer).get("/manage/")
    page = [context for name, context in rendered if name == "manage/index.html"][-1]["page"]
    figures = {
        line.title: (line.session_count, line.class_hours, line.pending, line.waitlisted)
        for line in page.items
    }
    assert figures == {"个案工作": (4, 9.51, 1, 1), "空课程": (0, 0.0, 0, 0)}


def test_the_course_list_searches_and_filters_by_status(app_ctx, trainer, login_as):
    make_course("社区心理健康服务", trainers=[trainer], topic="心理健康")
    make_course("通讯员培训", trainers=[trainer], status=PublicationStatus.DRAFT)
    make_course("旧课程", trainers=[trainer], status=PublicationStatus.ARCHIVED)
    make_course("别人的心理课", trainers=[make_trainer(name="李讲师")])
    client = login_as(trainer)

    def shown(url: str) -> set[str]:
        response = client.get(url)
        assert response.status_code == 200
        return set(titles(response.get_data(as_text=True)))

    assert shown("/manage/") == {"社区心理健康服务", "通讯员培训", "旧课程"}
    assert shown("/manage/?q=心理") == {"社区心理健康服务"}
    assert shown("/manage/?q=健康") == {"社区心理健康服务"}  # the topic too
    assert shown("/manage/?status=draft") == {"通讯员培训"}
    assert shown("/manage/?status=archived&q=旧") == {"旧课程"}
    assert shown("/manage/?status=published&q=通讯") == set()
    assert shown("/manage/?q=%25") == set()  # a wildcard is taken literally
    assert shown("/manage/?status=nonsense") == {"社区心理健康服务", "通讯员培训", "旧课程"}
    html = client.get("/manage/?status=draft&q=通讯").get_data(as_text=True)
    assert 'name="status" value="draft"' in html  # the search keeps the status


def test_an_admin_searches_every_course_by_its_trainer(app, app_ctx, login_as):
    make_course("甲课程", trainers=[make_trainer(name="陈老师")])
    make_course("乙课程", trainers=[make_trainer(name="何老师")])
    client = login_as(make_admin())
    html = client.get("/manage/?q=陈老师").get_data(as_text=True)
    assert set(titles(html)) == {"甲课程"}
    assert "陈老师" in html


def test_a_status_button_on_the_list_returns_to_the_same_page(app_ctx, trainer, login_as):
    oldest = make_course("最早的课程", trainers=[trainer], sessions=1)
    for n in range(25):
        course = make_course(f"课程{n:02d}", trainers=[trainer], sessions=1)
    client = login_as(trainer)
    page_two = "/manage/?page=2"
    assert "最早的课程" in client.get(page_two).get_data(as_text=True)
    response = client.post(
        f"/manage/courses/{oldest.id}/status", data={"status": "archived", "next": page_two}
    )
    assert response.status_code == 302 and response.headers["Location"] == page_two
    db.session.expire_all()
    assert db.session.get(Course, oldest.id).status == PublicationStatus.ARCHIVED
    for elsewhere in ("https://evil.example/", "//evil.example/manage/", "/manage/courses/1"):
        response = client.post(
            f"/manage/courses/{course.id}/status", data={"status": "draft", "next": elsewhere}
        )
        assert response.headers["Location"] == "/manage/"


# --- a course of 300 learners: its roster and a session's roll-call ---------------------------


@pytest.fixture
def big_course(app_ctx, trainer):  # type: ignore[no-untyped-def]
    """A course of 300 enrolled learners named 学员000…学员299 and one session of it."""
    course = make_course("社工考前培训", trainers=[trainer], capacity=None)
    session = make_session(course, starts_at=datetime.now(UTC) + timedelta(minutes=5))
    learners = [
        make_user(f"学员{n:03d}", phone=f"1370000{n:04d}", email=f"learner{n}@example.org")
        for n in range(300)
    ]
    for learner in learners:
        make_enrolment(course, learner)
    return course, session, learners


def names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="cell-title">(?:<input[^>]*>)?(学员\d{3})', html)


def test_the_roster_of_300_comes_50_at_a_time_with_a_search(
    login_as, trainer, big_course, count_queries
):
    course, _session, _learners = big_course
    client = login_as(trainer)
    url = f"/manage/courses/{course.id}/enrolments"
    with count_queries() as statements:
        response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) < MAX_PAGE_BYTES
    assert len(selects(statements)) <= 10
    assert len(names(html)) == 50
    seen = names(html)
    next_pages = links(html, "next")
    while next_pages:
        html = client.get(next_pages[0]).get_data(as_text=True)
        seen += names(html)
        next_pages = links(html, "next")
    assert sorted(seen) == [f"学员{n:03d}" for n in range(300)]
    assert names(client.get(f"{url}?q=13700000123").get_data(as_text=True)) == ["学员123"]


def test_the_roll_call_of_300_is_a_page_of_50_in_bounded_size_and_statements(
    login_as, trainer, big_course, count_queries
):
    _course, session, _learners = big_course
    client = login_as(trainer)
    url = f"/manage/sessions/{session.id}/attendance"
    with count_queries() as statements:
        response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(response.data) < MAX_PAGE_BYTES
    assert len(selects(statements)) <= 12
    assert names(html) == [f"学员{n:03d}" for n in range(50)]
    assert "未标记 (300)" in html or "Not yet marked (300)" in html
    html = client.get(links(html, "next")[0]).get_data(as_text=True)
    assert names(html) == [f"学员{n:03d}" for n in range(50, 100)]
    found = names(client.get(f"{url}?q=学员2").get_data(as_text=True))
    assert found == [f"学员{n}" for n in range(200, 250)]  # 100 match: the first page
    assert names(client.get(f"{url}?q=13700000277").get_data(as_text=True)) == ["学员277"]


def test_a_trainer_marks_all_300_from_the_paged_roll_call(login_as, trainer, big_course):
    _course, session, learners = big_course
    client = login_as(trainer)
    url = f"/manage/sessions/{session.id}/attendance"
    by_name = {learner.name: learner for learner in learners}

    # Page 2: one absent, the others of that page present.
    page_two = [by_name[f"学员{n:03d}"] for n in range(50, 100)]
    form = {"shown": [str(u.id) for u in page_two], "rest": "page"}
    form[f"status-{page_two[0].id}"] = "absent"
    response = client.post(f"{url}?page=2", data=form)
    assert response.status_code == 302 and response.headers["Location"] == f"{url}?page=2"
    marked = statuses()
    assert len(marked) == 50 and marked[page_two[0].id] == AttendanceStatus.ABSENT
    assert set(marked) == {u.id for u in page_two}

    # A name found by the search: late; then everyone not yet marked, on every page.
    late = by_name["学员277"]
    response = client.post(
        f"{url}?q=学员277",
        data={"shown": str(late.id), f"status-{late.id}": "late", f"minutes-{late.id}": "100"},
    )
    assert response.headers["Location"] == f"{url}?q=%E5%AD%A6%E5%91%98277"
    response = client.post(url, data={"rest": "present"})
    assert response.status_code == 302
    marked = statuses()
    assert len(marked) == 300
    assert marked[late.id] == AttendanceStatus.LATE
    assert marked[page_two[0].id] == AttendanceStatus.ABSENT  # not overwritten
    assert sum(1 for s in marked.values() if s == AttendanceStatus.PRESENT) == 298
    html = client.get(f"{url}?show=unmarked").get_data(as_text=True)
    assert names(html) == []
    assert names(client.get(f"{url}?show=absent").get_data(as_text=True)) == ["学员050"]


def statuses() -> dict[int, AttendanceStatus]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(AttendanceRecord.user_id, AttendanceRecord.status))
    return dict(rows.all())
