"""PSTG — Pump Station Telemetry Gateway."""

__version__ = "0.1.0"
