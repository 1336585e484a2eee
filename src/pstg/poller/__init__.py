"""Polling: drift-free schedules, backoff, per-device statistics and the device poll loops."""
