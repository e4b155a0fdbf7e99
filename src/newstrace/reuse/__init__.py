"""Reuse: candidate pairs, local alignment, families and the earliest source."""
