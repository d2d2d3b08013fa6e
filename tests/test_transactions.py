"""The one commit point (academy.transactions) and the page helper that feeds it
(academy.forms.attempt / submit): what a view changed is kept only when it returns, a
refusal leaves nothing behind, and a refusal shown on the page is not committed by
anything that runs after it."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, get_flashed_messages

from academy import transactions
from academy.forms import attempt, submit
from courses.db import db
from courses.errors import ValidationFailed
from courses.models import Organisation
from tests.factories import make_admin, make_organisation

ROOT = Path(__file__).resolve().parent.parent


def _names_in_new_session(app: Flask) -> set[str]:
    """What another connection sees: only what was committed."""
    with app.app_context():
        engine = db.engine
    with engine.connect() as connection:
        return set(connection.scalars(sa.select(Organisation.name)))


def _add(name: str) -> Organisation:
    organisation = Organisation(name=name)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def test_a_view_that_returns_is_committed_once_after_it_returns(app):  # type: ignore[no-untyped-def]
    seen_inside: list[set[str]] = []

    def view() -> str:
        _add("社区服务中心")
        seen_inside.append(_names_in_new_session(app))  # not committed yet
        return "ok"

    with app.test_request_context("/", method="POST"):
        assert transactions._in_one_transaction(view)() == "ok"
    assert seen_inside == [set()]
    assert _names_in_new_session(app) == {"社区服务中心"}


def test_a_view_that_raises_keeps_nothing(app):  # type: ignore[no-untyped-def]
    def view() -> str:
        _add("半途而废")
        raise ValidationFailed("no")

    with app.test_request_context("/", method="POST"):
        try:
            transactions._in_one_transaction(view)()
        except ValidationFailed:
            pass
        else:  # pragma: no cover - the error must reach academy.errors
            raise AssertionError("the domain error was swallowed")
    assert _names_in_new_session(app) == set()


def test_a_refusal_shown_on_the_page_rolls_back_and_nothing_after_it_is_committed(app):  # type: ignore[no-untyped-def]
    def refused() -> None:
        _add("先写后拒")
        raise ValidationFailed("这个名称不可用", code="name_refused")

    def view() -> str:
        outcome = attempt(refused)
        assert not outcome.ok and outcome.code == "name_refused"
        _add("拒绝之后")  # the page goes on; this must not be kept either
        return "shown again"

    with app.test_request_context("/", method="POST"):
        assert transactions._in_one_transaction(view)() == "shown again"
        assert get_flashed_messages(with_categories=True) == [("error", "这个名称不可用")]
    assert _names_in_new_session(app) == set()


def test_submit_flashes_and_redirects_with_the_services_answer(app):  # type: ignore[no-untyped-def]
    def view() -> object:
        return submit(
            lambda: _add("新机构"),
            done=lambda made: f"已添加 {made.name}",
            to=lambda made: f"/admin/organisations/{made.id}",
        )

    with app.test_request_context("/", method="POST"):
        response = transactions._in_one_transaction(view)()
        assert response.status_code == 302
        assert response.location.startswith("/admin/organisations/")
        assert get_flashed_messages(with_categories=True) == [("success", "已添加 新机构")]
    assert _names_in_new_session(app) == {"新机构"}


def test_a_refused_page_form_changes_nothing_through_the_real_route(login_as, app, app_ctx):  # type: ignore[no-untyped-def]
    admin = make_admin()
    make_organisation("已有机构")
    db.session.commit()
    client = login_as(admin)
    page = client.get("/admin/organisations")
    assert page.status_code == 200
    refused = client.post(
        "/admin/organisations",
        data={"name": "已有机构", "kind": "organisation"},
    )
    assert refused.status_code == 200  # the form again, with the message beside the name
    assert "已有同名机构" in refused.get_data(as_text=True)
    assert _names_in_new_session(app) == {"已有机构"}


def test_requests_commit_in_one_place():
    """Views, API handlers and services never commit: academy.transactions does, once,
    for every request (the CLI and the workers have their own single commit)."""
    allowed = {
        ROOT / "academy" / "transactions.py",
        ROOT / "academy" / "cli.py",
    }
    found = []
    for folder in ("academy", "courses"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"
                    and path not in allowed
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
    commits = [
        node
        for node in ast.walk(ast.parse((ROOT / "academy" / "transactions.py").read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]
    assert len(commits) == 1
