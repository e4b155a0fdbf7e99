"""Scorers written from the metric definitions in DESIGN.md §3-4."""
