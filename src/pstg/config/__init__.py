"""Station configuration: models, YAML loader with line numbers, and whole-file checks."""
