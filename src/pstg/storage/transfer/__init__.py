"""Samples out of the database and back in, as CSV or JSON Lines with the same five columns.

    tag,ts,value,quality,reason

`ts` is RFC 3339 UTC with microseconds (2026-05-28T12:00:00.250000Z); `value` is a number
written with `repr` (so every float reads back bit for bit), text for string tags, or empty
(CSV) / null (JSON) for a sample without a value; `quality` and `reason` are the spellings of
`pstg.model.Quality` and `QualityReason`. Times follow `pstg.times` (docs/times.md).

    formats    the two formats and their columns (light: the command line imports it at start)
    errors     why an export or import cannot start (domain errors of `pstg.errors`)
    tags       the tag directory: which tag a name in a file or an option means
    export     rows out: one server-side cursor per tag, by tag name then time, constant memory
    writers    rows to text: CSV and JSON Lines
    checking   a file in: every line read and checked before anything is written
    importing  checked rows stored through `SampleStore`, in batches, skipping rows already
               stored (importing a file twice stores nothing the second time)

Problems of single lines of an import file are not exceptions but `ImportProblem`s, collected
so the user sees all of them at once. The package's modules are imported by name; this file
re-exports nothing, so importing `formats` stays light.
"""
