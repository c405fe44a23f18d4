"""The process boundary: student code runs in a child started from bootstrap.py."""
