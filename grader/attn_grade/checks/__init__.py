"""Test kinds beyond value comparison, one module each (speed today)."""
