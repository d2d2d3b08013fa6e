"""Services: one function per rule. They flush, never commit; the caller commits."""
