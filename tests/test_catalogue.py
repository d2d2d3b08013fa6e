"""The catalogue: search in Chinese, filters, pagination, course and programme pages.

Every test runs on the backend the suite was started with, so the same expectations
(the same course ids for 心理) hold on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import NotFound
from courses.models import CourseLevel, CourseMode, EnrolmentStatus, PublicationStatus, SessionMode
from courses.services import catalogue
from courses.settings import local_zone
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_programme,
    make_session,
    make_token,
    make_trainer,
    make_user,
)

MARCH = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)


def ids(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [card.course.id for card in page.items]


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# ---- search -----------------------------------------------------------------------------


def test_search_finds_chinese_substrings_in_title_and_summary(app_ctx) -> None:
    by_title = make_course("心理健康服务", sessions=1, first_session_at=MARCH)
    by_summary = make_course(
        "关爱专员培训", summary="包括长者心理支持与危机干预", sessions=1, first_session_at=MARCH
    )
    make_course("社工考前培训", summary="综合能力与实务", sessions=1, first_session_at=MARCH)
    make_course("心理草稿", status=PublicationStatus.DRAFT)

    assert ids(catalogue.search(q="心理")) == [by_title.id, by_summary.id]
    assert ids(catalogue.search(q="心理健康")) == [by_title.id]
    assert ids(catalogue.search(q="心")) == [by_title.id, by_summary.id]
    assert ids(catalogue.search(q="  心理  ")) == [by_title.id, by_summary.id]
    assert ids(catalogue.search(q="危机干预")) == [by_summary.id]
    assert catalogue.search(q="城乡融合").total == 0


def test_search_ignores_ascii_case_on_both_backends(app_ctx) -> None:
    course = make_course("PPT 制作与宣传", summary="Office 基础")
    assert ids(catalogue.search(q="ppt")) == [course.id]
    assert ids(catalogue.search(q="OFFICE")) == [course.id]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("%", "满意度100%"), ("_", "case_work"), ("\\", "路径\\说明"), ("100%", "满意度100%")],
)
def test_wildcards_in_the_search_term_are_literal(app_ctx, term: str, expected: str) -> None:
    for title in ("满意度100%", "case_work", "caseXwork", "路径\\说明", "普通课程"):
        make_course(title)
    assert [card.course.title for card in catalogue.search(q=term).items] == [expected]


def test_an_empty_search_lists_every_published_course(app_ctx) -> None:
    published = [make_course() for _ in range(3)]
    make_course(status=PublicationStatus.DRAFT)
    make_course(status=PublicationStatus.ARCHIVED)
    assert ids(catalogue.search(q="")) == [course.id for course in published]
    assert catalogue.search().total == 3


# ---- filters ----------------------------------------------------------------------------


def test_filter_by_topic_level_and_mode(app_ctx) -> None:
    a = make_course(topic="社会组织培育", level=CourseLevel.INTERMEDIATE, mode=CourseMode.ONLINE)
    b = make_course(topic="社会组织培育", level=CourseLevel.BEGINNER, mode=CourseMode.HYBRID)
    c = make_course(topic="通讯员培训", level=CourseLevel.INTERMEDIATE, mode=CourseMode.HYBRID)

    assert ids(catalogue.search(topic="社会组织培育")) == [a.id, b.id]
    assert ids(catalogue.search(level="intermediate")) == [a.id, c.id]
    assert ids(catalogue.search(level=CourseLevel.BEGINNER)) == [b.id]
    assert ids(catalogue.search(mode="hybrid")) == [b.id, c.id]
    assert ids(catalogue.search(topic="社会组织培育", mode=CourseMode.HYBRID)) == [b.id]
    assert ids(catalogue.search(topic="社会组织")) == []  # topic is exact


def test_filter_by_month_uses_shanghai_time(app_ctx) -> None:
    # 2030-03-31 16:30 UTC is 2030-04-01 00:30 in Shanghai: an April session.
    april_in_shanghai = make_course(
        sessions=1, first_session_at=datetime(2030, 3, 31, 16, 30, tzinfo=UTC)
    )
    # 2030-02-28 16:00 UTC is 2030-03-01 00:00 in Shanghai: a March session.
    march_in_shanghai = make_course(
        sessions=1, first_session_at=datetime(2030, 2, 28, 16, 0, tzinfo=UTC)
    )
    # Sessions in March and May: found for both months, once.
    spread = make_course(sessions=1, first_session_at=MARCH)
    make_session(spread, starts_at=datetime(2030, 5, 6, 1, 30, tzinfo=UTC))
    make_course()  # no sessions at all

    assert ids(catalogue.search(month="2030-03")) == [march_in_shanghai.id, spread.id]
    assert ids(catalogue.search(month="2030-04")) == [april_in_shanghai.id]
    assert ids(catalogue.search(month="2030-05")) == [spread.id]
    assert catalogue.search(month="2030-05").total == 1
    assert ids(catalogue.search(month="2030-12")) == []


def test_month_bounds_cover_december(app_ctx) -> None:
    start, end = catalogue.month_bounds("2030-12")
    assert start == datetime(2030, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2030, 12, 31, 16, 0, tzinfo=UTC)


def test_filter_available_keeps_courses_with_seats_and_an_open_window(app_ctx) -> None:
    now = datetime.now(UTC)
    open_seats = make_course(capacity=2, seats_taken=1)
    unlimited = make_course(capacity=None)
    make_course(capacity=2, seats_taken=2)  # full
    make_course(capacity=10, enrol_closes_at=now - timedelta(hours=1))  # window closed
    still_open = make_course(
        capacity=10,
        enrol_opens_at=now - timedelta(days=3),
        enrol_closes_at=now + timedelta(days=1),
    )

    assert ids(catalogue.search(available=True)) == [open_seats.id, unlimited.id, still_open.id]
    assert catalogue.search(available=False).total == 5


# ---- cards, order, pagination -----------------------------------------------------------


def test_cards_carry_hours_seats_next_session_and_trainers(app_ctx) -> None:
    trainer = make_trainer(name="陈老师")
    course = make_course(capacity=30, seats_taken=4, trainers=[trainer])
    past = datetime.now(UTC) - timedelta(days=30)
    make_session(course, starts_at=past, class_hours=2)
    make_session(course, starts_at=MARCH + timedelta(days=7), class_hours=3)
    make_session(course, starts_at=MARCH, class_hours=1.5)

    (card,) = catalogue.search().items
    assert card.class_hours == 6.5
    assert card.seats_left == 26
    assert card.next_session_at == MARCH  # the past session is not "next"
    assert [t.name for t in card.trainers] == ["陈老师"]
    assert card.trainer_ids == [trainer.id]
    assert card.title == course.title  # a card reads like its course


def test_order_is_next_session_first_then_id(app_ctx) -> None:
    later = make_course(sessions=1, first_session_at=MARCH + timedelta(days=10))
    no_sessions = make_course()
    sooner = make_course(sessions=1, first_session_at=MARCH)
    only_past = make_course(sessions=1, first_session_at=datetime.now(UTC) - timedelta(days=3))
    same_time = make_course(sessions=1, first_session_at=MARCH)

    assert ids(catalogue.search()) == [
        sooner.id,
        same_time.id,
        later.id,
        no_sessions.id,
        only_past.id,
    ]


def test_pagination_counts_every_match(app_ctx) -> None:
    courses = [make_course(f"心理课程{n:02d}") for n in range(25)]
    make_course("其他")

    first = catalogue.search(q="心理", page=1, per_page=10)
    last = catalogue.search(q="心理", page=3, per_page=10)
    assert (first.total, first.pages, len(first.items)) == (25, 3, 10)
    assert ids(last) == [course.id for course in courses[20:]]
    assert last.has_prev and not last.has_next
    assert catalogue.search(q="心理", page=9, per_page=10).items == []
    assert catalogue.search(per_page=1000).per_page == 100
    assert catalogue.search(page=0).page == 1


def test_topics_are_distinct_and_published_only(app_ctx) -> None:
    make_course(topic="通讯员培训")
    make_course(topic="通讯员培训")
    make_course(topic="社会组织培育")
    make_course(topic="草稿主题", status=PublicationStatus.DRAFT)
    assert catalogue.topics() == sorted(["通讯员培训", "社会组织培育"])


def _populate(count: int) -> None:
    trainers = [make_trainer(), make_trainer()]
    programme = make_programme()
    for number in range(count):
        make_course(
            f"心理课程{number}",
            trainers=trainers[: 1 + number % 2],
            sessions=2,
            first_session_at=MARCH + timedelta(days=number),
            programme_id=programme.id,
        )


@pytest.mark.parametrize("url", ["/courses", "/courses?q=心理&level=beginner&available=1"])
def test_catalogue_page_runs_the_same_statements_for_3_or_30_courses(
    app_ctx, client, count_queries, url: str
) -> None:
    counts = []
    for size in (3, 30):
        if size == 30:
            _populate(27)
        else:
            _populate(3)
        db.session.expunge_all()
        with count_queries() as statements:
            response = client.get(url + ("&" if "?" in url else "?") + "per_page=50")
        assert response.status_code == 200
        counts.append(len(statements))
    # BEGIN (SQLite only), the count, the page, its trainers, the topics.
    assert counts[0] == counts[1], counts
    assert counts[0] <= 5, (counts, [s[:60] for s in statements])


def test_search_service_runs_a_fixed_number_of_statements(app_ctx, count_queries) -> None:
    _populate(12)
    db.session.expunge_all()
    with count_queries() as statements:
        page = catalogue.search(q="心理", per_page=50)
        for card in page.items:
            _ = [trainer.name for trainer in card.trainers], card.class_hours, card.seats_left
    assert page.total == 12
    # The count, the page and its trainers (plus SQLite's BEGIN); short-term searches on
    # PostgreSQL add no statement, they only use other indexes.
    assert len([s for s in statements if s != "BEGIN"]) == 3, statements


# ---- course detail ----------------------------------------------------------------------


def test_course_detail_collects_timetable_trainers_programme(app_ctx) -> None:
    trainer = make_trainer()
    programme = make_programme("桂城街道社工新人培育计划")
    course = make_course(trainers=[trainer], programme_id=programme.id, capacity=None)
    make_session(course, starts_at=MARCH + timedelta(days=7), class_hours=2)
    make_session(course, starts_at=MARCH, class_hours=1)
    course_id, trainer_id = course.id, trainer.id
    db.session.expunge_all()

    detail = catalogue.course_detail(course_id)
    assert [s.starts_at for s in detail.sessions] == [MARCH, MARCH + timedelta(days=7)]
    assert detail.class_hours == 3
    assert detail.seats_left is None
    assert detail.programme.title == "桂城街道社工新人培育计划"
    assert detail.trainer_ids == [trainer_id]
    assert detail.next_session_at == MARCH
    assert detail.can_manage is False


def test_course_detail_runs_a_fixed_number_of_statements(app_ctx, count_queries) -> None:
    counts = []
    for sessions in (2, 20):
        course_id = make_course(trainers=[make_trainer()], sessions=sessions).id
        db.session.expunge_all()
        with count_queries() as statements:
            detail = catalogue.course_detail(course_id)
            _ = [s.venue for s in detail.sessions], [t.name for t in detail.trainers]
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5, counts


def test_drafts_and_archived_courses_are_hidden_except_from_their_managers(app_ctx) -> None:
    owner = make_trainer()
    draft = make_course(status=PublicationStatus.DRAFT, trainers=[owner])
    archived = make_course(status=PublicationStatus.ARCHIVED, trainers=[owner])
    for course in (draft, archived):
        with pytest.raises(NotFound):
            catalogue.course_detail(course.id)
        with pytest.raises(NotFound):
            catalogue.course_detail(course.id, viewer=make_user())
        with pytest.raises(NotFound):
            catalogue.course_detail(course.id, viewer=make_trainer())
        assert catalogue.course_detail(course.id, viewer=owner).can_manage
        assert catalogue.course_detail(course.id, viewer=make_admin()).can_manage
    with pytest.raises(NotFound):
        catalogue.course_detail(999_999)


# ---- programmes -------------------------------------------------------------------------


def test_programmes_list_published_ones_with_their_published_course_counts(app_ctx) -> None:
    newcomers = make_programme("桂城街道社工新人培育计划")
    camp = make_programme("关爱专员创智营")
    make_programme("草稿计划", status=PublicationStatus.DRAFT)
    make_course(programme_id=newcomers.id)
    make_course(programme_id=newcomers.id)
    make_course(programme_id=newcomers.id, status=PublicationStatus.DRAFT)

    entries = {entry.programme.id: entry.course_count for entry in catalogue.published_programmes()}
    assert entries == {newcomers.id: 2, camp.id: 0}


def test_programme_detail_lists_its_published_courses(app_ctx) -> None:
    programme = make_programme(required_course_count=2, required_hours=12)
    first = make_course(programme_id=programme.id, sessions=2, first_session_at=MARCH)
    second = make_course(programme_id=programme.id, sessions=1, first_session_at=MARCH)
    make_course(programme_id=programme.id, status=PublicationStatus.DRAFT)
    make_course()  # another programme's

    detail = catalogue.programme_detail(programme.id)
    assert [card.course.id for card in detail.courses] == [first.id, second.id]
    assert detail.class_hours == pytest.approx(3 * 2.67)

    hidden = make_programme(status=PublicationStatus.DRAFT)
    with pytest.raises(NotFound):
        catalogue.programme_detail(hidden.id)
    assert catalogue.programme_detail(hidden.id, viewer=make_admin()).programme.id == hidden.id


# ---- pages ------------------------------------------------------------------------------


def _assert_good_page(html: str) -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "style=" not in html
    # Scripts only from the site's own static files, never inline (the CSP forbids it).
    assert re.findall(r'<script(?![^>]*\bsrc="/static/js/)', html) == []


def test_catalogue_page_shows_cards_and_filters(app_ctx, client) -> None:
    trainer = make_trainer(name="黄老师")
    course = make_course(
        "心理健康服务",
        topic="心理健康",
        mode=CourseMode.HYBRID,
        capacity=40,
        seats_taken=10,
        trainers=[trainer],
        sessions=2,
        first_session_at=MARCH,
    )
    make_course("通讯员培训", topic="通讯员培训")

    html = _html(client.get("/courses"))
    _assert_good_page(html)
    assert f'href="/courses/{course.id}"' in html
    assert "2030-03-04 09:30" in html  # 01:30 UTC is 09:30 in Shanghai
    assert "黄老师" in html
    assert '<option value="心理健康"' in html and '<option value="通讯员培训"' in html
    assert 'name="q"' in html and 'name="month"' in html and 'name="available"' in html

    html = _html(client.get("/courses?q=心理&mode=hybrid&level=nonsense&month=bad"))
    assert "心理健康服务" in html and "通讯员培训</a>" not in html
    assert 'value="hybrid" selected' in html


def test_catalogue_page_paginates_keeping_the_filters(app_ctx, client) -> None:
    for number in range(14):
        make_course(f"心理课程{number:02d}")
    html = _html(client.get("/courses?q=心理"))
    assert html.count('class="card course-card"') == 12
    assert "page=2" in html and "q=%E5%BF%83%E7%90%86" in html
    html = _html(client.get("/courses?q=心理&page=2"))
    assert html.count('class="card course-card"') == 2


def test_course_page_shows_a_late_evening_session_in_shanghai_time(app_ctx, client) -> None:
    course = make_course("夜间线上课", mode=CourseMode.ONLINE)
    # 15:30 UTC on Tuesday 2030-03-05 is 23:30 the same day in Shanghai.
    make_session(
        course,
        starts_at=datetime(2030, 3, 5, 15, 30, tzinfo=UTC),
        duration=timedelta(minutes=45),
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.example.org/j/123",
        meeting_number="123 456 789",
        class_hours=1,
    )
    html = _html(client.get(f"/courses/{course.id}"))
    _assert_good_page(html)
    assert "2030-03-05" in html
    assert "23:30–00:15" in html
    assert "15:30" not in re.sub(r"<[^>]*>", "", html)  # only in datetime="…+00:00"
    assert "周二" in html
    # How to join is for the course's learners: a visitor sees neither number nor link.
    assert "123 456 789" not in html and "meeting.example.org" not in html
    assert 'id="materials"' in html
    assert "登录后报名" in html and f"/login?next=/courses/{course.id}" in html


def test_course_page_shows_offline_venue_trainers_seats_and_programme(app_ctx, client) -> None:
    programme = make_programme("关爱专员创智营")
    trainer = make_trainer(name="李老师")
    course = make_course(
        "社区走访", capacity=20, seats_taken=5, trainers=[trainer], programme_id=programme.id
    )
    make_session(course, venue="桂城街道社工服务中心", room="201 室", address="南海大道 1 号")

    html = _html(client.get(f"/courses/{course.id}"))
    assert "桂城街道社工服务中心 201 室" in html and "南海大道 1 号" in html
    assert "李老师" in html
    assert "余 15 个名额" in html
    assert f'href="/programmes/{programme.id}"' in html
    assert "2030-03-04" in html and "09:30–11:30" in html


def test_draft_course_page_is_404_for_the_public_but_open_to_its_trainer(
    app_ctx, client, login_as
) -> None:
    owner = make_trainer()
    draft = make_course("筹备中的课程", status=PublicationStatus.DRAFT, trainers=[owner])
    assert client.get(f"/courses/{draft.id}").status_code == 404
    assert client.get("/courses/999999").status_code == 404
    login_as(make_trainer())
    assert client.get(f"/courses/{draft.id}").status_code == 404
    client.post("/logout")
    login_as(owner)
    response = client.get(f"/courses/{draft.id}")
    assert response.status_code == 200
    assert "筹备中的课程" in _html(response)


def test_programme_pages(app_ctx, client) -> None:
    programme = make_programme(
        "桂城街道社工新人培育计划", summary="面向新入职社工", required_hours=24
    )
    course = make_course("社工实务入门", programme_id=programme.id, sessions=1)
    make_programme("草稿计划", status=PublicationStatus.DRAFT)

    html = _html(client.get("/programmes"))
    _assert_good_page(html)
    assert "桂城街道社工新人培育计划" in html and "草稿计划" not in html

    html = _html(client.get(f"/programmes/{programme.id}"))
    _assert_good_page(html)
    assert "社工实务入门" in html and f'href="/courses/{course.id}"' in html
    assert "24" in html


def test_catalogue_pages_are_linked_from_the_navigation_and_home(app_ctx, client) -> None:
    course = make_course(sessions=1, first_session_at=datetime.now(UTC) + timedelta(days=3))
    html = _html(client.get("/"))
    assert 'href="/courses"' in html
    assert f'href="/courses/{course.id}"' in html


# ---- PostgreSQL: the trigram indexes ----------------------------------------------------


def test_search_columns_have_trigram_indexes(app_ctx) -> None:
    """PostgreSQL matches through trigram GIN indexes; SQLite keeps plain ones of the same name."""
    if db.engine.dialect.name != "postgresql":
        names = {index["name"] for index in sa.inspect(db.engine).get_indexes("courses")}
        assert {"ix_courses_title_trgm", "ix_courses_summary_trgm"} <= names
        return
    rows = dict(
        db.session.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'courses' AND indexname LIKE '%trgm'"
            )
        ).all()
    )
    assert set(rows) == {"ix_courses_title_trgm", "ix_courses_summary_trgm"}
    for definition in rows.values():
        assert "USING gin" in definition and "gin_trgm_ops" in definition


def test_level_and_mode_filters_accept_the_chinese_labels(app_ctx, client) -> None:
    middle = make_course("中级课程", level=CourseLevel.INTERMEDIATE, mode=CourseMode.ONLINE)
    make_course("初级课程", level=CourseLevel.BEGINNER, mode=CourseMode.OFFLINE)
    html = _html(client.get("/courses?level=中级&mode=线上"))
    assert f'href="/courses/{middle.id}"' in html
    assert "初级课程" not in html


def test_short_terms_are_served_by_the_gram_indexes_on_postgresql(app_ctx) -> None:
    """One- and two-character terms (心理) are too short for trigrams; on PostgreSQL the
    gram indexes answer them, and agree with a plain substring test. SQLite scans."""
    if db.engine.dialect.name != "postgresql":
        make_course("心理健康服务", sessions=1)
        assert [c.course.title for c in catalogue.search(q="心理").items] == ["心理健康服务"]
        return
    texts = ["心理健康服务", "青少年心理危机干预", "社区治理", "AbC 社工", "", "理心"]
    terms = ["心理", "心", "理心", "bc", "C ", "社工", "治", "x"]
    for text in texts:
        for term in terms:
            by_grams = db.session.scalar(
                sa.text("SELECT academy_search_grams(:t) @> ARRAY[lower(:q)]::text[]"),
                {"t": text, "q": term},
            )
            by_position = db.session.scalar(
                sa.text("SELECT strpos(lower(:t), lower(:q)) > 0"), {"t": text, "q": term}
            )
            assert by_grams == by_position, (text, term)
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        db.session.scalars(
            sa.text(
                "EXPLAIN SELECT id FROM courses WHERE academy_search_grams(title) "
                "@> ARRAY['心理']::text[] OR academy_search_grams(summary) @> ARRAY['心理']::text[]"
            )
        )
    )
    assert "ix_courses_title_grams" in plan and "ix_courses_summary_grams" in plan
    db.session.rollback()


# ---- who sees a draft or an archived course (issue 12 item 4) --------------------------

VIEWERS = ("anonymous", "learner", "enrolled", "other_trainer", "own_trainer", "admin")
#: Who sees each kind of course, on every page and in the API alike.
SEES = {
    PublicationStatus.PUBLISHED: set(VIEWERS),
    PublicationStatus.DRAFT: {"own_trainer", "admin"},
    PublicationStatus.ARCHIVED: {"enrolled", "own_trainer", "admin"},
}


def course_with_viewers(status: PublicationStatus):  # type: ignore[no-untyped-def]
    """A course in ``status`` with one session, and a user for each viewer but anonymous."""
    owner = make_trainer()
    course = make_course("可见性课程", trainers=[owner], sessions=1, status=status)
    enrolled = make_user()
    make_enrolment(course, enrolled, EnrolmentStatus.COMPLETED)
    users = {
        "anonymous": None,
        "learner": make_user(),
        "enrolled": enrolled,
        "other_trainer": make_trainer(),
        "own_trainer": owner,
        "admin": make_admin(),
    }
    return course, users


@pytest.mark.parametrize("status", list(SEES))
def test_the_course_view_rule_is_one_for_every_viewer(app_ctx, status) -> None:
    course, users = course_with_viewers(status)
    for viewer, user in users.items():
        if viewer in SEES[status]:
            assert catalogue.course_detail(course.id, viewer=user).course.id == course.id
        else:
            with pytest.raises(NotFound):
                catalogue.course_detail(course.id, viewer=user)


@pytest.mark.parametrize("status", list(SEES))
def test_course_session_and_material_pages_follow_the_view_rule(app, app_ctx, status) -> None:
    course, users = course_with_viewers(status)
    session_id = course.sessions[0].id
    for viewer, user in users.items():
        client = app.test_client()
        if user is not None:
            login = {"login": user.email or user.phone, "password": DEFAULT_PASSWORD}
            assert client.post("/login", data=login).status_code == 302
        seen = viewer in SEES[status]
        expected = 200 if seen else 404
        assert client.get(f"/courses/{course.id}").status_code == expected, viewer
        assert client.get(f"/courses/{course.id}/materials").status_code == expected, viewer
        session_page = client.get(f"/sessions/{session_id}").status_code
        # The session page is for signed-in users: visitors are sent to log in.
        assert session_page == (302 if viewer == "anonymous" else expected), viewer
    # The catalogue lists published courses only, to everyone.
    assert ids(catalogue.search(viewer=users["admin"])) == (
        [course.id] if status == PublicationStatus.PUBLISHED else []
    )


# --- how to join online: only for the course's own people --------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("anonymous", False),
        ("unenrolled", False),
        ("waitlisted", False),
        ("enrolled", True),
        ("trainer", True),
        ("other_trainer", False),
        ("admin", True),
    ],
)
def test_the_meeting_link_and_number_are_shown_only_to_the_courses_people(
    app_ctx, client, login_as, who, sees
):
    trainer = make_trainer()
    course = make_course(trainers=[trainer], mode=CourseMode.ONLINE)
    make_session(
        course,
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.example.org/j/918273645",
        meeting_number="918 273 645",
    )
    viewer = {
        "trainer": trainer,
        "other_trainer": make_trainer(),
        "admin": make_admin(),
    }.get(who) or (make_user() if who != "anonymous" else None)
    if who in ("enrolled", "waitlisted"):
        status = EnrolmentStatus.ENROLLED if who == "enrolled" else EnrolmentStatus.WAITLISTED
        position = 1 if who == "waitlisted" else None
        make_enrolment(course, viewer, status=status, waitlist_position=position)
    headers = {}
    if viewer is not None:
        login_as(viewer)
        headers = bearer(make_token(viewer))

    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    api = app_ctx.test_client().get(f"/api/v1/courses/{course.id}", headers=headers).get_json()

    assert ("meeting.example.org/j/918273645" in page) is sees
    assert ("918 273 645" in page) is sees
    (session,) = api["sessions"]
    assert (session["meeting_url"] is not None) is sees
    assert (session["meeting_number"] == "918 273 645") is sees


def test_the_catalogue_opens_on_courses_not_yet_over_with_past_ones_a_tab_away(app_ctx, client):
    now = datetime.now(UTC)
    make_course("往期课程甲", sessions=1, first_session_at=now - timedelta(days=60))
    make_course("正在进行乙", sessions=3, first_session_at=now - timedelta(days=7))
    make_course("即将开课丙", sessions=1, first_session_at=now + timedelta(days=7))
    make_course("尚未排课丁")

    def titles(url: str) -> set[str]:
        html = client.get(url).get_data(as_text=True)
        names = {"往期课程甲", "正在进行乙", "即将开课丙", "尚未排课丁"}
        return {name for name in names if name in html}

    assert titles("/courses") == {"正在进行乙", "即将开课丙", "尚未排课丁"}
    assert titles("/courses?when=past") == {"往期课程甲"}
    assert titles("/courses?when=all") == {"往期课程甲", "正在进行乙", "即将开课丙", "尚未排课丁"}
    past_month = (now - timedelta(days=60)).astimezone(local_zone()).strftime("%Y-%m")
    assert "往期课程甲" in titles(f"/courses?month={past_month}")
    page = client.get("/courses").get_data(as_text=True)
    assert 'href="/courses?when=past' in page and "往期课程" in page

    api = client.get("/api/v1/courses?when=past").get_json()
    assert [item["title"] for item in api["items"]] == ["往期课程甲"]
    assert client.get("/api/v1/courses").get_json()["total"] == 4  # the API's default: all
    assert client.get("/api/v1/courses?when=soon").status_code == 422
