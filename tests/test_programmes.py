"""Programmes: admins create, edit, publish and archive them with their completion rule;
everyone lists the published ones with their courses (service, pages and API)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import AuditLogEntry, Course, Programme, PublicationStatus
from courses.services import programmes as service
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_course,
    make_programme,
    make_token,
    make_trainer,
    make_user,
)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def refused(code: str, call, *args, **kwargs) -> ValidationFailed:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    assert caught.value.code == code, (caught.value.code, caught.value.fields)
    return caught.value


@pytest.fixture
def admin(app_ctx):  # type: ignore[no-untyped-def]
    return make_admin()


@pytest.fixture
def courses(app_ctx) -> list[Course]:
    return [make_course(f"课程{n}") for n in range(3)]


# --- service ---------------------------------------------------------------------------------


def test_an_admin_creates_a_programme_with_courses_and_a_rule(admin, courses):
    programme = service.create_programme(
        admin,
        {
            "title": "桂城街道社工新人培育计划",
            "level": "beginner",
            "course_ids": [c.id for c in courses],
            "required_course_count": 2,
            "required_hours": 24,
        },
    )
    db.session.commit()
    db.session.expire_all()
    programme = db.session.get(Programme, programme.id)
    assert programme.status == PublicationStatus.DRAFT
    assert {c.id for c in programme.courses} == {c.id for c in courses}
    assert (programme.required_course_count, programme.required_hours) == (2, 24.0)
    assert db.session.scalar(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id.desc())) == (
        "programme.create"
    )


def test_learners_cannot_create_or_change_programmes(app_ctx):
    learner = make_user()
    with pytest.raises(PermissionDenied):
        service.create_programme(learner, {"title": "计划"})
    db.session.rollback()
    programme = make_programme("原名")
    with pytest.raises(PermissionDenied):
        service.update_programme(learner, programme, {"title": "改名"})
    db.session.rollback()
    assert count(Programme) == 1
    assert db.session.get(Programme, programme.id).title == "原名"


def test_a_trainer_builds_a_programme_of_their_courses_and_manages_it(app_ctx):
    trainer = make_trainer()
    first = make_course(trainers=[trainer], sessions=1)
    second = make_course(trainers=[trainer], sessions=1)
    programme = service.create_programme(
        trainer, {"title": "关爱专员创智营", "course_ids": [first.id, second.id]}
    )
    db.session.commit()
    assert programme.created_by_id == trainer.id
    service.update_programme(trainer, programme, {"status": "published"})
    db.session.commit()
    assert programme.status == PublicationStatus.PUBLISHED
    assert {c.id for c in programme.courses} == {first.id, second.id}


def test_a_trainer_cannot_change_another_trainers_programme(app_ctx):
    owner, other = make_trainer(), make_trainer()
    programme = service.create_programme(owner, {"title": "通讯员培训"})
    db.session.commit()
    with pytest.raises(PermissionDenied):
        service.update_programme(other, programme, {"title": "改名"})
    db.session.rollback()
    assert db.session.get(Programme, programme.id).title == "通讯员培训"
    # An admin manages every programme.
    service.update_programme(make_admin(), programme, {"title": "通讯员培训（第二期）"})
    db.session.commit()
    assert db.session.get(Programme, programme.id).title == "通讯员培训（第二期）"


def test_a_trainer_cannot_put_or_take_other_trainers_courses(app_ctx):
    trainer, other = make_trainer(), make_trainer()
    mine = make_course(trainers=[trainer], sessions=1)
    theirs = make_course(trainers=[other], sessions=1)
    with pytest.raises(ValidationFailed) as refused:
        service.create_programme(trainer, {"title": "计划", "course_ids": [mine.id, theirs.id]})
    assert refused.value.code == "invalid_course"
    db.session.rollback()
    assert count(Programme) == 0
    assert db.session.get(type(theirs), theirs.id).programme_id is None
    # Nor take a course out of their own programme that someone else teaches.
    admin_built = service.create_programme(
        make_admin(), {"title": "合办计划", "course_ids": [mine.id, theirs.id]}
    )
    admin_built.created_by_id = trainer.id
    db.session.commit()
    with pytest.raises(ValidationFailed):
        service.update_programme(trainer, admin_built, {"course_ids": [mine.id]})
    db.session.rollback()
    assert db.session.get(type(theirs), theirs.id).programme_id == admin_built.id


def test_the_manage_page_lists_only_the_trainers_own_programmes(app_ctx, login_as):
    trainer = make_trainer()
    mine = service.create_programme(trainer, {"title": "我的计划"})
    make_programme("别人的计划")
    db.session.commit()
    client = login_as(trainer)
    page = client.get("/manage/programmes").get_data(as_text=True)
    assert "我的计划" in page and "别人的计划" not in page
    assert client.get(f"/manage/programmes/{mine.id}").status_code == 200
    other = db.session.scalar(sa.select(Programme.id).where(Programme.title == "别人的计划"))
    assert client.get(f"/manage/programmes/{other}").status_code == 403


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"title": ""}, "required", "title"),
        ({"required_course_count": 0}, "invalid_course_count", "required_course_count"),
        ({"required_course_count": 4}, "invalid_course_count", "required_course_count"),
        ({"required_hours": 0}, "invalid_required_hours", "required_hours"),
        ({"required_hours": -8}, "invalid_required_hours", "required_hours"),
        ({"course_ids": [999_999]}, "invalid_course", "course_ids"),
        ({"status": "published", "course_ids": []}, "no_courses", "status"),
        ({"level": "expert"}, "invalid_choice", "level"),
    ],
)
def test_each_programme_rule_refuses_and_saves_nothing(admin, courses, data, code, field):
    full = {"title": "关爱专员创智营", "course_ids": [c.id for c in courses], **data}
    error = refused(code, service.create_programme, admin, full)
    assert field in error.fields
    assert count(Programme) == 0
    assert all(c.programme_id is None for c in db.session.scalars(sa.select(Course)))


def test_the_required_count_follows_the_courses_on_edit(admin, courses):
    programme = service.create_programme(
        admin, {"title": "计划", "course_ids": [c.id for c in courses], "required_course_count": 3}
    )
    db.session.commit()
    # Dropping a course would leave 2 courses for a rule requiring 3.
    refused(
        "invalid_course_count",
        service.update_programme,
        admin,
        programme,
        {"course_ids": [courses[0].id, courses[1].id]},
    )
    assert len(db.session.get(Programme, programme.id).courses) == 3
    service.update_programme(
        admin, programme, {"course_ids": [courses[0].id], "required_course_count": 1}
    )
    db.session.commit()
    db.session.expire_all()
    programme = db.session.get(Programme, programme.id)
    assert [c.id for c in programme.courses] == [courses[0].id]
    assert db.session.get(Course, courses[2].id).programme_id is None


def test_a_course_cannot_leave_a_programme_whose_rule_needs_it(admin, courses):
    from courses.services import courses as course_service

    programme = service.create_programme(
        admin,
        {"title": "计划", "course_ids": [courses[0].id, courses[1].id], "required_course_count": 2},
    )
    db.session.commit()
    refused(
        "invalid_course_count",
        course_service.update_course,
        admin,
        courses[0],
        {"programme_id": None},
    )
    assert db.session.get(Course, courses[0].id).programme_id == programme.id
    service.update_programme(admin, programme, {"required_course_count": 1})
    course_service.update_course(admin, courses[0], {"programme_id": None})
    db.session.commit()
    assert db.session.get(Course, courses[0].id).programme_id is None


def test_publish_and_archive(admin, courses):
    programme = service.create_programme(admin, {"title": "计划"})
    db.session.commit()
    refused("no_courses", service.set_status, admin, programme, "published")
    service.update_programme(admin, programme, {"course_ids": [courses[0].id]})
    service.set_status(admin, programme, "published")
    db.session.commit()
    assert db.session.get(Programme, programme.id).status == PublicationStatus.PUBLISHED
    service.set_status(admin, programme, PublicationStatus.ARCHIVED)
    db.session.commit()
    assert db.session.get(Programme, programme.id).status == PublicationStatus.ARCHIVED


def test_listing_shows_published_programmes_with_their_courses(app_ctx, count_queries):
    shown = make_programme("已发布")
    make_programme("草稿", status=PublicationStatus.DRAFT)
    make_course("课程0", programme_id=shown.id)
    db.session.expire_all()
    with count_queries() as few:
        assert [len(p.courses) for p in service.list_programmes().items] == [1]
    for n in range(1, 5):
        make_course(f"课程{n}", programme_id=shown.id, trainers=[make_trainer()])
    db.session.expire_all()
    with count_queries() as many:
        page = service.list_programmes()
        assert [len(p.courses) for p in page.items] == [5]
    assert len(many) == len(few)
    assert [p.title for p in page.items] == ["已发布"]
    assert service.list_programmes(include_unpublished=True).total == 2


# --- API -------------------------------------------------------------------------------------


def test_anyone_lists_published_programmes_and_admins_see_drafts(client, app_ctx):
    programme = make_programme("社会组织培育")
    course = make_course("孵化实务", programme_id=programme.id)
    make_programme("草稿计划", status=PublicationStatus.DRAFT)
    body = client.get("/api/v1/programmes").get_json()
    assert body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert (item["title"], item["course_ids"]) == ("社会组织培育", [course.id])
    assert item["courses"] == [{"id": course.id, "title": "孵化实务", "status": "published"}]
    admin = bearer(make_token(make_admin()))
    assert client.get("/api/v1/programmes", headers=admin).get_json()["total"] == 2


def test_learners_cannot_post_programmes_and_trainers_patch_only_their_own(client, app_ctx):
    learner = bearer(make_token(make_user()))
    response = client.post("/api/v1/programmes", json={"title": "计划"}, headers=learner)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/programmes", json={"title": "计划"}).status_code == 401
    assert count(Programme) == 0

    owner, other = bearer(make_token(make_trainer())), bearer(make_token(make_trainer()))
    created = client.post("/api/v1/programmes", json={"title": "社工新人培育计划"}, headers=owner)
    assert created.status_code == 201
    programme_id = created.get_json()["id"]
    refused = client.patch(
        f"/api/v1/programmes/{programme_id}", json={"title": "改名"}, headers=other
    )
    assert refused.status_code == 403
    renamed = client.patch(
        f"/api/v1/programmes/{programme_id}",
        json={"title": "社工新人培育计划（二期）"},
        headers=owner,
    )
    assert renamed.status_code == 200
    assert db.session.get(Programme, programme_id).title == "社工新人培育计划（二期）"


def test_an_admin_posts_and_patches_a_programme(client, admin, courses):
    headers = bearer(make_token(admin))
    response = client.post(
        "/api/v1/programmes",
        json={
            "title": "通讯员培训",
            "course_ids": [courses[0].id, courses[1].id],
            "required_course_count": 2,
            "required_hours": 12.5,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["course_ids"] == sorted([courses[0].id, courses[1].id])
    assert (body["required_course_count"], body["required_hours"], body["status"]) == (
        2,
        12.5,
        "draft",
    )
    response = client.patch(
        f"/api/v1/programmes/{body['id']}", json={"status": "published"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "published"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"required_course_count": 5}, "invalid_course_count"),
        ({"required_hours": 0}, "invalid_required_hours"),
        ({"course_ids": [999_999]}, "invalid_course"),
        ({"status": "published"}, "no_courses"),
    ],
)
def test_programme_rules_answer_422_with_their_code(client, admin, data, code):
    headers = bearer(make_token(admin))
    response = client.post("/api/v1/programmes", json={"title": "计划", **data}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code
    assert count(Programme) == 0


def test_unknown_programme_is_404(client, admin):
    headers = bearer(make_token(admin))
    response = client.patch("/api/v1/programmes/999999", json={"title": "x"}, headers=headers)
    assert response.status_code == 404


# --- pages -----------------------------------------------------------------------------------


def test_trainers_cannot_open_programmes_they_did_not_build(login_as, app_ctx):
    client = login_as(make_trainer())
    programme = make_programme()
    assert client.get(f"/manage/programmes/{programme.id}").status_code == 403
    assert (
        client.post(f"/manage/programmes/{programme.id}", data={"title": "改"}).status_code == 403
    )
    assert client.post(f"/manage/programmes/{programme.id}/clone", data={}).status_code == 403
    assert count(Programme) == 1


def test_learners_cannot_open_the_programme_pages(login_as, app_ctx):
    client = login_as(make_user())
    assert client.get("/manage/programmes").status_code == 403
    assert client.post("/manage/programmes", data={"title": "计划"}).status_code == 403
    assert count(Programme) == 0


def test_an_admin_creates_edits_and_publishes_a_programme_on_the_pages(
    login_as, admin, courses, rendered, flashed
):
    client = login_as(admin)
    assert client.get("/manage/programmes").status_code == 200
    response = client.post(
        "/manage/programmes",
        data={
            "title": "关爱专员培训",
            "level": "",
            "course_ids": [str(courses[0].id)],
            "required_course_count": "2",
        },
    )
    assert response.status_code == 200  # refused: one course cannot satisfy "2 of them"
    form = [c for n, c in rendered if n == "manage/programmes.html"][-1]["form"]
    assert form.required_course_count.errors, form.errors
    assert count(Programme) == 0

    response = client.post(
        "/manage/programmes",
        data={
            "title": "关爱专员培训",
            "level": "intermediate",
            "course_ids": [str(courses[0].id), str(courses[1].id)],
            "required_course_count": "2",
            "required_hours": "16",
        },
    )
    assert response.status_code == 302
    programme = db.session.scalar(sa.select(Programme))
    assert (programme.required_course_count, programme.required_hours) == (2, 16.0)
    assert client.get(f"/manage/programmes/{programme.id}").status_code == 200

    response = client.post(
        f"/manage/programmes/{programme.id}/status", data={"status": "published"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).status == PublicationStatus.PUBLISHED


# --- cloning for a new run ------------------------------------------------------------------


def test_cloning_a_programme_copies_it_and_its_courses_for_a_new_run(app_ctx):
    trainer = make_trainer()
    basics = make_course("社工入门", trainers=[trainer], sessions=2)
    practice = make_course("个案实务", trainers=[trainer], sessions=1)
    practice.prerequisites = [basics]
    db.session.commit()
    programme = service.create_programme(
        trainer,
        {
            "title": "社工新人培育计划",
            "course_ids": [basics.id, practice.id],
            "required_course_count": 2,
        },
    )
    service.update_programme(trainer, programme, {"status": "published"})
    db.session.commit()
    first = min(s.starts_at for s in basics.sessions + practice.sessions)

    copy = service.clone_programme(
        trainer, programme, first_session_at=datetime(2031, 3, 3, 9, 30), title="第二期"
    )
    db.session.commit()

    assert (copy.title, copy.status, copy.created_by_id) == (
        "第二期",
        PublicationStatus.DRAFT,
        trainer.id,
    )
    assert copy.required_course_count == 2
    clones = {c.cloned_from_id: c for c in copy.courses}
    assert set(clones) == {basics.id, practice.id}
    assert all(c.status == PublicationStatus.DRAFT for c in clones.values())
    # Sessions moved together: the first now starts 2031-03-03 09:30 in Shanghai.
    new_first = min(s.starts_at for c in clones.values() for s in c.sessions)
    assert new_first == datetime(2031, 3, 3, 1, 30, tzinfo=UTC)
    shift = new_first - first
    assert sorted(s.starts_at for s in clones[basics.id].sessions) == sorted(
        s.starts_at + shift for s in basics.sessions
    )
    # The new run stands alone: its practice course requires the new basics course.
    assert [p.id for p in clones[practice.id].prerequisites] == [clones[basics.id].id]
    # The original is untouched.
    assert {c.id for c in programme.courses} == {basics.id, practice.id}
    assert programme.status == PublicationStatus.PUBLISHED


def test_a_trainer_cannot_clone_another_trainers_programme(app_ctx):
    owner, other = make_trainer(), make_trainer()
    programme = service.create_programme(owner, {"title": "通讯员培训"})
    db.session.commit()
    with pytest.raises(PermissionDenied):
        service.clone_programme(other, programme)
    db.session.rollback()
    assert count(Programme) == 1


def test_programmes_are_cloned_from_the_page_and_the_api(app_ctx, client, login_as):
    trainer = make_trainer()
    course = make_course(trainers=[trainer], sessions=1)
    programme = service.create_programme(
        trainer, {"title": "关爱专员培训", "course_ids": [course.id]}
    )
    db.session.commit()

    login_as(trainer)
    response = client.post(
        f"/manage/programmes/{programme.id}/clone",
        data={"title": "关爱专员培训（二期）", "first_session_on": "2031-09-01"},
    )
    assert response.status_code == 302
    assert count(Programme) == 2

    api = client.post(
        f"/api/v1/programmes/{programme.id}/clone",
        json={"title": "关爱专员培训（三期）", "shift_days": 365},
        headers=bearer(make_token(trainer)),
    )
    assert api.status_code == 201, api.get_json()
    body = api.get_json()
    assert body["title"] == "关爱专员培训（三期）" and body["status"] == "draft"
    assert len(body["course_ids"]) == 1 and body["course_ids"] != [course.id]


def test_a_trainer_cannot_slip_a_course_into_or_out_of_another_trainers_programme(app_ctx, client):
    owner, other = make_trainer(), make_trainer()
    programme = service.create_programme(owner, {"title": "关爱专员创智营"})
    theirs = make_course(trainers=[owner], sessions=1)
    service.update_programme(owner, programme, {"course_ids": [theirs.id]})
    mine = make_course(trainers=[other], sessions=1)
    db.session.commit()
    from courses.services import courses as course_service

    with pytest.raises(ValidationFailed) as refused:
        course_service.update_course(other, mine, {"programme_id": programme.id})
    assert refused.value.code == "invalid_programme"
    db.session.rollback()
    # The same rule through the API, which calls the same service.
    response = client.patch(
        f"/api/v1/courses/{mine.id}",
        json={"programme_id": programme.id},
        headers=bearer(make_token(other)),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_programme"
    assert db.session.get(Course, mine.id).programme_id is None
    # The owner may add their own course; an admin may move any course.
    extra = make_course(trainers=[owner], sessions=1)
    course_service.update_course(owner, extra, {"programme_id": programme.id})
    course_service.update_course(make_admin(), mine, {"programme_id": programme.id})
    db.session.commit()
    assert {c.id for c in db.session.get(Programme, programme.id).courses} == {
        theirs.id,
        extra.id,
        mine.id,
    }


# --- who sees an unpublished programme (issue 12 item 4) -----------------------------------------


def test_unpublished_programmes_are_seen_by_those_who_manage_them_on_pages_and_api(
    app, app_ctx, client
):
    owner, other, learner, admin = make_trainer(), make_trainer(), make_user(), make_admin()
    published = make_programme("已发布的计划")
    draft = make_programme("筹备中的计划", status=PublicationStatus.DRAFT, created_by_id=owner.id)
    expected = {
        None: [published.id],
        learner: [published.id],
        other: [published.id],
        owner: sorted([published.id, draft.id]),
        admin: sorted([published.id, draft.id]),
    }
    for user, listed in expected.items():
        headers = bearer(make_token(user)) if user is not None else {}
        items = client.get("/api/v1/programmes", headers=headers).get_json()["items"]
        assert sorted(item["id"] for item in items) == listed, user
        page = app.test_client()
        if user is not None:
            login = {"login": user.email or user.phone, "password": DEFAULT_PASSWORD}
            assert page.post("/login", data=login).status_code == 302
        sees_draft = draft.id in listed
        assert page.get(f"/programmes/{draft.id}").status_code == (200 if sees_draft else 404)
        assert page.get(f"/programmes/{published.id}").status_code == 200
