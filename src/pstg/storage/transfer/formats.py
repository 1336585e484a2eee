"""The export/import file formats and their columns, light enough for the command line to
import at start-up."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

COLUMNS = ("tag", "ts", "value", "quality", "reason")
"""The columns of both formats, in order (CSV header, JSON keys)."""


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of_path(cls, path: Path) -> Format | None:
        """The format a file name's suffix implies (.csv, .jsonl/.ndjson), if any."""
        return _SUFFIXES.get(path.suffix.lower())


_SUFFIXES = {".csv": Format.CSV, ".jsonl": Format.JSONL, ".ndjson": Format.JSONL}
