"""Reusable test helpers: real servers on 127.0.0.1 (no mocks of our own code)."""
