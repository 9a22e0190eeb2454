"""Commands and events in, domain calls out, one module per area; the caller's unit of work
commits."""
