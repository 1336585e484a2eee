"""`pstg notify test --to NAME`: a test notification to a person, group or rota, now.

Sent on every channel that reaches them (one try each) with the channels built from the config,
so it also works while the gateway is stopped: the way to check an SMTP password or an SMS
gateway before trusting them with a night. Each try goes into the notification journal and the
test into the audit log (the OS user as the actor), in the config's database.

Exit status: 0 when every delivery arrived, 1 when one failed or no channel reaches them, 10
for an unknown name, 2 for a secret whose environment variable is not set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stdout
from pstg.cli.database_option import DEFAULT_CONFIG, ConfigOption, choose_database
from pstg.cli.errors import FAILURE, exit_code

notify_app = typer.Typer(help="Alarm notifications: send a test.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def send_test(
    to: Annotated[str, typer.Option("--to", help="A person, group or rota of the config.")],
    config: ConfigOption = None,
    comment: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
) -> None:
    """Send a test notification to NAME on every channel that reaches them, now."""
    from pstg.audit import cli_actor
    from pstg.cli.database_option import open_database
    from pstg.config.notifications import MissingSecret
    from pstg.errors import Invalid, NotFound
    from pstg.notify import journal
    from pstg.notify.channels import build_channels
    from pstg.notify.tester import (
        NotifyTestReport,
        UnknownRecipient,
        audit,
        check_recipient,
        send_with_channels,
    )
    from pstg.storage.catalog import sync_catalog

    choice = choose_database(config or DEFAULT_CONFIG, None)
    station = choice.station
    assert station is not None  # chosen by -c
    try:
        check_recipient(station, to)
    except UnknownRecipient as exc:
        fail(str(exc), exit_code(NotFound))
    assert station.notifications is not None
    try:
        channels = build_channels(station.notifications)
    except MissingSecret as exc:
        fail(f"{exc}: the channel's secret cannot be read", exit_code(Invalid))
    actor = cli_actor()
    with one_line_errors():
        engine = open_database(choice)
        try:
            station_id = sync_catalog(engine, station).station_id

            async def record(attempts: Sequence[journal.Attempt]) -> None:
                await asyncio.to_thread(journal.write, engine, station_id, attempts)

            outcomes = asyncio.run(send_with_channels(station, channels, [to], actor.name, record))
            report = NotifyTestReport(to, outcomes)
            audit(engine, actor, report, comment)
        finally:
            engine.dispose()
    if not outcomes:
        fail(f"no configured channel reaches {to!r}: nothing was sent", FAILURE)
    for outcome in outcomes:
        where = f"{outcome.outgoing.channel} to {outcome.outgoing.recipient.name}"
        if outcome.delivered:
            stdout.print(f"delivered: {where} ({outcome.detail})", markup=False)
        else:
            stdout.print(f"FAILED: {where}: {outcome.error}", markup=False)
    if not report.delivered:
        raise typer.Exit(FAILURE)


__all__ = ["notify_app"]
