"""Seeded, deterministic synthetic news-reuse corpus with ground truth (DESIGN.md §4)."""
