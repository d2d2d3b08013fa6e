"""Benchmarks: each measures ours against a minimal baseline in the same run."""
