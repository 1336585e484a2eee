"""Sinks: where batches and events end up — the live view, storage, alarms, the log.

Each sink is a module here implementing `pstg.sinks.base.Sink`; `pstg.sinks.registry` lists
them in one place, and `pstg.pipeline.Pipeline` feeds, drains and stops them in order. A new
output (MQTT, notifications, a stream to browsers) is a new module and one line in the
registry, never an edit of the pipeline.
"""
