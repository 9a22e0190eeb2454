from shared.events.contracts import EVENT_TYPES, EventData, contract_for
from shared.events.envelope import CloudEvent, new_event

__all__ = ["EVENT_TYPES", "CloudEvent", "EventData", "contract_for", "new_event"]
