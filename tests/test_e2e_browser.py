"""End to end in a real browser (Debian's Chromium driven by Playwright) at phone size."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD, make_organisation, make_user

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def _fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _log_in(page: Page, live_server: str, login: str, password: str = DEFAULT_PASSWORD) -> None:
    """Through the real login form."""
    page.goto(f"{live_server}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_learner_registers_and_logs_in_on_a_phone(app_ctx, live_server, phone):
    organisation = make_organisation("桂城街道平东社区居委会")

    phone.goto(f"{live_server}/register")
    assert _fits_the_screen(phone)
    phone.fill("input[name=name]", "陈晓华")
    phone.fill("input[name=phone]", "+86 138 0013 8000")
    phone.fill("input[name=email]", "chen.xh@example.org")
    phone.select_option("select[name=organisation]", str(organisation.id))
    phone.select_option("select[name=qualification_level]", "assistant_social_worker")
    phone.fill("input[name=password]", "long-enough-9")
    phone.fill("input[name=confirm]", "long-enough-9")
    phone.click("form button[type=submit]")
    phone.wait_for_load_state()
    # The same answer as for a phone already registered: log in, the phone filled in.
    assert phone.url.endswith("/login")
    assert phone.input_value("input[name=login]") == "+86 138 0013 8000"
    phone.fill("input[name=password]", "long-enough-9")
    phone.click("form button[type=submit]")
    phone.wait_for_load_state()
    assert "陈晓华" in phone.content()

    # Log out (a POST form in the navigation), then back in by phone number.
    phone.click("#menu-toggle")  # on a phone the menu folds behind one button
    phone.click("form[action$='/logout'] button")
    phone.wait_for_load_state()
    _log_in(phone, live_server, "13800138000", "long-enough-9")
    assert "陈晓华" in phone.content()
    assert _fits_the_screen(phone)


def test_wrong_password_shows_a_chinese_message(app_ctx, live_server, phone):
    make_user(email="wrong.pw@example.org")
    _log_in(phone, live_server, "wrong.pw@example.org", "not-the-password")
    assert "密码" in phone.content()
    assert phone.url.endswith("/login")


def test_admin_finds_a_user_on_a_phone(app_ctx, live_server, phone):
    admin = make_user(email="admin.e2e@example.org", roles=("admin",))
    make_user("欧阳春燕", email="oy@example.org")
    _log_in(phone, live_server, admin.email)
    phone.goto(f"{live_server}/admin/users?q=欧阳")
    content = phone.content()
    assert "欧阳春燕" in content
    assert _fits_the_screen(phone)


def test_learner_enrols_joins_the_waitlist_and_the_trainer_sees_the_roster_on_a_phone(
    app_ctx, live_server, phone
):
    from courses.db import db
    from courses.models import Enrolment, EnrolmentStatus
    from tests.factories import make_course, make_enrolment, make_trainer

    trainer = make_trainer(email="trainer.roster@example.org")
    course = make_course("社区心理健康服务", sessions=2, capacity=1, trainers=[trainer])
    make_enrolment(course, make_user("已报名学员"))
    learner = make_user("候补学员", email="waiting.e2e@example.org")

    # Not logged in: the course page sends the learner to log in, then straight back.
    phone.goto(f"{live_server}/courses/{course.id}")
    phone.click("text=登录后报名")
    phone.fill("input[name=login]", learner.email)
    phone.fill("input[name=password]", DEFAULT_PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait_for_load_state()
    assert phone.url.endswith(f"/courses/{course.id}")

    phone.click("button:has-text('加入候补')")
    phone.wait_for_load_state()
    assert "候补第 1 位" in phone.content()
    assert _fits_the_screen(phone)
    phone.goto(f"{live_server}/me/courses")
    assert "社区心理健康服务" in phone.content() and "离开候补" in phone.content()
    assert _fits_the_screen(phone)
    phone.click("#menu-toggle")  # on a phone the menu folds behind one button
    phone.click("form[action$='/logout'] button")
    phone.wait_for_load_state()

    _log_in(phone, live_server, trainer.email)
    phone.goto(f"{live_server}/manage/courses/{course.id}/enrolments")
    assert "候补学员" in phone.content() and "已报名学员" in phone.content()
    assert _fits_the_screen(phone)
    phone.click("button:has-text('立即录取')")
    phone.wait_for_load_state()
    db.session.rollback()
    status = db.session.scalar(db.select(Enrolment.status).where(Enrolment.user_id == learner.id))
    assert status == EnrolmentStatus.ENROLLED


def test_trainer_shows_the_qr_code_and_a_learner_checks_in_on_a_phone(
    app_ctx, live_server, browser, phone
):
    from datetime import UTC, datetime, timedelta

    from courses.db import db
    from courses.models import AttendanceMethod, AttendanceRecord
    from tests.factories import make_course, make_enrolment, make_session, make_trainer

    trainer = make_trainer(email="trainer.checkin@example.org")
    course = make_course("危机干预实务", trainers=[trainer])
    session = make_session(course, starts_at=datetime.now(UTC) + timedelta(minutes=10))
    learner = make_user("签到学员", email="checkin.e2e@example.org")
    make_enrolment(course, learner)

    # The trainer opens check-in from the roll-call page; the screen shows the QR code
    # and replaces it as the token rotates.
    screen_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    screen = screen_context.new_page()
    _log_in(screen, live_server, trainer.email)
    screen.goto(f"{live_server}/manage/sessions/{session.id}/attendance")
    screen.click(f"form[action$='/manage/sessions/{session.id}/checkin/open'] button[type=submit]")
    screen.wait_for_load_state()
    assert screen.url.endswith(f"/manage/sessions/{session.id}/checkin")
    assert screen.locator("#qr svg").count() == 1
    # A presentation view for the projector: the QR code and the numeric code are both
    # on screen at 1280×800, with no scrolling and without the site's header.
    for selector in ("#qr", "#code"):
        box = screen.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["x"] >= 0, selector
        assert box["y"] + box["height"] <= 800 and box["x"] + box["width"] <= 1280, (selector, box)
    assert screen.locator("#qr").bounding_box()["height"] >= 400  # readable from the back
    assert not screen.locator(".site-header").is_visible()
    assert screen.evaluate("document.documentElement.scrollHeight") <= 800
    link = screen.evaluate(
        "fetch(document.getElementById('checkin-screen').dataset.tokenUrl)"
        ".then(r => r.json()).then(j => j.url)"
    )
    screen_context.close()

    # The learner's phone camera opens the link: log in, come straight back, and the
    # page checks in as it opens.
    phone.goto(link)
    phone.fill("input[name=login]", learner.email)
    phone.fill("input[name=password]", DEFAULT_PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait_for_selector("text=签到成功")
    assert phone.url.endswith(f"/checkin/{session.id}")
    assert _fits_the_screen(phone)
    db.session.rollback()
    record = db.session.scalar(
        db.select(AttendanceRecord).where(AttendanceRecord.user_id == learner.id)
    )
    assert record is not None and record.method == AttendanceMethod.QR
    assert record.checked_in_at is not None


def test_the_session_page_joins_and_keeps_sending_heartbeats(app, app_ctx, live_server, phone):
    from datetime import UTC, datetime, timedelta

    from courses.db import db
    from courses.models import AttendanceRecord, SessionMode
    from tests.factories import make_course, make_enrolment, make_session

    course = make_course("线上督导", mode="online")
    session = make_session(
        course,
        starts_at=datetime.now(UTC) - timedelta(minutes=10),
        mode=SessionMode.ONLINE,
        meeting_url=f"{live_server}/healthz",
    )
    learner = make_user("线上学员", email="online.e2e@example.org")
    make_enrolment(course, learner)
    app.config["HEARTBEAT_SECONDS"] = 1  # a minute in production
    try:
        _log_in(phone, live_server, learner.email)
        phone.goto(f"{live_server}/sessions/{session.id}")
        assert _fits_the_screen(phone)
        with phone.expect_popup() as meeting:
            phone.click("#join-form button[type=submit]")
        assert meeting.value.url.endswith("/healthz")  # the meeting opened in a new tab
        phone.wait_for_selector("#presence-status:not([hidden])", timeout=10_000)

        def record() -> AttendanceRecord | None:
            db.session.rollback()
            return db.session.scalar(
                db.select(AttendanceRecord).where(AttendanceRecord.user_id == learner.id)
            )

        joined = record()
        assert joined is not None and joined.online_minutes >= 1
        first_seen = joined.first_seen_online_at
        phone.wait_for_timeout(2500)
        later = record()
        assert later is not None and later.last_seen_online_at > first_seen
    finally:
        app.config["HEARTBEAT_SECONDS"] = 60


def test_the_recording_reports_the_ranges_played_and_earns_the_session(
    app, app_ctx, live_server, phone, tmp_path
):
    import math
    import struct
    import wave
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from courses.db import db
    from courses.models import AttendanceRecord, SessionMode, VideoProgress
    from tests.factories import make_course, make_enrolment, make_session

    # A sixteen-second recording served by the site itself (the page allows only its own
    # origin): the static files plus a generated WAV file. The session is worth 0.01 class
    # hours (27 seconds), so the recording is long enough for them.
    static = tmp_path / "static"
    shutil.copytree(Path(app.static_folder), static)
    with wave.open(str(static / "recording.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * n / 8000)))
                for n in range(8000 * 16)
            )
        )
    course = make_course("录播课", mode="online")
    session = make_session(
        course,
        starts_at=datetime.now(UTC) - timedelta(days=1),
        mode=SessionMode.RECORDED,
        video_url=f"{live_server}/static/recording.wav",
        class_hours=0.01,
    )
    learner = make_user("录播学员", email="video.e2e@example.org")
    make_enrolment(course, learner)
    original = app.static_folder
    app.static_folder = str(static)
    try:
        _log_in(phone, live_server, learner.email)
        phone.goto(f"{live_server}/sessions/{session.id}")
        phone.evaluate(
            "() => { const v = document.getElementById('recording'); v.muted = true;"
            " v.playbackRate = 4; return v.play(); }"
        )
        phone.wait_for_function("() => document.getElementById('recording').ended", timeout=20_000)
        phone.wait_for_function(
            "() => document.getElementById('watched').value >= 90", timeout=10_000
        )
    finally:
        app.static_folder = original
    db.session.rollback()
    progress = db.session.scalar(
        db.select(VideoProgress).where(VideoProgress.user_id == learner.id)
    )
    assert progress is not None and progress.watched_seconds >= 2
    record = db.session.scalar(
        db.select(AttendanceRecord).where(AttendanceRecord.user_id == learner.id)
    )
    assert record is not None and record.video_complete


def test_on_a_phone_the_header_is_one_row_and_a_course_shows_on_the_first_screen(
    app_ctx, live_server, phone
):
    from tests.factories import make_course

    for number in range(3):
        make_course(f"手机首屏课程{number}")
    learner = make_user("手机学员", email="phone.header@example.org")
    _log_in(phone, live_server, learner.email)
    phone.goto(f"{live_server}/courses")

    header = phone.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 120, header
    assert not phone.locator(".site-nav").is_visible()
    first_card = phone.locator(".card-list > li").first.bounding_box()
    assert first_card is not None and first_card["y"] < PHONE["height"], first_card
    assert not phone.locator("#topic").is_visible()  # behind 筛选
    phone.click("summary:has-text('筛选')")
    assert phone.locator("#topic").is_visible()

    phone.click("#menu-toggle")
    assert phone.locator("a:has-text('我的课程')").first.is_visible()
    assert phone.locator("button:has-text('退出')").is_visible()
    assert _fits_the_screen(phone)
