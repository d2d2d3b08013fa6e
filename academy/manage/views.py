"""Management pages."""
