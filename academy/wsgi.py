"""WSGI entry point for production: ``gunicorn 'academy.wsgi:app'``."""

from academy import create_app

app = create_app()
