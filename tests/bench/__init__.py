"""The benchmarks' own load generators, whose counts their verdicts rest on."""
