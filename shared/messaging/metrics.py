"""What operators watch: events flowing, failing, and set aside."""

from prometheus_client import Counter

EVENTS_PUBLISHED = Counter(
    "recoup_events_published_total", "Events the outbox relay handed over to the transport",
    ["service", "type"])
PUBLISH_FAILURES = Counter(
    "recoup_outbox_publish_failures_total", "Outbox publish attempts that failed (retried later)",
    ["service"])
EVENTS_HANDLED = Counter(
    "recoup_events_handled_total",
    "Events consumed: applied, ignored as already handled (duplicate), or of no concern (skipped)",
    ["consumer", "type", "outcome"])
EVENTS_DEAD_LETTERED = Counter(
    "recoup_events_dead_lettered_total", "Events set aside after the last delivery failed",
    ["consumer", "type"])
