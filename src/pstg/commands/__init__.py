"""Control commands: select-before-operate, interlocks, read-back, every step audited.

    model.py     Command, CommandState, CommandRefused (which rule refused)
    rules.py     the checks: allowed values, interlocks on live values, read-back matching
    journal.py   the command journal, with audit rows and events in one transaction
    tables.py    the `commands` table (migration 0010)
    service.py   CommandService: select, operate, cancel, expiry

docs/commands.md describes the model.
"""
