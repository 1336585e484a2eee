"""`pstg command`: operate a tag through the running service's select-before-operate API
(docs/commands.md), printing each step, and `pstg command --list`: the command journal.

Exit status (README, `pstg.cli.errors`): 0 only when the read-back confirmed the command;
3 `failed` (the device link), 5 `device_refused` (a Modbus exception), 7 `not_confirmed` (the
value did not follow in time) — the meanings `pstg poll` gives those numbers. A refusal exits
with its class: 2 value not allowed, 11 reserved by another user, expired, interlock,
min_interval or starts_per_hour, 14 role; 10 an unknown tag, 13 no usable login.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr, stdout
from pstg.cli.errors import FAILURE, exit_code
from pstg.cli.service_client import (
    ServiceClient,
    ServiceConfigOption,
    UrlOption,
    choose_service,
    token_for,
)
from pstg.cli.time_options import TIME_METAVAR, time_bounds
from pstg.errors import Conflict, Invalid

if TYPE_CHECKING:
    from pstg.cli.service_client import Service

STATES = (
    "selected", "cancelled", "expired", "refused", "operating",
    "confirmed", "not_confirmed", "device_refused", "failed",
)  # fmt: skip
OUTCOME_EXIT = {"confirmed": 0, "failed": 3, "device_refused": 5, "not_confirmed": 7}
"""Exit status per final state; a refusal, a cancel or an expiry is a conflict (11)."""
INTERRUPTED = 130
"""Ctrl-C, as a shell reports a process ended by SIGINT."""
OPERATE_TIMEOUT = 120.0
"""Seconds to wait for operate's answer: it waits for the read-back, whose timeout is the
tag's (seconds, usually), so this only ends a hang; the journal tells what became of it."""
CANCEL_TIMEOUT = 10.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@app.command("command", context_settings={"ignore_unknown_options": True})
def command(
    tag: Annotated[
        str | None, typer.Argument(metavar="TAG", help="The tag to command.", show_default=False)
    ] = None,
    value: Annotated[
        str | None,
        typer.Argument(
            metavar="VALUE",
            help="A number (negative ones too), true/false, or an enumeration label (Auto).",
            show_default=False,
        ),
    ] = None,
    comment: Annotated[
        str,
        typer.Option(
            "--comment", "-m", metavar="TEXT", help="Why, for the journal and the audit log."
        ),
    ] = "",
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Send without asking for confirmation.")
    ] = False,
    show_list: Annotated[
        bool, typer.Option("--list", help="List the command journal instead, newest first.")
    ] = False,
    tag_filter: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="--list: only this tag.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", metavar="USER", help="--list: only this user's.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", metavar="STATE", help=f"--list: only one of {', '.join(STATES)}."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar=TIME_METAVAR, help="--list: selected at or after (now-1d)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar=TIME_METAVAR, help="--list: selected before (exclusive)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", metavar="N", min=1, max=MAX_LIMIT, help="--list: most rows shown."
        ),
    ] = DEFAULT_LIMIT,
    as_json: Annotated[
        bool, typer.Option("--json", help="--list: JSON Lines, one command per line.")
    ] = False,
    config: ServiceConfigOption = None,
    url: UrlOption = None,
) -> None:
    """Command a tag through the running service: select (role, range and interlocks checked,
    the tag reserved), then operate (written, read back), printing each step.

    Exit status: 0 confirmed; 3 failed, 5 device refused, 7 not confirmed; a refusal
    prints the rule and exits 2 (value not allowed), 11 (reserved, expired, interlock,
    interval) or 14 (role). Ctrl-C before operate cancels the selection. With --list, the
    command journal instead.
    """
    service = choose_service(config, url)
    if show_list:
        if tag is not None:
            fail("--list takes no TAG VALUE: filter with --tag TAG", exit_code(Invalid))
        _list_journal(service, tag_filter, user, state, start, end, limit, as_json)
        return
    if tag is None or value is None:
        fail("give TAG VALUE (e.g. `pstg command sp 12.5`), or --list", exit_code(Invalid))
    if tag_filter or user or state or start or end or as_json:
        fail("--tag, --user, --state, --from, --to and --json go with --list", exit_code(Invalid))
    body = {"tag": tag, "value": parse_value(value), "comment": comment}
    token = token_for(service)
    with one_line_errors(), ServiceClient(service, token) as client:
        _check_station(client, service)
        if not yes:
            _confirm(tag, value, service.url)
        code = _select_and_operate(client, body)
    raise typer.Exit(code)


def parse_value(text: str) -> float | int | bool | str:
    """VALUE as JSON sends it: a number or a bool as such, anything else as text (a label)."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        if re.fullmatch(r"[+-]?\d+", stripped):
            return int(stripped)
        return float(stripped)
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    return text


def _check_station(client: ServiceClient, service: Service) -> None:
    """A command goes only to the config's station: another station's service on that port
    (a copied config, a port mix-up) is refused before anything is selected."""
    if service.station_id is None:
        return
    answered = client.health().get("station_id")
    if answered != service.station_id:
        fail(
            f"the service at {service.url} runs station {answered!r}, not "
            f"{service.station_id!r} of {service.config}: nothing sent",
            exit_code(Conflict),
        )


def _confirm(tag: str, value: str, url: str) -> None:
    if not sys.stdin.isatty():
        fail(
            f"commanding {tag} = {value} changes the station: add --yes, there is no terminal",
            exit_code(Invalid),
        )
    if not typer.confirm(f"command {tag} = {value} at {url}?", err=True):
        raise typer.Exit(FAILURE)


def _select_and_operate(client: ServiceClient, body: dict[str, Any]) -> int:
    """Select, print it, operate, print the result; the exit status for it."""
    try:
        chosen = client.post("/api/v1/commands", body)
    except KeyboardInterrupt:
        stderr.print(
            "interrupted while selecting: a selection made stands until it expires "
            "(`pstg command --list --state selected`)",
            markup=False,
        )
        return INTERRUPTED
    if chosen.get("state") != "selected":  # mode direct: selected and operated in one request
        stdout.print(f"sent directly: command {chosen['id']}, {_what(chosen)}", markup=False)
        return _report(chosen)
    stdout.print(
        f"selected: command {chosen['id']}, {_what(chosen)}, expires at "
        f"{_when(chosen.get('expires_at'))}",
        markup=False,
    )
    try:
        stdout.print("operating...", markup=False)
        done = client.post(f"/api/v1/commands/{chosen['id']}/operate", timeout=OPERATE_TIMEOUT)
    except KeyboardInterrupt:
        _cancel(client, int(chosen["id"]))
        return INTERRUPTED
    return _report(done)


def _cancel(client: ServiceClient, command_id: int) -> None:
    """After Ctrl-C: cancel the selection unless the operate already went through."""
    from pstg.errors import PstgError

    try:
        cancelled = client.post(f"/api/v1/commands/{command_id}/cancel", timeout=CANCEL_TIMEOUT)
    except PstgError as exc:
        stderr.print(
            f"interrupted; command {command_id} could not be cancelled ({exc.message}): "
            f"see `pstg command --list`",
            markup=False,
        )
        return
    stderr.print(
        f"interrupted: command {command_id} {cancelled.get('state', 'cancelled')}, nothing written",
        markup=False,
    )


def _report(final: dict[str, Any]) -> int:
    """Print the outcome (stdout when confirmed, else an error line); its exit status."""
    state = str(final.get("state"))
    facts = []
    if final.get("read_back") is not None:
        facts.append(f"read back {_json(final['read_back'])}")
    if final.get("old_value") is not None:
        facts.append(f"was {_json(final['old_value'])}")
    if final.get("exception_code") is not None:
        facts.append(f"Modbus exception {final['exception_code']}")
    if final.get("seconds") is not None:
        facts.append(f"in {float(final['seconds']):.3f} s")
    shown = f"refused ({final['rule']})" if state == "refused" and final.get("rule") else state
    line = shown + (": " + ", ".join(facts) if facts else "")
    if final.get("detail"):
        line += f" ({final['detail']})"
    if state == "confirmed":
        stdout.print(line, markup=False)
        return 0
    stderr.print(f"[bold red]error:[/] command {final.get('id')} ", markup=True, end="")
    stderr.print(line, markup=False)
    if state in OUTCOME_EXIT:
        return OUTCOME_EXIT[state]
    return exit_code(Conflict) if state in ("refused", "cancelled", "expired") else FAILURE


def _what(cmd: dict[str, Any]) -> str:
    value = _json(cmd.get("value"))
    shown = f"{cmd['label']} ({value})" if cmd.get("label") else value
    return f"{cmd.get('tag')} = {shown}"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _when(text: Any) -> str:
    from datetime import datetime

    from pstg.cli.users import format_when

    if not isinstance(text, str):
        return "-"
    try:
        return format_when(datetime.fromisoformat(text))
    except ValueError:
        return text


def _list_journal(
    service: Service,
    tag: str | None,
    user: str | None,
    state: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    as_json: bool,
) -> None:
    from pstg.times import format_instant

    if state is not None and state not in STATES:
        fail(f"--state {state!r}: one of {', '.join(STATES)}", exit_code(Invalid))
    low, high = time_bounds(start, end)
    params: dict[str, Any] = {"tag": tag, "user": user, "state": state, "limit": limit}
    params["from"] = None if low is None else format_instant(low)
    params["to"] = None if high is None else format_instant(high)
    token = token_for(service)
    with one_line_errors(), ServiceClient(service, token) as client:
        found = client.get(
            "/api/v1/commands", {key: value for key, value in params.items() if value is not None}
        )
    rows: list[dict[str, Any]] = list(found.get("commands", []))
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    elif rows:
        _print_table(rows)
    if not rows:
        filtered = tag or user or state or start or end
        stderr.print("no commands" + (" match" if filtered else ""), markup=False)
    elif len(rows) == limit:
        stderr.print(f"the newest {limit}; see more with --limit or --to", markup=False)


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(
        "id", "selected", "tag", "value", "user", "mode", "state", "read back", "s", "comment",
        "detail", box=None, pad_edge=False,
    )  # fmt: skip
    for column in table.columns[:-2]:
        column.no_wrap = True
    for row in rows:
        seconds = row.get("seconds")
        table.add_row(
            str(row.get("id")),
            _when(row.get("selected_at")),
            str(row.get("tag")),
            _what(row).partition(" = ")[2],
            str(row.get("user")),
            str(row.get("mode")),
            str(row.get("state")),
            "-" if row.get("read_back") is None else _json(row["read_back"]),
            "-" if seconds is None else f"{float(seconds):.3f}",
            row.get("comment") or "",
            row.get("detail") or "",
        )
    stdout.print(table, markup=False)
