"""Read-only answers, from a read session."""
