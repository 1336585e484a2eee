"""The audit log: who did what, when, from where, with what result; hash-chained so that an
edited, deleted or reordered row is found and named.

- tables.py: the `audit_log` table (migration 0005);
- log.py: `record` (append inside the caller's transaction), `list_entries`, the hash;
- verify.py: `verify`, which walks the chain and names each damaged row.

Actions are recorded where they happen: logins in pstg.auth.service, user and token changes
in pstg.auth.admin (for the API and the CLI alike). See docs/audit.md.
"""

from pstg.audit.log import (
    GENESIS_HASH,
    PASSWORD_CHANGED,
    Actor,
    AuditEntry,
    AuditRecord,
    Result,
    Via,
    cli_actor,
    list_entries,
    record,
    row_hash,
)
from pstg.audit.verify import Problem, ProblemKind, VerifyResult, verify

__all__ = [
    "GENESIS_HASH",
    "PASSWORD_CHANGED",
    "Actor",
    "AuditEntry",
    "AuditRecord",
    "Problem",
    "ProblemKind",
    "Result",
    "VerifyResult",
    "Via",
    "cli_actor",
    "list_entries",
    "record",
    "row_hash",
    "verify",
]
