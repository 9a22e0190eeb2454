from shared.events.contracts import EVENT_TYPES, EventData, contract_for
from shared.events.envelope import CloudEvent, EncodedEvent, EventEncoder, new_event

__all__ = ["EVENT_TYPES", "CloudEvent", "EncodedEvent", "EventData", "EventEncoder",
           "contract_for", "new_event"]
