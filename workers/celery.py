"""The worker entry point: the one module that builds the Flask app for Celery."""

from academy import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
