"""`academy demo` on a fresh instance: migrates, seeds, serves, and the demo accounts log in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from courses.services.demo_data import DEMO_ACCOUNTS, DEMO_PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_serves_chinese_pages_and_demo_accounts_log_in(tmp_path: Path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ACADEMY_")}
    env["ACADEMY_INSTANCE_PATH"] = str(tmp_path / "instance")
    academy = Path(sys.executable).with_name("academy")
    server = subprocess.Popen(
        [str(academy), "demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        home = httpx.get(base + "/", timeout=10)
        assert home.status_code == 200
        assert "社工学院" in home.text

        for account in DEMO_ACCOUNTS:
            response = httpx.post(
                f"{base}/api/v1/tokens",
                json={"login": account.login, "password": DEMO_PASSWORD},
                timeout=10,
            )
            assert response.status_code == 201, (account, response.text)
            me = httpx.get(
                f"{base}/api/v1/me",
                timeout=10,
                headers={"Authorization": f"Bearer {response.json()['token']}"},
            )
            assert account.role in me.json()["roles"]
        # The in-process relay issues the demo year's certificates in the background
        # while the site answers: the learner's come with their PDFs and verify.
        _learner_certificates_are_drawn(base)
        # The embedded default keeps its data and its secret key in the instance folder.
        assert (tmp_path / "instance" / "academy.db").exists()
        assert (tmp_path / "instance" / "secret_key").exists()
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    for account in DEMO_ACCOUNTS:
        assert account.login in output  # the accounts are printed for the newcomer


def _learner_certificates_are_drawn(base: str) -> None:
    learner = next(account for account in DEMO_ACCOUNTS if account.role == "learner")
    token = httpx.post(
        f"{base}/api/v1/tokens",
        json={"login": learner.login, "password": DEMO_PASSWORD},
        timeout=10,
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 180
    items: list = []
    while time.monotonic() < deadline:
        items = httpx.get(f"{base}/api/v1/me/certificates", headers=headers, timeout=10).json()[
            "items"
        ]
        if items and all(item["pdf_url"] for item in items):
            break
        time.sleep(1)
    assert items and all(item["pdf_url"] for item in items), items
    pdf = httpx.get(base + items[0]["pdf_url"], headers=headers, timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    verified = httpx.get(f"{base}/api/v1/certificates/{items[0]['serial']}", timeout=10).json()
    assert verified["status"] == "valid" and "*" in verified["holder"]
