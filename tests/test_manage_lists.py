"""The trainers' long lists stay bounded: the course list, a course's roster and a
session's roll-call come a page at a time, with a search, in a number of statements
that does not grow with the rows (SPEC §4 Speed; STYLE 10)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from courses.db import db
from courses.models import Course, EnrolmentStatus, PublicationStatus
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
