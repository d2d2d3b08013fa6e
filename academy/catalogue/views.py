"""Catalogue pages."""
