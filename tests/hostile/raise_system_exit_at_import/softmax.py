"""Hostile: SystemExit raised while the module is imported."""

raise SystemExit(3)
