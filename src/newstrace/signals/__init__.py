"""Persuasion and sourcing signals: technique spans and attributions."""
