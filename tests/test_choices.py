"""The course and programme forms choose among many trainers, courses and programmes
without listing them all: the page holds only what is chosen, a staff-only search
finds a few more, and the services still decide what may be saved."""

from __future__ import annotations

import re

import pytest

from courses.db import db
from courses.models import Course, Programme, PublicationStatus
from tests.factories import (
    make_admin,
    make_course,
    make_organisation,
    make_programme,
    make_trainer,
    make_user,
)


def found(client, kind: str, **args) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(f"/manage/choices/{kind}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    return response.get_json()["items"]


def labels(items: list[dict]) -> list[str]:
    return [item["label"] for item in items]


def ticked(html: str, name: str) -> list[int]:
    """The ids the page shows as chosen for the field ``name``."""
    pattern = rf'<input type="(?:checkbox|radio)" name="{name}" value="(\d+)" checked>'
    return [int(value) for value in re.findall(pattern, html)]


def offered(html: str, name: str) -> list[int]:
    return [int(v) for v in re.findall(rf'name="{name}" value="(\d+)"', html)]


def fresh(course: Course) -> Course:
    db.session.expire_all()
    return db.session.get(Course, course.id)


@pytest.fixture
def admin(app_ctx):  # type: ignore[no-untyped-def]
    return make_admin(name="梁管理员")


# --- the search ---------------------------------------------------------------------------------


def test_an_admin_finds_active_trainers_by_name_phone_or_e_mail(admin, login_as):
    organisation = make_organisation("桂城社工服务中心")
    wang = make_trainer(name="王志明", organisation=organisation, phone="13912345678")
    make_trainer(name="王丽", email="wangli@example.org", phone="13800000001")
    gone = make_trainer(name="王离职")
    gone.is_active = False
    db.session.commit()
    make_user(name="王学员")  # a learner is no trainer
    client = login_as(admin)
    items = found(client, "trainers", q="王")
    assert labels(items) == ["王丽", "王志明"]
    assert items[1] == {"id": wang.id, "label": "王志明", "detail": "桂城社工服务中心"}
    assert labels(found(client, "trainers", q="1391234")) == ["王志明"]
    assert labels(found(client, "trainers", q="wangli@")) == ["王丽"]
    assert labels(found(client, "trainers", q="%")) == []  # a wildcard is taken literally


def test_the_search_returns_at_most_twenty_and_likely_ones_first(admin, login_as):
    for n in range(30):
        make_trainer(name=f"讲师{n:02d}")
    make_trainer(name="陈讲师")
    client = login_as(admin)
    assert len(found(client, "trainers", q="讲师")) == 20
    assert len(found(client, "trainers", q="讲师", limit=1000)) == 20
    assert len(found(client, "trainers", q="讲师", limit=3)) == 3
    assert len(found(client, "trainers")) == 20  # an empty search: the first by name
    assert labels(found(client, "trainers", q="讲师", limit=2)) == ["讲师00", "讲师01"]
    assert labels(found(client, "trainers", q="陈"))[0] == "陈讲师"


def test_courses_are_found_by_title_or_topic_with_what_tells_runs_apart(admin, login_as):
    first = make_course("个案工作", topic="个案", sessions=1, status=PublicationStatus.ARCHIVED)
    again = make_course("个案工作", topic="个案", status=PublicationStatus.DRAFT)
    make_course("小组工作", topic="社区治理")
    client = login_as(admin)
    items = found(client, "courses", q="个案")
    assert sorted(item["id"] for item in items) == [first.id, again.id]
    details = {item["id"]: item["detail"] for item in items}
    assert details[first.id] == "2030-03-04 · 已归档"
    assert details[again.id] == "草稿"
    assert labels(found(client, "courses", q="社区治理")) == ["小组工作"]
    assert [i["id"] for i in found(client, "courses", q="个案", exclude=first.id)] == [again.id]
    for n in range(25):
        make_course(f"课程{n:02d}")
    assert len(found(client, "courses", q="课程")) == 20


def test_a_trainer_finds_courses_and_the_programmes_they_may_choose(app_ctx, login_as):
    trainer = make_trainer()
    mine = make_course("我的课", trainers=[trainer])
    make_course("别人的课", trainers=[make_trainer()])
    programme = make_programme("我的计划", created_by_id=trainer.id)
    make_programme("我的旧计划", created_by_id=trainer.id, status=PublicationStatus.ARCHIVED)
    make_programme("别人的计划", created_by_id=make_trainer().id)
    client = login_as(trainer)
    assert set(labels(found(client, "courses", q="课"))) == {"我的课", "别人的课"}
    assert [i["id"] for i in found(client, "courses", q="课", taught=1)] == [mine.id]
    assert [i["id"] for i in found(client, "programmes", q="计划")] == [programme.id]
    # Only those who choose a course's trainers search for trainers.
    response = client.get("/manage/choices/trainers?q=a", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "trainer_choice_not_allowed"


@pytest.mark.parametrize("kind", ["trainers", "courses", "programmes"])
def test_the_search_is_refused_to_learners_and_visitors(app, app_ctx, login_as, kind):
    make_trainer(name="王讲师")
    make_course("个案工作")
    anonymous = app.test_client()
    response = anonymous.get(f"/manage/choices/{kind}?q=王")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    learner = login_as(make_user())
    assert learner.get(f"/manage/choices/{kind}?q=王").status_code == 403
    refused = learner.get(f"/manage/choices/{kind}?q=王", headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert anonymous.get("/manage/choices/users").status_code == 404


# --- the course form --------------------------------------------------------------------------


def page_course(course: Course, **overrides) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "title": course.title,
        "topic": course.topic,
        "level": "beginner",
        "mode": "offline",
        "programme_id": "0",
        "capacity": "30",
        "completion_threshold": "0.8",
    }
    data.update(overrides)
    return data


def test_the_edit_form_holds_only_the_chosen_trainers_prerequisites_and_programme(
    admin, login_as, count_queries
):
    trainers = [make_trainer(name=f"讲师{n:02d}") for n in range(40)]
    others = [make_course(f"课程{n:03d}") for n in range(120)]
    programme = make_programme("新人培育计划")
    for n in range(20):
        make_programme(f"计划{n:02d}")
    course = make_course("个案工作", trainers=trainers[:2], programme_id=programme.id)
    course.prerequisites = others[:3]
    db.session.commit()
    client = login_as(admin)
    with count_queries() as statements:
        response = client.get(f"/manage/courses/{course.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(response.data) < 30_000
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) < 20
    assert ticked(html, "trainer_ids") == [t.id for t in trainers[:2]]
    assert offered(html, "trainer_ids") == [t.id for t in trainers[:2]]
    assert ticked(html, "prerequisite_ids") == [c.id for c in others[:3]]
    assert offered(html, "prerequisite_ids") == [c.id for c in others[:3]]
    assert ticked(html, "programme_id") == [programme.id]
    assert "课程119" not in html and "讲师39" not in html and "计划19" not in html
    assert f'data-picker="/manage/choices/courses?exclude={course.id}"' in html
    assert "/static/js/picker.js" in html


def test_choices_found_by_the_search_are_saved_and_unticked_ones_removed(admin, login_as):
    course = make_course("个案工作", trainers=[make_trainer(name="王讲师")])
    old = make_course("社工入门")
    course.prerequisites = [old]
    db.session.commit()
    make_trainer(name="陈讲师")
    make_course("社区工作")
    programme = make_programme("关爱专员创智营")
    client = login_as(admin)
    (trainer,) = found(client, "trainers", q="陈")
    (prerequisite,) = found(client, "courses", q="社区工作", exclude=course.id)
    (chosen_programme,) = found(client, "programmes", q="创智")
    # The form posts the ticked boxes: "社工入门" unticked, the found ones added.
    response = client.post(
        f"/manage/courses/{course.id}",
        data=page_course(
            course,
            trainer_ids=[str(trainer["id"])],
            prerequisite_ids=[str(prerequisite["id"])],
            programme_id=str(chosen_programme["id"]),
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = fresh(course)
    assert [t.name for t in saved.trainers] == ["陈讲师"]
    assert [c.title for c in saved.prerequisites] == ["社区工作"]
    assert saved.programme_id == programme.id
    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert ticked(html, "prerequisite_ids") == [prerequisite["id"]]
    # Nothing ticked: no prerequisites, no programme.
    response = client.post(f"/manage/courses/{course.id}", data=page_course(course))
    assert response.status_code == 302
    saved = fresh(course)
    assert saved.prerequisites == [] and saved.programme_id is None
    assert [t.name for t in saved.trainers] == []


def test_a_refused_choice_is_shown_back_with_the_services_message(admin, login_as, rendered):
    course = make_course("个案工作")
    learner = make_user(name="不是讲师")
    wang = make_trainer(name="王讲师")
    client = login_as(admin)
    response = client.post(
        f"/manage/courses/{course.id}",
        data=page_course(course, trainer_ids=[str(wang.id), str(learner.id)]),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = [c for n, c in rendered if n == "manage/course_form.html"][-1]["form"]
    assert form.trainer_ids.errors  # the service's rule, on the field
    assert ticked(html, "trainer_ids") == [wang.id]  # a learner is never labelled a trainer
    assert fresh(course).trainers == []
    response = client.post(
        f"/manage/courses/{course.id}", data=page_course(course, prerequisite_ids=[str(course.id)])
    )
    assert response.status_code == 200
    assert [c for n, c in rendered if n == "manage/course_form.html"][-1][
        "form"
    ].prerequisite_ids.errors


def test_a_trainer_sees_no_trainers_field_and_no_title_of_a_programme_not_theirs(app_ctx, login_as):
    trainer = make_trainer()
    course = make_course("个案工作", trainers=[trainer])
    theirs = make_programme("别人的草稿计划", created_by_id=make_trainer().id)
    theirs.status = PublicationStatus.DRAFT
    db.session.commit()
    client = login_as(trainer)
    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert 'name="trainer_ids"' not in html
    response = client.post(
        f"/manage/courses/{course.id}", data=page_course(course, programme_id=str(theirs.id))
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "别人的草稿计划" not in html
    assert fresh(course).programme_id is None


def test_the_programme_form_holds_only_its_courses(app_ctx, login_as):
    trainer = make_trainer()
    mine = [make_course(f"我的课程{n:02d}", trainers=[trainer]) for n in range(30)]
    programme = make_programme("我的计划", created_by_id=trainer.id)
    for course in mine[:2]:
        course.programme_id = programme.id
    db.session.commit()
    client = login_as(trainer)
    html = client.get(f"/manage/programmes/{programme.id}").get_data(as_text=True)
    assert sorted(ticked(html, "course_ids")) == sorted(c.id for c in mine[:2])
    assert offered(html, "course_ids") == ticked(html, "course_ids")
    assert 'data-picker="/manage/choices/courses?taught=1"' in html
    response = client.post(
        f"/manage/programmes/{programme.id}",
        data={"title": "我的计划", "level": "", "course_ids": [str(mine[5].id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.id for c in db.session.get(Programme, programme.id).courses] == [mine[5].id]
