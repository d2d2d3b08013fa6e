"""Translations: every message has real Chinese, the committed .mo files are current,
and pages come in Chinese by default and in English on request.

After adding or changing a user-facing string, run ``scripts/i18n``, translate the new
entries in the zh_Hans_CN catalogue, and run it again.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "academy" / "translations"
SOURCES = ("academy", "courses", "workers", "templates")
# Babel reads the zh_CN setting as zh_Hans_CN and loads the catalogue of that name.
CHINESE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
LOCALES = ("zh_Hans_CN", "en")
CJK = re.compile(r"[\u3400-\u9fff]")


def _keywords() -> str:
    """The extra extraction keywords, read from scripts/i18n so the two never differ."""
    match = re.search(r'--keywords "([^"]+)"', (ROOT / "scripts" / "i18n").read_text())
    assert match, "scripts/i18n no longer passes --keywords to pybabel extract"
    return match.group(1)


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages in the sources as they are now, extracted afresh."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "--quiet",
            "extract",
            "--mapping-file",
            "babel.cfg",
            "--keywords",
            _keywords(),
            "--output-file",
            str(pot),
            *SOURCES,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return _read_po(pot)


def _translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def test_every_message_in_the_sources_has_a_chinese_translation(extracted: Catalog) -> None:
    chinese = _read_po(CHINESE)
    messages = [m for m in extracted if m.id]
    assert len(messages) > 100, "extraction found almost nothing: check babel.cfg"
    missing = [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in messages
        if not _translated(chinese.get(m.id, context=m.context))
    ]
    assert not missing, (
        f"{len(missing)} message(s) lack a Chinese translation; run scripts/i18n and translate "
        f"them in {CHINESE.relative_to(ROOT)}:\n  " + "\n  ".join(missing)
    )


def test_chinese_translations_are_chinese_and_keep_their_placeholders() -> None:
    chinese = _read_po(CHINESE)
    not_chinese = [
        m.id
        for m in chinese
        if m.id
        and m.string
        and not all(
            CJK.search(s) for s in (m.string if isinstance(m.string, tuple) else [m.string])
        )
    ]
    assert not not_chinese, f"translations without any Chinese text: {not_chinese}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in chinese.check()]
    assert not problems, f"placeholders differ between msgid and msgstr: {problems}"


def test_the_chinese_speaks_with_one_voice() -> None:
    """您, never 你, to the reader; 课时 for class hours, never 学时."""
    chinese = _read_po(CHINESE)
    strings = [
        (m.id, s)
        for m in chinese
        if m.id
        for s in (m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert [mid for mid, s in strings if "你" in s] == []
    assert [mid for mid, s in strings if "学时" in s] == []


def test_no_catalogue_entry_is_left_fuzzy() -> None:
    for locale in LOCALES:
        catalogue = _read_po(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
        assert not catalogue.fuzzy, f"the {locale} catalogue header is marked fuzzy"
        fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
        assert not fuzzy, f"fuzzy entries in {locale}: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_file_matches_its_po_file(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, _read_po(folder / "messages.po"))
    compiled.seek(0)
    with (folder / "messages.mo").open("rb") as handle:
        committed = read_mo(handle)
    fresh = read_mo(compiled)

    def contents(catalogue: Catalog) -> dict[tuple[object, str | None], object]:
        def frozen(value: object) -> object:
            return tuple(value) if isinstance(value, list | tuple) else value

        return {(frozen(m.id), m.context): frozen(m.string) for m in catalogue}

    assert contents(committed) == contents(fresh), (
        f"{folder.relative_to(ROOT)}/messages.mo is out of date: run scripts/i18n compile"
    )


def test_pages_are_chinese_by_default(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html
    assert "手机号或邮箱" in html  # a form label, translated through lazy_gettext
    assert "Log in" not in html


def test_lang_en_switches_to_english_and_sticks(client) -> None:
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "Phone or e-mail" in html
    assert "登录" not in html
    # The choice is kept for the rest of the visit; the switch offers Chinese back.
    html = client.get("/register").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Create an account" in html
    assert "lang=zh_CN" in html
    html = client.get("/register?lang=zh_CN").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "注册账号" in html


def test_messages_from_python_code_are_translated(app_ctx, client) -> None:
    response = client.post("/login", data={"login": "", "password": ""})
    assert "请输入手机号或邮箱。" in response.get_data(as_text=True)

    user = make_user(email="zhang@example.org")
    response = client.post(
        "/login", data={"login": user.email, "password": "wrong-password"}, follow_redirects=True
    )
    assert "手机号/邮箱或密码错误。" in response.get_data(as_text=True)


def test_placeholders_are_filled_in_chinese(app_ctx, login_as) -> None:
    user = make_user("陈晓华", email="chen@example.org")
    client = login_as(user)
    html = client.get("/").get_data(as_text=True)
    assert "您好，陈晓华。" in html
