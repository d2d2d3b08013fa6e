"""Settings come from environment variables only; a wrong setting stops start-up with
a message that says which variable and how to fix it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from academy.config import ConfigError, load_settings, normalise_database_url

SECRET = "a-long-enough-secret-key-for-tests"
POSTGRES = "postgresql://academy:s3cr3t-pw@db.example:5432/academy"


def settings_for(tmp_path: Path, **env: str) -> dict:
    return load_settings({"ACADEMY_INSTANCE_PATH": str(tmp_path / "instance"), **env})


def test_the_embedded_defaults(tmp_path):
    settings = settings_for(tmp_path)
    instance = (tmp_path / "instance").resolve()

    assert settings["INSTANCE_PATH"] == str(instance)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'academy.db'}"
    assert settings["TIMEZONE"] == "Asia/Shanghai"
    assert settings["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert settings["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert settings["MINUTES_PER_CLASS_HOUR"] == 45
    assert settings["BROKER_URL"] is None
    assert settings["MAX_UPLOAD_BYTES"] == 200 * 1024 * 1024
    assert settings["UPLOAD_ROOT"] == str(instance / "uploads")
    assert settings["SESSION_COOKIE_HTTPONLY"] and settings["REMEMBER_COOKIE_HTTPONLY"]
    assert settings["SESSION_COOKIE_SAMESITE"] == settings["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    # Plain http on a laptop: the embedded default does not insist on HTTPS cookies.
    assert not settings["SESSION_COOKIE_SECURE"]


def test_without_any_variable_the_instance_folder_is_under_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings["INSTANCE_PATH"] == str((tmp_path / "instance").resolve())
    assert (tmp_path / "instance" / "secret_key").exists()


def test_the_embedded_default_keeps_a_private_secret_key_in_the_instance_folder(tmp_path):
    first = settings_for(tmp_path)["SECRET_KEY"]
    key_file = tmp_path / "instance" / "secret_key"

    assert key_file.read_text() == first
    assert len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_for(tmp_path)["SECRET_KEY"] == first
    assert settings_for(tmp_path / "elsewhere")["SECRET_KEY"] != first


def test_a_given_secret_key_is_used_and_no_key_file_is_written(tmp_path):
    settings = settings_for(tmp_path, ACADEMY_SECRET_KEY=SECRET)
    assert settings["SECRET_KEY"] == SECRET
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_a_short_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ACADEMY_SECRET_KEY"):
        settings_for(tmp_path, ACADEMY_SECRET_KEY="short")


def test_a_server_database_without_a_secret_key_stops_start_up(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings_for(tmp_path, ACADEMY_DATABASE_URL=POSTGRES)
    message = str(caught.value)
    assert "ACADEMY_SECRET_KEY is not set" in message
    assert "db.example:5432/academy" in message
    assert "s3cr3t-pw" not in message, "the database password must not be echoed"
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/lib/academy/academy.db", "sqlite:////var/lib/academy/academy.db"),
    ],
)
def test_database_urls_are_normalised_to_the_psycopg_3_driver(given, expected):
    assert normalise_database_url(given) == expected


def test_production_settings_come_from_the_environment(tmp_path):
    settings = settings_for(
        tmp_path,
        ACADEMY_DATABASE_URL="postgres://academy:pw@db.example/academy",
        ACADEMY_SECRET_KEY=SECRET,
        ACADEMY_BROKER_URL="redis://redis:6379/0",
        ACADEMY_TIMEZONE="Asia/Hong_Kong",
        ACADEMY_MINUTES_PER_CLASS_HOUR="40",
        ACADEMY_DEFAULT_LOCALE="en",
        ACADEMY_MAX_UPLOAD_MB="10",
        ACADEMY_DB_POOL_SIZE="3",
        ACADEMY_DB_CONNECT_TIMEOUT="2",
        ACADEMY_DB_STATEMENT_TIMEOUT_MS="1500",
    )

    assert (
        settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://academy:pw@db.example/academy"
    )
    assert settings["BROKER_URL"] == "redis://redis:6379/0"
    assert settings["TIMEZONE"] == "Asia/Hong_Kong"
    assert settings["MINUTES_PER_CLASS_HOUR"] == 40
    assert settings["BABEL_DEFAULT_LOCALE"] == "en"
    assert settings["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    # A server database means HTTPS in production: cookies are Secure by default.
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    engine = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    # Connections are checked on checkout by courses.db, not by a ping per request.
    assert "pool_pre_ping" not in engine
    assert engine["pool_size"] == 3
    assert engine["connect_args"]["connect_timeout"] == 2
    assert engine["connect_args"]["options"] == "-c statement_timeout=1500"


def test_secure_cookies_can_be_switched_explicitly(tmp_path):
    on = settings_for(tmp_path, ACADEMY_SECURE_COOKIES="yes")
    off = settings_for(
        tmp_path,
        ACADEMY_DATABASE_URL=POSTGRES,
        ACADEMY_SECRET_KEY=SECRET,
        ACADEMY_SECURE_COOKIES="0",
    )
    assert on["SESSION_COOKIE_SECURE"] and not off["SESSION_COOKIE_SECURE"]


def test_sqlite_waits_for_the_write_lock_instead_of_failing(tmp_path):
    options = settings_for(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["timeout"] >= 5


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ACADEMY_MINUTES_PER_CLASS_HOUR", "forty-five"),
        ("ACADEMY_MINUTES_PER_CLASS_HOUR", "0"),
        ("ACADEMY_MINUTES_PER_CLASS_HOUR", "-45"),
        ("ACADEMY_MINUTES_PER_CLASS_HOUR", "45.5"),
        ("ACADEMY_TIMEZONE", "Asia/Guicheng"),
        ("ACADEMY_TIMEZONE", "../../etc/passwd"),
        ("ACADEMY_DEFAULT_LOCALE", "fr"),
        ("ACADEMY_MAX_UPLOAD_MB", "lots"),
        ("ACADEMY_DB_POOL_SIZE", "0"),
        ("ACADEMY_SECURE_COOKIES", "maybe"),
        ("ACADEMY_RATELIMIT_ENABLED", "sometimes"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(tmp_path, variable, value):
    env = {variable: value}
    if variable == "ACADEMY_DB_POOL_SIZE":
        env.update(ACADEMY_DATABASE_URL=POSTGRES, ACADEMY_SECRET_KEY=SECRET)
    with pytest.raises(ConfigError) as caught:
        settings_for(tmp_path, **env)
    assert variable in str(caught.value)


def test_the_process_environment_is_read_when_no_mapping_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("ACADEMY_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ACADEMY_MINUTES_PER_CLASS_HOUR", "50")
    assert load_settings()["MINUTES_PER_CLASS_HOUR"] == 50


def academy_command() -> str:
    return str(Path(sys.executable).with_name("academy"))


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ACADEMY_DATABASE_URL": POSTGRES}, "ACADEMY_SECRET_KEY is not set"),
        ({"ACADEMY_TIMEZONE": "Mars/Olympus_Mons"}, "ACADEMY_TIMEZONE"),
    ],
)
def test_the_academy_command_stops_with_a_clear_message_on_a_config_error(tmp_path, env, expected):
    result = subprocess.run(
        [academy_command(), "db", "upgrade"],
        env=clean_environment(ACADEMY_INSTANCE_PATH=str(tmp_path / "instance"), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Configuration error" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_two_processes_starting_at_once_share_one_secret_key(tmp_path):
    """The embedded default's key file is created atomically: every starter reads one key."""
    import subprocess
    import sys

    script = (
        "from academy.config import load_settings;"
        f"print(load_settings({{'ACADEMY_INSTANCE_PATH': {str(tmp_path)!r}}})['SECRET_KEY'])"
    )
    starters = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {starter.communicate(timeout=60)[0].strip() for starter in starters}
    assert len(keys) == 1
    assert keys == {(tmp_path / "secret_key").read_text().strip()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
