"""The scheduling core of slotwise: pure Python, no Django, ``now`` passed in.

It answers one question: given a provider's rules and what is already busy,
which slots can a customer book between two dates, shown in the customer's
zone? Start at :func:`find_slots`; :func:`check_start` checks one start
when it is booked; the DST policy is stated in
:mod:`slotwise.scheduling.rules` and the slot rules in
:mod:`slotwise.scheduling.slots`. What a cancellation refunds is
:func:`cancellation_outcome`, under the rules of
:mod:`slotwise.scheduling.refunds`.
"""

from slotwise.scheduling.fit import Candidate, Refusal, StartCheck, check_start
from slotwise.scheduling.inputs import (
    Booked,
    Busy,
    Limits,
    ResourceCalendar,
    ServiceRules,
    instant,
)
from slotwise.scheduling.intervals import (
    contains,
    intersect,
    normalize,
    subtract,
    union,
)
from slotwise.scheduling.output import Slot, SlotDay, iso_local
from slotwise.scheduling.recurrence import Occurrence, RecurrenceError, expand
from slotwise.scheduling.refunds import (
    Canceller,
    NoShowFee,
    Outcome,
    Policy,
    PolicyError,
    Tier,
    cancellation_outcome,
    deposit_minor,
    no_show_charge,
    parse_policy,
    policy_dict,
    reschedule_refusal,
)
from slotwise.scheduling.rules import (
    Closure,
    DateOverride,
    HolidayCalendar,
    Hours,
    Schedule,
    WeeklyRule,
)
from slotwise.scheduling.slots import find_slots
from slotwise.scheduling.zones import ZoneWindow

__all__ = [
    "Booked",
    "Busy",
    "Canceller",
    "Candidate",
    "Closure",
    "DateOverride",
    "HolidayCalendar",
    "Hours",
    "Limits",
    "NoShowFee",
    "Occurrence",
    "Outcome",
    "Policy",
    "PolicyError",
    "RecurrenceError",
    "Refusal",
    "ResourceCalendar",
    "Schedule",
    "ServiceRules",
    "Slot",
    "SlotDay",
    "StartCheck",
    "Tier",
    "WeeklyRule",
    "ZoneWindow",
    "cancellation_outcome",
    "check_start",
    "contains",
    "deposit_minor",
    "expand",
    "find_slots",
    "instant",
    "intersect",
    "iso_local",
    "no_show_charge",
    "normalize",
    "parse_policy",
    "policy_dict",
    "reschedule_refusal",
    "subtract",
    "union",
]
