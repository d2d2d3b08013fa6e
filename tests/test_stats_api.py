"""``GET /api/v1/stats``: the figures of the demo year as the oracle counts them over the
raw records, by every dimension; trainers see only their own courses, learners none;
a bad period or grouping is refused in Chinese and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import User, course_trainers
from courses.services import demo_data
from tests.factories import bearer, make_token
from tests.stats_oracle import FIELDS, expected

GROUPS = ("month", "quarter", "year", "topic", "level", "mode", "organisation", "course")


@pytest.fixture
def demo(app_ctx):  # type: ignore[no-untyped-def]
    demo_data.seed(year=2025)
    db.session.commit()
    return app_ctx


def _person(login: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == login))


def _as(login: str) -> dict[str, str]:
    return bearer(make_token(_person(login)))


def _login(role: str) -> str:
    return next(account.login for account in demo_data.DEMO_ACCOUNTS if account.role == role)


def _picked(row: dict, organisation: bool = False) -> dict:
    picked = {name: row[name] for name in FIELDS}
    if organisation:
        assert row["sessions"] is None and row["class_hours"] is None
        picked["sessions"], picked["class_hours"] = 0, 0
    return picked


def _get(client, headers, **query):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/stats", query_string=query, headers=headers)
    return response.status_code, response.get_json()


def test_the_summary_is_the_demo_years_headline(demo, client):
    status, body = _get(client, _as(_login("admin")), **{"from": "2025"})
    assert status == 200
    assert (body["from"], body["to"], body["label"], body["group_by"]) == (
        "2025-01",
        "2025-12",
        "2025",
        None,
    )
    assert (body["items"], body["total"]) == ([], 0)
    summary = body["summary"]
    assert summary["courses"] >= 40 and summary["class_hours"] == 160
    assert summary["participant_times"] >= 3600
    assert summary["participant_times"] == (
        summary["participant_times_online"] + summary["participant_times_offline"]
    )
    assert _picked(summary) == expected(None, 202501, 202512)[None]


@pytest.mark.parametrize("group_by", GROUPS)
def test_every_grouping_equals_a_count_over_the_raw_records(demo, client, group_by):
    headers = _as(_login("admin"))
    year = {"from": "2025-01", "to": "2025-12-31"}
    status, body = _get(client, headers, **year, group_by=group_by)
    assert status == 200 and body["group_by"] == group_by
    assert body["total"] == len(body["items"]) > 0
    assert all(item["label"] for item in body["items"])
    if group_by in ("quarter", "level"):  # not in the oracle: the sums of its months
        by_month = _get(client, headers, **{"from": "2025"}, group_by="month")[1]["items"]
        totals = sum(item["participant_times"] for item in body["items"])
        assert totals == sum(item["participant_times"] for item in by_month)
        return
    got = {item["key"]: _picked(item, group_by == "organisation") for item in body["items"]}
    assert got == expected(group_by, 202501, 202512)


def test_a_month_is_a_slice_and_unique_people_are_not_summed(demo, client):
    headers = _as(_login("admin"))
    months = _get(client, headers, **{"from": "2025"}, group_by="month")[1]
    year = _get(client, headers, **{"from": "2025"})[1]["summary"]
    assert sum(m["class_hours"] for m in months["items"]) == year["class_hours"]
    assert sum(m["unique_participants"] for m in months["items"]) > year["unique_participants"]
    march = _get(client, headers, **{"from": "2025-03", "to": "2025-03"})[1]
    by_month = {m["key"]: m for m in months["items"]}
    assert _picked(march["summary"]) == _picked(by_month[202503])


def test_a_trainer_sees_only_their_own_courses(demo, client):
    trainer = _person(_login("trainer"))
    own = set(
        db.session.scalars(
            sa.select(course_trainers.c.course_id).where(course_trainers.c.user_id == trainer.id)
        )
    )
    assert own
    headers = bearer(make_token(trainer))
    mine = _get(client, headers, **{"from": "2025"}, group_by="course")[1]
    everything = _get(client, _as(_login("admin")), **{"from": "2025"}, group_by="course")[1]
    assert {item["key"] for item in mine["items"]} <= own
    assert len(everything["items"]) > len(mine["items"])
    theirs = [item for item in everything["items"] if item["key"] in own]
    assert mine["items"] == theirs
    summary = _get(client, headers, **{"from": "2025"})[1]["summary"]
    assert summary["participant_times"] == sum(i["participant_times"] for i in theirs)
    assert summary["participant_times"] < everything["summary"]["participant_times"]


def test_learners_and_strangers_see_no_figures(demo, client):
    status, body = _get(client, _as(_login("learner")))
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert _get(client, {})[0] == 401


@pytest.mark.parametrize(
    ("query", "code", "field", "words"),
    [
        ({"from": "2025-13"}, "invalid_period", "from", "2025-03"),
        ({"from": "去年"}, "invalid_period", "from", "2025-03"),
        ({"from": "2025-02-30"}, "invalid_period", "from", "2025-03"),
        ({"from": "2025-06", "to": "2025-01"}, "invalid_period", "to", "早于开始"),
        ({"from": "2025", "group_by": "weekday"}, "invalid_group_by", "group_by", "month"),
    ],
)
def test_bad_parameters_are_refused_in_chinese(demo, client, query, code, field, words):
    headers = _as(_login("admin")) | {"Accept-Language": "zh-CN"}
    status, body = _get(client, headers, **query)
    assert status == 422, body
    assert body["error"]["code"] == code
    assert field in body["error"]["fields"]
    assert words in body["error"]["message"]
