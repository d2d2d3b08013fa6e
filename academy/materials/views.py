"""Material pages."""
