"""The pages: each renders for the role it is meant for, in Chinese, phone-ready,
self-contained (no third-party URLs), with CSRF-protected forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template

from courses.db import db
from courses.models import (
    Course,
    CourseLevel,
    CourseMode,
    CourseSession,
    PublicationStatus,
    SessionMode,
)
from tests.conftest import make_app
from tests.factories import DEFAULT_PASSWORD, make_admin, make_organisation, make_user

EXTERNAL = re.compile(
    r"<(?:link|script|img|iframe|source)\b[^>]*\b(?:href|src|srcset)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)
ADMIN_LINKS = ('href="/admin/users"', 'href="/admin/organisations"')


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _assert_good_page(html: str) -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="zh-CN">' in html
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "style=" not in html, "inline styles are refused by the Content-Security-Policy"
    assert "<script>" not in html and " onclick=" not in html
    assert "/static/css/app.css" in html


def make_course(title: str = "社工实务入门", *, capacity: int | None = 30, **kwargs) -> Course:  # type: ignore[no-untyped-def]
    starts_at = kwargs.pop("starts_at", datetime.now(UTC) + timedelta(days=7))
    course = Course(
        title=title,
        topic=kwargs.pop("topic", "新人培育"),
        level=kwargs.pop("level", CourseLevel.BEGINNER),
        mode=kwargs.pop("mode", CourseMode.OFFLINE),
        status=kwargs.pop("status", PublicationStatus.PUBLISHED),
        capacity=capacity,
        **kwargs,
    )
    course.sessions.append(
        CourseSession(
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            mode=SessionMode.OFFLINE,
            class_hours=3,
        )
    )
    db.session.add(course)
    db.session.commit()
    return course


# ---- anonymous visitors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [("/", "社工学院"), ("/login", "登录"), ("/register", "注册账号")],
)
def test_public_pages_render_in_chinese(client, url: str, expected: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = _html(response)
    _assert_good_page(html)
    assert expected in html


def test_anonymous_navigation_offers_home_login_and_register(client) -> None:
    html = _html(client.get("/"))
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert "首页" in nav and "登录" in nav and "注册" in nav
    assert "退出" not in nav and "个人资料" not in nav
    for link in ADMIN_LINKS:
        assert link not in html
    assert 'href="/?lang=en"' in html


def test_home_page_without_courses_shows_an_empty_state(app_ctx, client) -> None:
    html = _html(client.get("/"))
    assert "线上+线下" in html
    assert "目前暂无排期的课程" in html


def test_home_page_lists_upcoming_courses_in_shanghai_time(app_ctx, client) -> None:
    make_course(
        "社会组织培育专题",
        capacity=40,
        starts_at=datetime(2031, 5, 6, 1, 30, tzinfo=UTC),
        level=CourseLevel.INTERMEDIATE,
        mode=CourseMode.HYBRID,
        topic="社会组织培育",
    )
    full = make_course("社工考前培训", capacity=2, starts_at=datetime(2031, 5, 7, 1, 0, tzinfo=UTC))
    full.seats_taken = 2
    make_course("通讯员培训", capacity=None, starts_at=datetime(2031, 5, 8, 1, 0, tzinfo=UTC))
    make_course("草稿课程", status=PublicationStatus.DRAFT)
    db.session.commit()

    html = _html(client.get("/"))
    _assert_good_page(html)
    assert "社会组织培育专题" in html
    assert "社会组织培育" in html and "中级" in html and "线上+线下" in html
    assert "2031-05-06 09:30" in html  # 01:30 UTC is 09:30 in Asia/Shanghai
    assert "3 课时" in html
    assert "余 40 个名额" in html
    assert "已满（可报名候补）" in html
    assert "不限名额" in html
    assert "草稿课程" not in html
    assert "目前暂无排期的课程" not in html


# ---- learners -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [("/", "您好"), ("/profile", "个人资料"), ("/profile/password", "修改密码")],
)
def test_learner_pages_render(app_ctx, login_as, url: str, expected: str) -> None:
    client = login_as(make_user("李明", email="li@example.org"))
    response = client.get(url)
    assert response.status_code == 200
    html = _html(response)
    _assert_good_page(html)
    assert expected in html
    assert "李明" in html


def test_learner_navigation_has_profile_and_logout_but_no_admin_links(app_ctx, login_as) -> None:
    client = login_as(make_user())
    html = _html(client.get("/"))
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert "首页" in nav and "个人资料" in nav and "退出" in nav
    assert "登录" not in nav and "注册" not in nav
    for link in ADMIN_LINKS:
        assert link not in html
    assert re.search(r'<form class="inline-form" action="/logout" method="post">', html)


@pytest.mark.parametrize("url", ["/admin/users", "/admin/users/new", "/admin/organisations"])
def test_learners_get_a_chinese_403_on_admin_pages(app_ctx, login_as, url: str) -> None:
    client = login_as(make_user())
    response = client.get(url)
    assert response.status_code == 403
    html = _html(response)
    _assert_good_page(html)
    assert "没有权限" in html
    assert "您没有权限查看此页面。" in html
    assert 'href="/"' in html


def test_anonymous_visitors_are_sent_to_log_in(app_ctx, client) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    html = _html(client.get(response.headers["Location"]))
    assert "请先登录后再查看此页面。" in html
    assert "flash-warning" in html


def test_form_errors_are_shown_in_red_beside_the_field(app_ctx, client) -> None:
    response = client.post(
        "/register",
        data={
            "name": "王芳",
            "phone": "13800138001",
            "organisation": "0",
            "qualification_level": "none",
            "password": "long-enough-9",
            "confirm": "something-else",
        },
    )
    assert response.status_code == 200
    html = _html(response)
    assert re.search(
        r'<ul class="field-errors" id="confirm-error">\s*<li>.*两次输入的密码不一致', html
    )
    assert 'aria-invalid="true"' in html
    assert 'value="王芳"' in html  # what was typed is kept


def test_logging_out_is_a_post_with_a_csrf_token(app) -> None:
    """With CSRF protection on (as in production), the logout form carries its token."""
    secure_app = make_app(WTF_CSRF_ENABLED=True)
    with secure_app.app_context():
        user = make_user(email="csrf@example.org")
        email = user.email
    try:
        _log_in_and_out_with_tokens(secure_app.test_client(), email)
    finally:
        with secure_app.app_context():
            db.session.remove()
            db.engine.dispose()


def _log_in_and_out_with_tokens(client, email: str) -> None:  # type: ignore[no-untyped-def]
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', _html(client.get("/login"))
    )
    assert token, "the login form has no CSRF token"
    response = client.post(
        "/login", data={"login": email, "password": DEFAULT_PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 302

    html = _html(client.get("/"))
    logout = re.search(
        r'action="/logout" method="post">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
        html,
    )
    assert logout, "the logout form has no CSRF token"
    assert client.post("/logout").status_code == 400  # no token: refused
    response = client.post("/logout", data={"csrf_token": logout[1]})
    assert response.status_code == 302
    assert "登录" in _html(client.get("/"))


# ---- administrators -------------------------------------------------------------------


@pytest.fixture
def admin_client(app_ctx, login_as):  # type: ignore[no-untyped-def]
    return login_as(make_admin(name="管理员", email="admin@example.org"))


def test_admin_navigation_shows_admin_links(admin_client) -> None:
    html = _html(admin_client.get("/"))
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert "用户管理" in nav and "机构管理" in nav and "个人资料" in nav and "退出" in nav
    for link in ADMIN_LINKS:
        assert link in nav


def test_admin_pages_render(admin_client) -> None:
    organisation = make_organisation("桂城街道平东社区居委会", contact_name="黄主任")
    learner = make_user("欧阳春燕", organisation=organisation)
    pages = {
        "/admin/users": ["用户管理", "欧阳春燕", "桂城街道平东社区居委会", "新建用户"],
        "/admin/users/new": ["新建用户", "初始密码", "学员", "讲师", "管理员"],
        f"/admin/users/{learner.id}": ["欧阳春燕", "保存角色", "停用账号"],
        "/admin/organisations": ["机构管理", "桂城街道平东社区居委会", "黄主任", "添加机构"],
        f"/admin/organisations/{organisation.id}": ["桂城街道平东社区居委会", "联系人", "启用"],
    }
    for url, expected in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = _html(response)
        _assert_good_page(html)
        for text in expected:
            assert text in html, (url, text)


def test_user_list_filters_and_stacks_on_phones(admin_client) -> None:
    organisation = make_organisation("南约社区")
    make_user("欧阳春燕", organisation=organisation)
    make_user("陈大文", roles=("trainer",))
    html = _html(
        admin_client.get(f"/admin/users?q=欧阳&role=learner&organisation_id={organisation.id}")
    )
    assert "欧阳春燕" in html and "陈大文" not in html
    assert 'value="欧阳"' in html
    assert '<option value="learner" selected>' in html
    assert f'<option value="{organisation.id}" selected>' in html
    assert 'class="table table-stack"' in html
    assert 'data-label="手机号"' in html
    assert "共找到 1 位用户" in html


def test_user_list_paginates_and_keeps_the_filters(admin_client) -> None:
    for n in range(31):
        make_user(f"学员甲{n:02d}")
    html = _html(admin_client.get("/admin/users?q=学员甲"))
    assert "第 1 页，共 2 页" in html
    assert 'rel="next"' in html
    next_url = re.search(r'href="([^"]+)" rel="next"', html)[1].replace("&amp;", "&")
    assert "page=2" in next_url and "q=" in next_url
    html = _html(admin_client.get(next_url))
    assert "第 2 页，共 2 页" in html
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_admin_deactivates_and_reactivates_a_user(admin_client) -> None:
    learner = make_user("赵敏")
    html = _html(admin_client.get(f"/admin/users/{learner.id}"))
    assert f'action="/admin/users/{learner.id}/active"' in html
    assert '<input type="hidden" name="active" value="0">' in html

    response = admin_client.post(f"/admin/users/{learner.id}/active", data={"active": "0"})
    assert response.status_code == 302
    html = _html(admin_client.get(response.headers["Location"]))
    assert "账号已停用。" in html and "flash-success" in html
    assert '<input type="hidden" name="active" value="1">' in html
    assert "启用账号" in html


def test_admin_does_not_get_a_button_to_deactivate_themselves(admin_client) -> None:
    html = _html(admin_client.get("/admin/users"))
    own = re.search(r'href="/admin/users/(\d+)">管理员</a>', html)
    html = _html(admin_client.get(f"/admin/users/{own[1]}"))
    assert 'name="active"' not in html
    assert "这是您自己的账号" in html


def test_organisation_form_errors_are_shown(admin_client) -> None:
    response = admin_client.post("/admin/organisations", data={"name": "", "kind": "community"})
    assert response.status_code == 200
    html = _html(response)
    assert "请填写机构名称。" in html
    assert 'action="/admin/organisations#add"' in html


# ---- error pages ----------------------------------------------------------------------


def test_404_page_is_chinese(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = _html(response)
    _assert_good_page(html)
    assert "页面不存在" in html
    assert "您要访问的页面不存在。" in html
    assert "返回首页" in html


def test_404_page_in_english_on_request(client) -> None:
    html = _html(client.get("/no-such-page?lang=en"))
    assert "Page not found" in html and "Back to the home page" in html


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (400, "请求有误"),
        (403, "没有权限"),
        (404, "页面不存在"),
        (500, "系统出错了"),
        (503, "服务暂不可用"),
    ],
)
def test_error_page_titles_are_chinese(app, status: int, title: str) -> None:
    with app.test_request_context("/"):
        html = render_template("errors/error.html", status=status, message="消息")
    assert title in html and "消息" in html
    # Server-side failures may mean the database is down: no user menu, which would query it.
    assert ("site-nav" in html) is (status < 500)


def test_a_new_user_is_not_welcomed_back_on_their_first_visit(app_ctx, client) -> None:
    user = make_user("梁嘉欣", email="new.user@example.org", phone=None)
    response = client.post(
        "/login",
        data={"login": "new.user@example.org", "password": DEFAULT_PASSWORD},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "欢迎回来" not in html
    assert f"您好，{user.name}" in html
