"""Collection strategies as data: a ladder of steps, each with its trigger, its tasks and
the supply holds it asks credit for, and the customer segment the strategy serves.

Strategies live in the database (operators edit them through the API); this module
validates them, picks the one for a customer, and finds the step a case has reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import Invalid

ACTIONS = (
    "reminder", "call", "visit", "written_notice", "supply_pressure", "final_demand",
    "take_back_goods", "pre_litigation", "court", "write_off_proposal", "problem_account_review",
)
# What can move a case besides its days past due.
EVENTS = ("promise_broken", "agreement_broken", "refused", "no_answer", "signal", "dormant")
# What a collector records of a task (handlers/tasks.py says what each does to the case).
OUTCOMES = ("reached", "promised", "refused", "paid", "no_answer")
# Tasks a case's news asks for outside its ladder (the step they show): a payment short of
# a promise to challenge at once, a payment the customer says it made to check.
CHALLENGE_STEP, PAYMENT_CHECK_STEP = "promise", "payment_check"
# Events that move a case one step even when no step lists them.
ESCALATE_AT_ONCE = ("promise_broken", "refused", "no_answer", "signal")
HOLD_KINDS = ("stop_shipments", "cash_only", "reduced_batches", "withhold_key_products",
              "suspend_incentives", "debt_free_only")
TERMS_MODES = ("cash", "net_days", "monthly", "deliver_two_settle_one", "one_off")
CLASSES = ("not_due", "dunning", "doubtful", "dormant", "bad_debt")  # least to most severe
RATING_CLASSES = ("A", "B", "C", "D", "E")
MAX_STEPS = 30


def severity(receivable_class: str) -> int:
    return CLASSES.index(receivable_class) if receivable_class in CLASSES else 0


def worst(*classes: str) -> str:
    return max(classes, key=severity)


@dataclass(frozen=True)
class TaskTemplate:
    action: str
    text: str


@dataclass(frozen=True)
class HoldRequest:
    kind: str
    terms_modes: tuple[str, ...] = ()  # empty: whatever the customer's terms

    def applies_to(self, terms_mode: str | None) -> bool:
        return not self.terms_modes or terms_mode in self.terms_modes


@dataclass(frozen=True)
class Step:
    name: str
    receivable_class: str
    tasks: tuple[TaskTemplate, ...]
    days_past_due: int | None = None
    events: tuple[str, ...] = ()
    holds: tuple[HoldRequest, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.action for t in self.tasks))


@dataclass(frozen=True)
class Reminder:
    days_before_due: int
    tasks: tuple[TaskTemplate, ...]


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str


@dataclass(frozen=True)
class Segment:
    rating_classes: tuple[str, ...] = ()  # empty: any rating, also none yet
    min_overdue: tuple[Money, ...] = ()  # empty: any amount; else reached in one currency

    @property
    def catch_all(self) -> bool:
        return not self.rating_classes and not self.min_overdue

    def matches(self, rating_class: str | None, overdue: dict[str, int]) -> bool:
        if self.rating_classes and rating_class not in self.rating_classes:
            return False
        return not self.min_overdue or any(
            overdue.get(m.currency, 0) >= m.amount for m in self.min_overdue)


@dataclass(frozen=True)
class Strategy:
    id: str
    name: str
    rank: int
    steps: tuple[Step, ...]
    segment: Segment = field(default_factory=Segment)
    reminder: Reminder | None = None
    description: str = ""

    def step(self, level: int) -> Step | None:
        return self.steps[level - 1] if 1 <= level <= len(self.steps) else None


# --- escalation ---------------------------------------------------------------------------------
def level_for_days(strategy: Strategy, days_past_due: int) -> int:
    """The highest level whose days trigger the case has reached (0: none)."""
    reached = 0
    for level, step in enumerate(strategy.steps, 1):
        if step.days_past_due is not None and days_past_due >= step.days_past_due:
            reached = level
    return reached


def level_for_event(strategy: Strategy, current: int, event: str,
                    receivable_class: str | None = None) -> int:
    """Where an event takes a case at `current`: the first higher step listing the event (for
    a signal naming a class, the first higher step of that class). A broken promise, a
    refusal or a customer who never answers escalates at once even without such a step
    (DOMAIN.md); a signal asks to collect at once, so it moves at least one step. A broken
    agreement lists no fallback: escalation resumes by days where it was. Answers `current`
    when nothing moves."""
    higher = list(enumerate(strategy.steps, 1))[current:]
    if receivable_class in CLASSES:
        here = strategy.step(current)
        if here is not None and severity(here.receivable_class) >= severity(receivable_class):
            return current  # already collecting at least that hard
        for level, step in higher:
            if step.receivable_class == receivable_class:
                return level
    for level, step in higher:
        if event in step.events:
            return level
    if event in ESCALATE_AT_ONCE and current < len(strategy.steps):
        return current + 1
    return current


def requested_holds(strategy: Strategy, level: int, terms_mode: str | None) -> list[str]:
    """Every hold the steps up to `level` ask for: a case that jumps a step still needs the
    holds of the steps it passed."""
    kinds: dict[str, None] = {}
    for step in strategy.steps[:level]:
        for hold in step.holds:
            if hold.applies_to(terms_mode):
                kinds[hold.kind] = None
    return list(kinds)


def choose(strategies: Iterable[Strategy], rating_class: str | None,
           overdue: dict[str, int]) -> Strategy:
    """The first strategy by rank whose segment the customer is in."""
    for strategy in sorted(strategies, key=lambda s: s.rank):
        if strategy.segment.matches(rating_class, overdue):
            return strategy
    raise LookupError("no strategy serves this customer: keep one without a segment")


# --- validation ---------------------------------------------------------------------------------
def _require(ok: bool, message: str, field: str) -> None:
    if not ok:
        raise Invalid(message, field=field)


def validate(strategy: Strategy) -> Strategy:
    """Refuse a ladder that cannot work: steps out of order, unknown actions, classes or
    holds. Raises Invalid naming the field."""
    _require(bool(strategy.steps), "a strategy needs at least one step", "steps")
    _require(len(strategy.steps) <= MAX_STEPS, f"at most {MAX_STEPS} steps", "steps")
    names: set[str] = set()
    last_days: int | None = None
    for i, step in enumerate(strategy.steps):
        where = f"steps[{i}]"
        _require(step.name not in names, f"step name {step.name!r} is used twice", f"{where}.name")
        names.add(step.name)
        _require(step.days_past_due is not None or bool(step.events),
                 "a step needs a trigger: days past due, events, or both", f"{where}.trigger")
        if step.days_past_due is not None:
            _require(step.days_past_due >= 1,
                     "days past due start at 1 (reminders before the due date are the "
                     "strategy's reminder)", f"{where}.trigger.days_past_due")
            _require(last_days is None or step.days_past_due > last_days,
                     f"triggers must increase along the ladder: {step.days_past_due} days "
                     f"after {last_days}", f"{where}.trigger.days_past_due")
            last_days = step.days_past_due
        for event in step.events:
            _require(event in EVENTS, f"unknown event {event!r}; known: {', '.join(EVENTS)}",
                     f"{where}.trigger.events")
        _require(step.receivable_class in CLASSES[1:],
                 f"receivable class must be one of {', '.join(CLASSES[1:])}",
                 f"{where}.receivable_class")
        _validate_tasks(step.tasks, f"{where}.tasks")
        for j, hold in enumerate(step.holds):
            _require(hold.kind in HOLD_KINDS,
                     f"unknown hold kind {hold.kind!r}; known: {', '.join(HOLD_KINDS)}",
                     f"{where}.holds[{j}].kind")
            for mode in hold.terms_modes:
                _require(mode in TERMS_MODES, f"unknown terms mode {mode!r}",
                         f"{where}.holds[{j}].terms_modes")
    if strategy.reminder is not None:
        _require(1 <= strategy.reminder.days_before_due <= 60,
                 "reminders go 1 to 60 days before the due date", "reminder.days_before_due")
        _validate_tasks(strategy.reminder.tasks, "reminder.tasks")
    for rating in strategy.segment.rating_classes:
        _require(rating in RATING_CLASSES, f"rating classes are {', '.join(RATING_CLASSES)}",
                 "segment.rating_classes")
    currencies = [m.currency for m in strategy.segment.min_overdue]
    _require(len(currencies) == len(set(currencies)), "one threshold per currency",
             "segment.min_overdue")
    return strategy


def _validate_tasks(tasks: Sequence[TaskTemplate], where: str) -> None:
    _require(bool(tasks), "at least one task", where)
    for j, task in enumerate(tasks):
        _require(task.action in ACTIONS,
                 f"unknown action {task.action!r}; known: {', '.join(ACTIONS)}",
                 f"{where}[{j}].action")
        _require(bool(task.text.strip()), "a task needs its text", f"{where}[{j}].text")


def check_catch_all_remains(active: Iterable[Strategy]) -> None:
    """Every customer must have a strategy: one active strategy serves everyone."""
    if not any(s.segment.catch_all for s in active):
        raise Invalid("one active strategy must serve every customer (no segment); keep or "
                      "add one before narrowing or removing this", field="segment")


# --- the data form (JSON columns and the API) ---------------------------------------------------
def to_data(strategy: Strategy) -> dict[str, Any]:
    def tasks(items: Sequence[TaskTemplate]) -> list[dict[str, str]]:
        return [{"action": t.action, "text": t.text} for t in items]

    return {
        "id": strategy.id, "name": strategy.name, "description": strategy.description,
        "rank": strategy.rank,
        "segment": {"rating_classes": list(strategy.segment.rating_classes),
                    "min_overdue": [{"amount": m.amount, "currency": m.currency}
                                    for m in strategy.segment.min_overdue]},
        "reminder": None if strategy.reminder is None else {
            "days_before_due": strategy.reminder.days_before_due,
            "tasks": tasks(strategy.reminder.tasks)},
        "steps": [{
            "name": s.name,
            "trigger": {"days_past_due": s.days_past_due, "events": list(s.events)},
            "receivable_class": s.receivable_class, "tasks": tasks(s.tasks),
            "holds": [{"kind": h.kind, "terms_modes": list(h.terms_modes)} for h in s.holds],
        } for s in strategy.steps],
    }


def from_data(data: dict[str, Any]) -> Strategy:
    def tasks(items: Iterable[dict[str, str]]) -> tuple[TaskTemplate, ...]:
        return tuple(TaskTemplate(t["action"], t["text"]) for t in items)

    segment = data.get("segment") or {}
    reminder = data.get("reminder")
    return Strategy(
        id=data["id"], name=data["name"], rank=data["rank"],
        description=data.get("description") or "",
        segment=Segment(tuple(segment.get("rating_classes") or ()),
                        tuple(Money(m["amount"], m["currency"])
                              for m in segment.get("min_overdue") or ())),
        reminder=None if reminder is None else Reminder(reminder["days_before_due"],
                                                        tasks(reminder["tasks"])),
        steps=tuple(Step(
            name=s["name"], receivable_class=s["receivable_class"], tasks=tasks(s["tasks"]),
            days_past_due=(s.get("trigger") or {}).get("days_past_due"),
            events=tuple((s.get("trigger") or {}).get("events") or ()),
            holds=tuple(HoldRequest(h["kind"], tuple(h.get("terms_modes") or ()))
                        for h in s.get("holds") or ()),
        ) for s in data["steps"]),
    )


# --- the default ladder (ARCHITECTURE.md), seeded by the first migration that has strategies ----
def _t(action: str, text: str) -> TaskTemplate:
    return TaskTemplate(action, text)


STOP = (HoldRequest("stop_shipments"),)

DEFAULT_STRATEGY = Strategy(
    id="default", name="Default ladder", rank=1000,
    description="ARCHITECTURE.md's default collection ladder, for every customer",
    reminder=Reminder(3, (_t("reminder", "remind the customer: confirm the amount falling due "
                                         "and announce the collector's visit"),)),
    steps=(
        Step("call", "dunning", (_t("call", "call the customer about the overdue amount"),),
             days_past_due=1,
             holds=(HoldRequest("stop_shipments", ("deliver_two_settle_one",)),)),
        Step("visit", "dunning", (
            _t("visit", "visit the customer"),
            _t("written_notice", "hand over a written notice of late interest"),
        ), days_past_due=15, events=("promise_broken", "refused"),
            holds=(HoldRequest("cash_only"), HoldRequest("suspend_incentives"))),
        Step("supply_pressure", "dunning", (
            _t("supply_pressure", "apply supply pressure: smaller batches, key products withheld"),
        ), days_past_due=30,
            holds=(HoldRequest("reduced_batches"), HoldRequest("withhold_key_products"))),
        Step("final_demand", "dunning", (_t("final_demand", "send the final demand"),),
             days_past_due=60, holds=STOP),
        Step("problem_account", "dormant", (
            _t("problem_account_review",
               "review the problem account: no order and no payment for months"),
        ), events=("dormant",), holds=STOP),
        Step("take_back_goods", "doubtful", (
            _t("take_back_goods", "take back unsold goods"),
            _t("pre_litigation", "prepare the legal file"),
        ), days_past_due=90, holds=STOP),
        Step("pre_litigation", "bad_debt", (
            _t("pre_litigation", "start pre-litigation preservation of the debtor's assets"),
            _t("court", "file the claim with the court"),
        ), days_past_due=180, events=("signal",), holds=STOP),
        Step("write_off_proposal", "bad_debt", (
            _t("write_off_proposal", "review the write-off proposal for what is still open"),
        ), days_past_due=365, holds=STOP),
    ),
)
