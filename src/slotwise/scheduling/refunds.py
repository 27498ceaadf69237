"""Cancellation policies: what a cancelled booking refunds, and what a no-show costs.

A provider states a :class:`Policy`; :func:`cancellation_outcome` applies it
to one cancellation. Amounts are integers in the currency's minor unit
(cents, or whole yen: nothing here assumes 100 minor units to the major).
These rules are the product's promise to customers and providers:

* **Time before the start is elapsed time.** ``start`` and the moment of
  cancellation ``at`` are aware datetimes (naive ones are refused), compared
  as instants: "24 hours before" is 24 real hours, even across a change of
  the clocks, never the same wall-clock time the day before.
* **The provider and the system refund in full.** Staff cancelling
  (``cancelled-by-provider``) or the system cancelling (an expired hold, an
  unpaid booking, a late payment for a released slot: ``cancelled-by-system``)
  refunds everything paid, with no processing fee.
* **A customer gets the tier they cancelled in.** At or after the start:
  nothing (``after-start``). Before it, with no tiers: everything
  (``no-policy``). Otherwise the tier with the longest ``before`` that the
  time left still reaches applies (``tier``): cancelling exactly ``before``
  ahead still gets it, a microsecond later does not. Before every tier's
  reach: nothing (``no-tier``). A tier at 0 minutes covers any time before
  the start, though not the start itself.
* **The same day caps it.** When the policy has ``same_day_percent`` and the
  cancellation falls on the start's calendar day on the provider's clock
  (``zone``), the share is at most that (``same-day``, when it lowered it).
* **Refunds round down, fees come out of them.** The share refunded is
  ``paid * percent / 100`` rounded down to a whole minor unit, never more
  than the exact share; the processing fee ``fee_minor`` is kept from it, up
  to the whole share, and only when something would be refunded. So a refund
  is always between 0 and what was paid.
* **A saved card pays the kept share.** When nothing was paid but the
  customer left a card (``card_saved``), the share of the price the policy
  keeps (the price less the refundable share rounded down, so the charge
  rounds up) is charged as a late-cancellation fee.
* **A no-show owes the no-show fee less what was paid**
  (:func:`no_show_charge`), never less than nothing. A customer may
  reschedule (:func:`reschedule_refusal`) until ``max_reschedules`` is
  reached and while at least ``reschedule_cutoff`` (elapsed) is left before
  the start. A deposit (:func:`deposit_minor`) is a percent of the price
  rounded half up, or a fixed amount, never more than the price.

A policy arrives as JSON (:func:`parse_policy`) and is stored as JSON
(:func:`policy_dict`); a :class:`Policy` that exists is valid, and its JSON
reads back to the same policy.

    >>> policy = parse_policy({"tiers": [{"before_minutes": 2880, "refund_percent": 100},
    ...                                  {"before_minutes": 1440, "refund_percent": 50}],
    ...                        "fee_minor": 100})
    >>> start = datetime(2026, 6, 10, 9, tzinfo=UTC)
    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> outcome = cancellation_outcome(policy, price_minor=5001, paid_minor=5001, start=start,
    ...                                at=start - timedelta(hours=30), zone=berlin,
    ...                                by=Canceller.CUSTOMER)
    >>> outcome.rule, outcome.percent, outcome.refund_minor, outcome.fee_minor
    ('tier', 50, 2400, 100)
    >>> cancellation_outcome(policy, price_minor=5001, paid_minor=5001, start=start,
    ...                      at=start - timedelta(hours=3), zone=berlin, by=Canceller.STAFF)
    ... # doctest: +ELLIPSIS
    Outcome(refund_minor=5001, charge_minor=0, percent=100, rule='cancelled-by-provider', ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "Canceller",
    "NoShowFee",
    "Outcome",
    "Policy",
    "PolicyError",
    "Tier",
    "cancellation_outcome",
    "deposit_minor",
    "no_show_charge",
    "parse_policy",
    "policy_dict",
    "reschedule_refusal",
]

MAX_TIERS = 10
MAX_MINUTES = 366 * 24 * 60
"""The longest ``before`` of a tier, and the longest reschedule cutoff: 366 days."""
MAX_AMOUNT = 10**12
"""The largest processing fee or fixed no-show fee, in minor units."""
MAX_RESCHEDULES = 1000

_MINUTE = timedelta(minutes=1)
_POLICY_KEYS = (
    "tiers",
    "same_day_refund_percent",
    "fee_minor",
    "reschedule_cutoff_minutes",
    "max_reschedules",
    "no_show_fee",
)
_TIER_KEYS = ("before_minutes", "refund_percent")
_NO_SHOW_KEYS = ("percent", "fixed_minor")


class Canceller(StrEnum):
    """Who cancels a booking."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


class PolicyError(ValueError):
    """A policy that cannot be used; the message says why, for a person."""


def _check_int(name: str, value: object, low: int, high: int) -> int:
    # bool is an int in Python, but `true` is not a number of minutes.
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise PolicyError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _check_minutes(name: str, value: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise PolicyError(f"{name} must be a timedelta, not {value!r}")
    if value % _MINUTE:
        raise PolicyError(f"{name} must be whole minutes, not {value}")
    _check_int(f"{name} (in minutes)", value // _MINUTE, 0, MAX_MINUTES)


@dataclass(frozen=True, slots=True)
class Tier:
    """Cancelling at least ``before`` ahead of the start refunds ``percent`` of what was paid.

    ``before`` is whole minutes, from 0 to 366 days; ``percent`` is 0 to 100.
    """

    before: timedelta
    percent: int

    def __post_init__(self) -> None:
        _check_minutes("before", self.before)
        _check_int("percent", self.percent, 0, 100)


@dataclass(frozen=True, slots=True)
class NoShowFee:
    """What a customer who does not come owes: ``percent`` of the price plus ``fixed_minor``."""

    percent: int = 0
    fixed_minor: int = 0

    def __post_init__(self) -> None:
        _check_int("no-show percent", self.percent, 0, 100)
        _check_int("no-show fixed_minor", self.fixed_minor, 0, MAX_AMOUNT)


@dataclass(frozen=True, slots=True)
class Policy:
    """A provider's cancellation, rescheduling and no-show policy; the default refunds in full.

    ``tiers`` are ordered by ``before``, longest first, each ``before``
    distinct, and refund no more as the start gets closer: at most 10.
    ``same_day_percent`` caps a cancellation on the start's local calendar
    day; ``fee_minor`` is kept from any customer refund. Customers may not
    reschedule later than ``reschedule_cutoff`` before the start, nor more
    than ``max_reschedules`` times. A policy that breaks these raises
    :class:`PolicyError`.
    """

    tiers: tuple[Tier, ...] = ()
    same_day_percent: int | None = None
    fee_minor: int = 0
    reschedule_cutoff: timedelta | None = None
    max_reschedules: int | None = None
    no_show: NoShowFee = NoShowFee()

    def __post_init__(self) -> None:
        if not isinstance(self.tiers, tuple) or not all(isinstance(t, Tier) for t in self.tiers):
            raise PolicyError("tiers must be a tuple of Tier")
        if len(self.tiers) > MAX_TIERS:
            raise PolicyError(f"a policy has at most {MAX_TIERS} tiers, not {len(self.tiers)}")
        for earlier, later in pairwise(self.tiers):
            if later.before >= earlier.before:
                raise PolicyError("tiers must be ordered by before, longest first, each distinct")
            if later.percent > earlier.percent:
                raise PolicyError(_growing(earlier.before, earlier.percent, later))
        if self.same_day_percent is not None:
            _check_int("same_day_percent", self.same_day_percent, 0, 100)
        _check_int("fee_minor", self.fee_minor, 0, MAX_AMOUNT)
        if self.reschedule_cutoff is not None:
            _check_minutes("reschedule_cutoff", self.reschedule_cutoff)
        if self.max_reschedules is not None:
            _check_int("max_reschedules", self.max_reschedules, 0, MAX_RESCHEDULES)
        if not isinstance(self.no_show, NoShowFee):
            raise PolicyError("no_show must be a NoShowFee")


def _growing(before: timedelta, percent: int, later: Tier) -> str:
    return (
        f"tiers: cancelling {later.before // _MINUTE} minutes before refunds {later.percent}%, "
        f"more than the {percent}% of {before // _MINUTE} minutes before; "
        "a refund must not grow as the start gets closer"
    )


def parse_policy(data: object) -> Policy:
    """The policy in ``data``, its JSON form; ``None`` and ``{}`` are the default policy.

    Every key is optional; see :func:`policy_dict` for the shape. Tiers may
    come in any order. Anything unknown, of the wrong type or out of range
    raises :class:`PolicyError` naming the field.

        >>> parse_policy({"tiers": [{"before_minutes": 60, "refund_percent": 80}]}).tiers
        (Tier(before=datetime.timedelta(seconds=3600), percent=80),)
        >>> parse_policy({"fee_minor": True})
        Traceback (most recent call last):
        ...
        slotwise.scheduling.refunds.PolicyError: fee_minor must be a whole number, not True
    """
    if data is None:
        return Policy()
    policy = _object("the policy", data, _POLICY_KEYS)
    tiers = _tiers(policy.get("tiers", []))
    same_day = policy.get("same_day_refund_percent")
    cutoff = policy.get("reschedule_cutoff_minutes")
    most = policy.get("max_reschedules")
    no_show = _object("no_show_fee", policy.get("no_show_fee", {}), _NO_SHOW_KEYS)
    return Policy(
        tiers=tiers,
        same_day_percent=(
            None if same_day is None else _check_int("same_day_refund_percent", same_day, 0, 100)
        ),
        fee_minor=_check_int("fee_minor", policy.get("fee_minor", 0), 0, MAX_AMOUNT),
        reschedule_cutoff=(
            None
            if cutoff is None
            else _check_int("reschedule_cutoff_minutes", cutoff, 0, MAX_MINUTES) * _MINUTE
        ),
        max_reschedules=(
            None if most is None else _check_int("max_reschedules", most, 0, MAX_RESCHEDULES)
        ),
        no_show=NoShowFee(
            percent=_check_int("no_show_fee.percent", no_show.get("percent", 0), 0, 100),
            fixed_minor=_check_int(
                "no_show_fee.fixed_minor", no_show.get("fixed_minor", 0), 0, MAX_AMOUNT
            ),
        ),
    )


def _object(name: str, data: object, keys: tuple[str, ...]) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{name} must be a JSON object, not {data!r}")
    unknown = sorted(str(key) for key in data if key not in keys)
    if unknown:
        raise PolicyError(
            f"{name} has unknown field {unknown[0]!r}; the fields are {', '.join(keys)}"
        )
    return data


def _tiers(data: object) -> tuple[Tier, ...]:
    if not isinstance(data, list | tuple):
        raise PolicyError(f"tiers must be a JSON array, not {data!r}")
    if len(data) > MAX_TIERS:
        raise PolicyError(f"tiers: a policy has at most {MAX_TIERS} tiers, not {len(data)}")
    tiers = []
    for n, item in enumerate(data):
        tier = _object(f"tiers[{n}]", item, _TIER_KEYS)
        for key in _TIER_KEYS:
            if key not in tier:
                raise PolicyError(f"tiers[{n}] needs {key}")
        minutes = _check_int(f"tiers[{n}].before_minutes", tier["before_minutes"], 0, MAX_MINUTES)
        percent = _check_int(f"tiers[{n}].refund_percent", tier["refund_percent"], 0, 100)
        tiers.append(Tier(minutes * _MINUTE, percent))
    tiers.sort(key=lambda t: t.before, reverse=True)
    for earlier, later in pairwise(tiers):
        if later.before == earlier.before:
            raise PolicyError(f"tiers: two tiers have before_minutes {later.before // _MINUTE}")
    return tuple(tiers)  # Policy refuses refunds that grow closer to the start


def policy_dict(policy: Policy) -> dict[str, object]:
    """The JSON form of ``policy``, every key present; :func:`parse_policy` reads it back.

    >>> policy_dict(Policy(tiers=(Tier(timedelta(days=1), 50),), same_day_percent=0))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'tiers': [{'before_minutes': 1440, 'refund_percent': 50}], 'same_day_refund_percent': 0,
     'fee_minor': 0, 'reschedule_cutoff_minutes': None, 'max_reschedules': None,
     'no_show_fee': {'percent': 0, 'fixed_minor': 0}}
    """
    cutoff = policy.reschedule_cutoff
    return {
        "tiers": [
            {"before_minutes": t.before // _MINUTE, "refund_percent": t.percent}
            for t in policy.tiers
        ],
        "same_day_refund_percent": policy.same_day_percent,
        "fee_minor": policy.fee_minor,
        "reschedule_cutoff_minutes": None if cutoff is None else cutoff // _MINUTE,
        "max_reschedules": policy.max_reschedules,
        "no_show_fee": {
            "percent": policy.no_show.percent,
            "fixed_minor": policy.no_show.fixed_minor,
        },
    }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one cancellation gives back or costs, and why.

    ``refund_minor`` goes back to the customer; ``charge_minor`` is a
    late-cancellation fee for a saved card (only when nothing was paid).
    ``percent`` is the share of the payment refunded, or of the price waived
    for a saved card. ``rule`` says why, machine-readable:
    ``cancelled-by-provider``, ``cancelled-by-system``, ``no-policy``,
    ``tier``, ``same-day``, ``no-tier`` or ``after-start``. ``tier`` is the
    tier the time left fell in, also when the same-day rule lowered its
    percent. ``fee_minor`` is the processing fee actually kept.
    """

    refund_minor: int
    charge_minor: int
    percent: int
    rule: str
    tier: Tier | None
    fee_minor: int


def _utc(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")
    # Subtracting two datetimes of one zone is wall-clock arithmetic in Python: go to UTC first.
    return moment.astimezone(UTC)


def _amount(name: str, value: int) -> int:
    if value < 0:
        raise ValueError(f"{name} must be zero or more, not {value}")
    return value


def cancellation_outcome(
    policy: Policy,
    *,
    price_minor: int,
    paid_minor: int,
    start: datetime,
    at: datetime,
    zone: ZoneInfo,
    by: Canceller,
    card_saved: bool = False,
) -> Outcome:
    """What cancelling at ``at`` a booking starting at ``start`` refunds or charges.

    ``zone`` is the provider's zone, where the same-day rule reads calendar
    days. The rules are stated in this module's docstring.
    """
    price = _amount("price_minor", price_minor)
    paid = _amount("paid_minor", paid_minor)
    start_utc, at_utc = _utc("start", start), _utc("at", at)
    by = Canceller(by)
    if by != Canceller.CUSTOMER:
        rule = "cancelled-by-provider" if by == Canceller.STAFF else "cancelled-by-system"
        return Outcome(paid, 0, 100, rule, None, 0)

    tier: Tier | None = None
    if at_utc >= start_utc:
        percent, rule = 0, "after-start"
    else:
        left = start_utc - at_utc
        if not policy.tiers:
            percent, rule = 100, "no-policy"
        else:
            tier = next((t for t in policy.tiers if left >= t.before), None)
            percent, rule = (tier.percent, "tier") if tier else (0, "no-tier")
        cap = policy.same_day_percent
        if cap is not None and cap < percent and _same_day(at_utc, start_utc, zone):
            percent, rule = cap, "same-day"

    if card_saved and paid == 0:
        charge = price - price * percent // 100
        return Outcome(0, charge, percent, rule, tier, 0)
    share = paid * percent // 100
    fee = min(policy.fee_minor, share)
    return Outcome(share - fee, 0, percent, rule, tier, fee)


def _same_day(at: datetime, start: datetime, zone: ZoneInfo) -> bool:
    return at.astimezone(zone).date() == start.astimezone(zone).date()


def no_show_charge(policy: Policy, *, price_minor: int, paid_minor: int) -> int:
    """What a customer who did not come still owes: the no-show fee less what was paid.

    >>> no_show_charge(Policy(no_show=NoShowFee(percent=50, fixed_minor=200)),
    ...                price_minor=1001, paid_minor=300)
    400
    """
    price = _amount("price_minor", price_minor)
    paid = _amount("paid_minor", paid_minor)
    fee = price * policy.no_show.percent // 100 + policy.no_show.fixed_minor
    return max(0, fee - paid)


def reschedule_refusal(policy: Policy, *, start: datetime, at: datetime, count: int) -> str | None:
    """Why a customer may not reschedule at ``at`` after ``count`` reschedules, or ``None``.

    In this order: ``"limit"`` when ``count`` has reached ``max_reschedules``;
    ``"cutoff"`` when less than ``reschedule_cutoff`` is left before the
    start (elapsed time, as for cancelling); ``"after-start"`` when the start
    has come.
    """
    if count < 0:
        raise ValueError(f"count must be zero or more, not {count}")
    start_utc, at_utc = _utc("start", start), _utc("at", at)
    if policy.max_reschedules is not None and count >= policy.max_reschedules:
        return "limit"
    if policy.reschedule_cutoff is not None and start_utc - at_utc < policy.reschedule_cutoff:
        return "cutoff"
    if at_utc >= start_utc:
        return "after-start"
    return None


def deposit_minor(
    price_minor: int, *, percent: int | None = None, fixed_minor: int | None = None
) -> int:
    """The deposit asked for a booking of ``price_minor``: a percent of it, or a fixed amount.

    Give exactly one. A percent (1 to 100) rounds half up to a whole minor
    unit; a fixed amount (at least 1) is capped at the price.

        >>> deposit_minor(1001, percent=50), deposit_minor(999, percent=33)
        (501, 330)
        >>> deposit_minor(1500, fixed_minor=2000)
        1500
    """
    price = _amount("price_minor", price_minor)
    if (percent is None) == (fixed_minor is None):
        raise ValueError("give exactly one of percent and fixed_minor")
    if fixed_minor is not None:
        if fixed_minor < 1:
            raise ValueError(f"fixed_minor must be at least 1, not {fixed_minor}")
        return min(fixed_minor, price)
    if percent is None or not 1 <= percent <= 100:
        raise ValueError(f"percent must be between 1 and 100, not {percent}")
    # price * percent / 100, plus one half, rounded down: half up, in integers.
    return (2 * price * percent + 100) // 200
