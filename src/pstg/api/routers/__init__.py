"""One router per resource. Each carries its full path prefix (`/api/v1`, or none for
/metrics), so a route's template is its whole path: what the latency metric is labelled with."""

API_PREFIX = "/api/v1"
