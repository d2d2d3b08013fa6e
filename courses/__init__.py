"""The training domain: every table and every rule of the academy.

``courses`` imports neither ``academy`` (the web layer) nor ``workers`` (Celery).
Services flush, callers commit.
"""
