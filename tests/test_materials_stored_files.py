"""Stored files follow the transaction only once ``create_app`` has registered the
listeners: importing the materials service changes no SQLAlchemy session."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from courses.services.materials import stored_files
from tests.conftest import DATABASE_URL


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "ACADEMY_DATABASE_URL": DATABASE_URL,
            "ACADEMY_SECRET_KEY": "test-secret-key-not-for-production",
            "PATH": "/usr/bin:/bin",
        },
    )


def test_importing_the_materials_service_registers_no_listener():
    result = _run(
        """
        import courses.services.materials
        from courses.services.materials import stored_files
        assert not stored_files.file_listeners_registered()
        print("none registered")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "none registered" in result.stdout


def test_create_app_registers_the_listeners_once():
    """Built twice, the app still removes a deleted material's file once, after commit."""
    result = _run(
        """
        import tempfile
        import sqlalchemy as sa
        from academy import create_app
        from courses.db import db
        from courses.services.materials import stored_files

        class Storage:
            deleted = []

            def delete(self, key):
                self.deleted.append(key)

        instance = tempfile.mkdtemp()
        create_app({"ACADEMY_INSTANCE_PATH": instance})
        app = create_app({"ACADEMY_INSTANCE_PATH": instance})
        stored_files.register_file_listeners()
        assert stored_files.file_listeners_registered()
        with app.app_context():
            stored_files.remove_after_commit(Storage(), "doomed")
            stored_files.remove_unless_committed(Storage(), "kept")
            assert Storage.deleted == []
            db.session.commit()
            assert Storage.deleted == ["doomed"], Storage.deleted
            db.session.execute(sa.text("SELECT 1"))  # a transaction that will not commit
            stored_files.remove_unless_committed(Storage(), "abandoned")
            db.session.rollback()
            assert Storage.deleted == ["doomed", "abandoned"], Storage.deleted
        print("registered")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "registered" in result.stdout


def test_the_test_app_has_the_listeners(app):
    assert stored_files.file_listeners_registered()
