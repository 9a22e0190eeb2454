"""When to contact a customer (DOMAIN.md, contact timing): not at lunch, not on the first
day of the week or of the month; mid-afternoon works best; month-end is a good moment.
Every rule can be set per customer."""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shared.errors import Invalid

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ContactPreferences:
    preferred_time: str = "15:30"
    window_minutes: int = 60
    lunch_start: str = "11:45"
    lunch_end: str = "14:00"
    avoid_weekdays: tuple[int, ...] = (0, 6)  # Monday (first day of the week), Sunday
    avoid_first_of_month: bool = True
    # A task that can wait is moved to the month's last good day when it is this close.
    month_end_within_days: int = 3

    def overridden(self, overrides: Mapping[str, Any]) -> ContactPreferences:
        """These preferences with what a person set for one customer (as stored: JSON, so
        the weekdays come as a list)."""
        changes = dict(overrides)
        if "avoid_weekdays" in changes:
            changes["avoid_weekdays"] = tuple(changes["avoid_weekdays"])
        return dataclasses.replace(self, **changes)

    def validated(self) -> ContactPreferences:
        for name in ("preferred_time", "lunch_start", "lunch_end"):
            _minutes(getattr(self, name), f"contact.{name}")
        if not 15 <= self.window_minutes <= 8 * 60:
            raise Invalid("a contact window lasts 15 minutes to 8 hours",
                          field="contact.window_minutes")
        if _minutes(self.lunch_end, "contact.lunch_end") < _minutes(self.lunch_start,
                                                                    "contact.lunch_start"):
            raise Invalid("lunch ends after it starts", field="contact.lunch_end")
        if len(set(self.avoid_weekdays)) >= 7 or any(not 0 <= d <= 6 for d in self.avoid_weekdays):
            raise Invalid("weekdays are 0 (Monday) to 6 (Sunday), and one must stay open",
                          field="contact.avoid_weekdays")
        if not 0 <= self.month_end_within_days <= 15:
            raise Invalid("0 to 15 days", field="contact.month_end_within_days")
        return self


@dataclass(frozen=True)
class ContactWindow:
    on: date
    start: str
    end: str
    why: str


def _minutes(hhmm: str, field: str = "time") -> int:
    try:
        hours, minutes = (int(p) for p in hhmm.split(":"))
    except ValueError:
        raise Invalid(f"{hhmm!r} is not a time HH:MM", field=field) from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise Invalid(f"{hhmm!r} is not a time HH:MM", field=field)
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _good_day(day: date, prefs: ContactPreferences) -> bool:
    return day.weekday() not in prefs.avoid_weekdays and not (
        prefs.avoid_first_of_month and day.day == 1)


def _next_good_day(day: date, prefs: ContactPreferences) -> date:
    while not _good_day(day, prefs):
        day += timedelta(days=1)
    return day


def _last_good_day_of_month(day: date, prefs: ContactPreferences) -> date | None:
    last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    while last >= day:
        if _good_day(last, prefs):
            return last
        last -= timedelta(days=1)
    return None


def _time_of_day(prefs: ContactPreferences) -> tuple[int, int, str]:
    """The window, kept clear of lunch."""
    start = _minutes(prefs.preferred_time)
    lunch = (_minutes(prefs.lunch_start), _minutes(prefs.lunch_end))
    note = ""
    if lunch[0] - prefs.window_minutes < start < lunch[1]:
        start, note = lunch[1], f", moved after lunch ({prefs.lunch_start}-{prefs.lunch_end})"
    end = min(start + prefs.window_minutes, 24 * 60 - 1)
    return start, end, note


def suggested_contact(as_of: date, prefs: ContactPreferences | None = None, *,
                      can_wait_days: int = 0) -> ContactWindow:
    """The next good moment from `as_of`. A task that can wait `can_wait_days` goes to the
    month-end when that is close (dealers have sold and settle then)."""
    prefs = prefs or ContactPreferences()
    day = _next_good_day(as_of, prefs)
    reasons = []
    if day != as_of:
        reasons.append(f"not {_why_not(as_of, prefs)}")
    month_end = _last_good_day_of_month(day, prefs)
    wait = min(can_wait_days, prefs.month_end_within_days)
    if month_end is not None and day < month_end <= as_of + timedelta(days=wait):
        day = month_end
        reasons.append("month-end, when dealers settle")
    start, end, lunch_note = _time_of_day(prefs)
    avoided = ", ".join(WEEKDAYS[d] + "s" for d in sorted(prefs.avoid_weekdays))
    rules = [f"{prefs.preferred_time} preferred{lunch_note}",
             f"never at lunch ({prefs.lunch_start}-{prefs.lunch_end})"]
    if avoided:
        rules.append(f"no {avoided}")
    if prefs.avoid_first_of_month:
        rules.append("not the 1st of the month")
    return ContactWindow(day, _hhmm(start), _hhmm(end), "; ".join(reasons + rules))


def _why_not(day: date, prefs: ContactPreferences) -> str:
    if prefs.avoid_first_of_month and day.day == 1:
        return f"the 1st of the month ({day.isoformat()})"
    return f"a {WEEKDAYS[day.weekday()]} ({day.isoformat()})"
