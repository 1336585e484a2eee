"""GET /api/v1/stream: the live view, alarms and device states pushed to browsers as
Server-Sent Events. `hub` produces, `response` writes to each client, `messages` says what."""
