"""pyserial URL handlers for tests (pyserial imports `protocol_<scheme>` from this package)."""
