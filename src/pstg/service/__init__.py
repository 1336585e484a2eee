"""The running service: the gateway that wires sources, the pipeline and the API, and what it
needs around it (one instance per station, the API's socket, private files)."""
