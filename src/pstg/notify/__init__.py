"""Alarms that reach people: notification channels, routing, escalation, the journal.

    message.py    AlarmInfo, Notice, Digest, Recipient; text renderings (e-mail, SMS)
    document.py   the webhook JSON document and its shipped schema (schemas/*.json)
    directory.py  people, groups, on-call rotas; which routes take an alarm
    planner.py    who is told what and when: escalation, reminders, flood digests (pure)
    schedule.py   when the daily self-test runs
    channels/     e-mail (aiosmtplib), webhooks (httpx, HMAC-signed)
    delivery.py   bounded queues, workers, retries with backoff, journal rows
    journal.py    the notification journal in the database (tables.py: its table)
    heartbeat.py  the gateway's sign of life for an external dead-man's switch

The notification sinks (`pstg.sinks.notify`) wire these into the pipeline; docs/notifications.md
tells the whole story.
"""
