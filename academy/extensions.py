"""Flask extension objects, created unbound and initialised by ``create_app``."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect

from courses.db import db

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class AcademyApi(Api):
    """flask-smorest's Api, leaving error responses to ``academy.errors`` so that the
    API and the pages share one error shape: ``{"error": {"code", "message"}}``."""

    def _register_error_handlers(self) -> None:
        return None


api = AcademyApi()

__all__ = ["api", "babel", "csrf", "db", "login_manager", "migrate"]
