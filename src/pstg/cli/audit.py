"""`pstg audit`: read the audit log and check its hash chain (see docs/audit.md).

`pstg audit verify` exits 0 when the chain is intact and 1 when not, printing one line per
problem (`row ID: kind: message`) and the head row's hash, which is worth keeping elsewhere.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pstg.cli.app import app, fail, stderr, stdout
from pstg.cli.database_option import ConfigOption, DatabaseOption
from pstg.cli.errors import exit_code
from pstg.cli.text import count
from pstg.cli.time_options import TIME_METAVAR, time_bounds
from pstg.cli.users import auth_database, format_when
from pstg.errors import Invalid

if TYPE_CHECKING:
    from pstg.audit import AuditRecord

DEFAULT_LIMIT = 100

audit_app = typer.Typer(
    help="Read the audit log (who did what) and verify its hash chain.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="ID:HASH",
            help="A head printed by an earlier verify: check it is still there, unchanged.",
        ),
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Check the hash chain: exit 0 if intact, else 1 and one line per damaged row."""
    from pstg.audit import verify as verify_chain

    expected = None if head is None else _parse_head(head)
    with auth_database(config, database) as engine:
        result = verify_chain(engine, expected_head=expected)
    for problem in result.problems:
        stdout.print(f"row {problem.id}: {problem.kind}: {problem.message}", markup=False)
    if result.head_id is not None:
        stdout.print(f"head {result.head_id}:{result.head_hash}", markup=False)
    if result.ok:
        stderr.print(f"audit log intact: {count(result.checked, 'row')} checked", markup=False)
        return
    shown = (
        ""
        if result.problem_count == len(result.problems)
        else f" (first {len(result.problems)} shown)"
    )
    stderr.print(
        f"audit log damaged: {count(result.problem_count, 'problem')} in "
        f"{count(result.checked, 'row')}{shown}",
        markup=False,
    )
    raise typer.Exit(1)


def _parse_head(text: str) -> tuple[int, str]:
    head_id, _, head_hash = text.strip().partition(":")
    if not head_id.isdigit() or len(head_hash) != 64:
        fail(
            f"--head {text!r}: give ID:HASH as verify printed it (head 42:9f86d0...)",
            exit_code(Invalid),
        )
    return int(head_id), head_hash.lower()


@audit_app.command("list")
def list_entries(
    start: Annotated[
        str | None,
        typer.Option("--from", metavar=TIME_METAVAR, help="Start, inclusive: RFC 3339 or now-7d."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar=TIME_METAVAR, help="End, exclusive: RFC 3339 or now-1h."),
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's rows.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action (login, user.add, ...).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most rows shown.")] = (
        DEFAULT_LIMIT
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines, one row per line, with the hashes.")
    ] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """List audit rows, oldest first: time, actor, role, via, source, action, target, result."""
    from pstg.audit import list_entries as read_entries

    low, high = time_bounds(start, end)
    with auth_database(config, database) as engine:
        rows = read_entries(engine, start=low, end=high, actor=actor, action=action, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(_as_json(row), ensure_ascii=False))
    elif rows:
        _print_table(rows)
    if not rows:
        stderr.print(
            "no audit rows" + (" match" if start or end or actor or action else ""), markup=False
        )
    elif len(rows) == limit:
        stderr.print(
            f"the first {limit} rows; see more with --limit or a later --from", markup=False
        )


def _as_json(row: AuditRecord) -> dict[str, Any]:
    from pstg.times import format_instant

    return {
        "id": row.id,
        "ts": format_instant(row.ts),
        "actor": row.actor,
        "role": row.role,
        "via": row.via,
        "source": row.source,
        "action": row.action,
        "target": row.target,
        "old_value": row.old_value,
        "new_value": row.new_value,
        "result": row.result,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _print_table(rows: list[AuditRecord]) -> None:
    """One row per line when that fits the terminal; otherwise each row as a short block, so
    an 80-column terminal shows every value whole instead of ten truncated columns."""
    from rich.table import Table

    table = Table(*_COLUMNS, box=None, pad_edge=False)
    for column in table.columns[:-1]:
        column.no_wrap = True
    for row in rows:
        table.add_row(*_cells(row))
    natural = stdout.measure(table, options=stdout.options.update_width(10_000)).maximum
    if natural <= stdout.width:
        stdout.print(table, markup=False)
        return
    for row in rows:
        number, when, actor, role, via, source, action, target, result, detail = _cells(row)
        stdout.print(f"#{number}  {when}  {action} {target}  {result}", markup=False)
        stdout.print(f"    by {actor} (role {role}, via {via}, from {source})", markup=False)
        if detail:
            stdout.print(f"    {detail}", markup=False)


_COLUMNS = ("id", "time", "actor", "role", "via", "source", "action", "target", "result", "detail")


def _cells(row: AuditRecord) -> tuple[str, ...]:
    return (
        str(row.id),
        format_when(row.ts),
        row.actor,
        row.role or "-",
        row.via,
        row.source,
        row.action,
        row.target or "-",
        row.result,
        row.detail,
    )
