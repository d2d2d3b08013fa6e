"""Certificates: the documents a learner receives for completed training."""
