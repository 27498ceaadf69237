"""Cancellation policies: named cases for every rule, then properties over random policies."""

import json
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from math import floor
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from slotwise.scheduling import (
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
from tests.scheduling.oracle import transition_days

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
START = datetime(2026, 6, 10, 9, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
DAY = timedelta(days=1)

TWO_DAYS_FULL, ONE_DAY_HALF = Tier(2 * DAY, 100), Tier(DAY, 50)
TWO_TIERS = Policy(tiers=(TWO_DAYS_FULL, ONE_DAY_HALF))
ONE_DAY_FULL = Policy(tiers=(Tier(DAY, 100),))


def cancel(policy, *, at, start=START, by=Canceller.CUSTOMER, price=10000, paid=10000, **kwargs):
    kwargs.setdefault("zone", BERLIN)
    return cancellation_outcome(
        policy, price_minor=price, paid_minor=paid, start=start, at=at, by=by, **kwargs
    )


# The provider and the system


@pytest.mark.parametrize(
    ("by", "rule"),
    [(Canceller.STAFF, "cancelled-by-provider"), (Canceller.SYSTEM, "cancelled-by-system")],
)
@pytest.mark.parametrize("at", [START - 30 * DAY, START - SECOND, START, START + DAY])
def test_provider_and_system_refund_everything_paid_without_a_fee(by, rule, at):
    policy = Policy(tiers=(ONE_DAY_HALF,), same_day_percent=0, fee_minor=300)
    assert cancel(policy, at=at, by=by, price=12000, paid=9999) == Outcome(
        refund_minor=9999, charge_minor=0, percent=100, rule=rule, tier=None, fee_minor=0
    )


def test_provider_cancelling_charges_no_saved_card():
    outcome = cancel(ONE_DAY_FULL, at=START, by=Canceller.STAFF, paid=0, card_saved=True)
    assert (outcome.refund_minor, outcome.charge_minor) == (0, 0)


def test_canceller_may_be_given_as_its_value():
    assert cancel(ONE_DAY_FULL, at=START, by="system").rule == "cancelled-by-system"
    assert cancel(ONE_DAY_FULL, at=START, by="customer").rule == "after-start"


# A customer: the start, no policy, the tiers


@pytest.mark.parametrize("at", [START, START + SECOND, START + DAY])
def test_customer_cancelling_at_or_after_the_start_gets_nothing(at):
    outcome = cancel(Policy(), at=at)
    assert outcome == Outcome(0, 0, 0, "after-start", None, 0)


def test_without_tiers_a_customer_gets_everything_but_the_fee():
    assert cancel(Policy(), at=START - SECOND) == Outcome(10000, 0, 100, "no-policy", None, 0)
    assert cancel(Policy(fee_minor=250), at=START - MICROSECOND) == Outcome(
        9750, 0, 100, "no-policy", None, 250
    )


@pytest.mark.parametrize(
    ("before_start", "percent", "tier"),
    [
        (30 * DAY, 100, TWO_DAYS_FULL),
        (2 * DAY, 100, TWO_DAYS_FULL),
        (2 * DAY - SECOND, 50, ONE_DAY_HALF),
        (2 * DAY - MICROSECOND, 50, ONE_DAY_HALF),
        (DAY, 50, ONE_DAY_HALF),
        (DAY - SECOND, 0, None),
        (DAY - MICROSECOND, 0, None),
        (SECOND, 0, None),
    ],
)
def test_tiers_apply_from_their_exact_boundary(before_start, percent, tier):
    outcome = cancel(TWO_TIERS, at=START - before_start)
    assert (outcome.percent, outcome.tier) == (percent, tier)
    assert outcome.rule == ("tier" if tier else "no-tier")
    assert outcome.refund_minor == 100 * percent


def test_a_tier_at_zero_minutes_covers_everything_before_the_start_but_not_the_start():
    policy = Policy(tiers=(Tier(DAY, 100), Tier(timedelta(0), 20)))
    assert cancel(policy, at=START - MICROSECOND).percent == 20
    assert cancel(policy, at=START).rule == "after-start"


# Elapsed time, not the wall clock


def test_24_hours_before_a_start_the_day_after_spring_forward_is_23_on_the_wall_clock():
    # Berlin moves from 02:00 to 03:00 on 2026-03-29: 01:00 on the 29th is only 23 hours
    # before 01:00 on the 30th. Both datetimes carry the same zone, where Python's own
    # subtraction would say 24 hours.
    start = datetime(2026, 3, 30, 1, tzinfo=BERLIN)
    assert cancel(ONE_DAY_FULL, start=start, at=datetime(2026, 3, 29, 1, tzinfo=BERLIN)).rule == (
        "no-tier"
    )
    assert cancel(ONE_DAY_FULL, start=start, at=datetime(2026, 3, 29, 0, tzinfo=BERLIN)).rule == (
        "tier"
    )
    just_after = datetime(2026, 3, 29, 0, 0, 1, tzinfo=BERLIN)
    assert cancel(ONE_DAY_FULL, start=start, at=just_after).rule == "no-tier"


def test_24_hours_before_a_start_the_day_after_fall_back_is_in_the_first_0200():
    # Berlin goes back from 03:00 to 02:00 on 2026-10-25: 01:00 on the 25th is 25 hours
    # before 01:00 on the 26th, and exactly 24 hours before is the first of the two 02:00s.
    start = datetime(2026, 10, 26, 1, tzinfo=BERLIN)
    first_0200 = datetime(2026, 10, 25, 2, tzinfo=BERLIN)
    second_0200 = first_0200.replace(fold=1)
    assert (start.astimezone(UTC) - first_0200.astimezone(UTC)) == DAY
    assert cancel(ONE_DAY_FULL, start=start, at=datetime(2026, 10, 25, 1, tzinfo=BERLIN)).percent
    assert cancel(ONE_DAY_FULL, start=start, at=first_0200).rule == "tier"
    assert cancel(ONE_DAY_FULL, start=start, at=first_0200 + SECOND).rule == "no-tier"
    assert cancel(ONE_DAY_FULL, start=start, at=second_0200).rule == "no-tier"


def test_24_hours_before_a_start_on_the_fall_back_day_is_11_on_the_wall_clock_the_day_before():
    start = datetime(2026, 10, 25, 10, tzinfo=BERLIN)  # 09:00 UTC, after the change
    assert cancel(ONE_DAY_FULL, start=start, at=datetime(2026, 10, 24, 11, tzinfo=BERLIN)).rule == (
        "tier"
    )
    eleven_and_a_second = datetime(2026, 10, 24, 11, 0, 1, tzinfo=BERLIN)
    assert cancel(ONE_DAY_FULL, start=start, at=eleven_and_a_second).rule == "no-tier"


def test_start_and_at_in_different_zones_compare_as_instants():
    tokyo = ZoneInfo("Asia/Tokyo")
    at = (START - DAY).astimezone(tokyo)
    assert cancel(ONE_DAY_FULL, at=at).rule == "tier"
    assert cancel(ONE_DAY_FULL, at=at + SECOND).rule == "no-tier"


# The same day, on the provider's calendar


def test_same_day_in_kathmandu_follows_its_quarter_hour_offset():
    kathmandu = ZoneInfo("Asia/Kathmandu")  # +05:45
    start = datetime(2026, 6, 10, 0, 30, tzinfo=kathmandu)  # 2026-06-09 18:45 UTC
    policy = Policy(same_day_percent=0)
    before_midnight = datetime(2026, 6, 9, 23, 59, 59, tzinfo=kathmandu)  # 18:14:59 UTC
    midnight = datetime(2026, 6, 10, tzinfo=kathmandu)
    assert cancel(policy, start=start, at=before_midnight, zone=kathmandu).rule == "no-policy"
    assert cancel(policy, start=start, at=midnight, zone=kathmandu) == Outcome(
        0, 0, 0, "same-day", None, 0
    )
    # Read in UTC, both are on June 9th: the provider's zone decides.
    assert cancel(policy, start=start, at=before_midnight, zone=UTC_ZONE).rule == "same-day"


def test_same_day_in_lord_howe_across_its_half_hour_fall_back():
    # Lord Howe goes back from 02:00 (+11) to 01:30 (+10:30) on 2026-04-05, so midnight
    # is nine and a half real hours before 09:00 that day.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    start = datetime(2026, 4, 5, 9, tzinfo=lord_howe)
    nine_hours = Tier(timedelta(hours=9), 100)
    policy = Policy(tiers=(nine_hours,), same_day_percent=50)

    def outcome(*wall):
        return cancel(policy, start=start, at=datetime(*wall, tzinfo=lord_howe), zone=lord_howe)

    assert (outcome(2026, 4, 4, 23, 59, 59).rule, outcome(2026, 4, 4, 23, 59, 59).percent) == (
        "tier",
        100,
    )
    assert outcome(2026, 4, 5, 0, 0) == Outcome(5000, 0, 50, "same-day", nine_hours, 0)
    assert outcome(2026, 4, 5, 0, 30).rule == "same-day"  # exactly nine hours before
    assert outcome(2026, 4, 5, 0, 30, 1) == Outcome(0, 0, 0, "no-tier", None, 0)


def test_same_day_in_st_johns_follows_its_half_hour_offset():
    st_johns = ZoneInfo("America/St_Johns")  # -03:30 in January
    start = datetime(2026, 1, 15, 0, 15, tzinfo=st_johns)  # 03:45 UTC
    policy = Policy(tiers=(Tier(timedelta(0), 80),), same_day_percent=30)
    before_midnight = datetime(2026, 1, 14, 23, 45, tzinfo=st_johns)  # 03:15 UTC
    midnight = datetime(2026, 1, 15, tzinfo=st_johns)
    assert cancel(policy, start=start, at=before_midnight, zone=st_johns).percent == 80
    assert cancel(policy, start=start, at=midnight - MICROSECOND, zone=st_johns).percent == 80
    assert cancel(policy, start=start, at=midnight, zone=st_johns).percent == 30
    assert cancel(policy, start=start, at=before_midnight, zone=UTC_ZONE).percent == 30


def test_same_day_only_ever_lowers_the_share():
    at = START - timedelta(hours=2)
    lowered = cancel(Policy(tiers=(Tier(timedelta(hours=1), 40),), same_day_percent=60), at=at)
    assert (lowered.rule, lowered.percent) == ("tier", 40)
    equal = cancel(Policy(tiers=(Tier(timedelta(hours=1), 40),), same_day_percent=40), at=at)
    assert (equal.rule, equal.percent) == ("tier", 40)
    none = cancel(Policy(tiers=(Tier(timedelta(hours=3), 100),), same_day_percent=50), at=at)
    assert (none.rule, none.percent) == ("no-tier", 0)


# Amounts


def test_refunds_round_down_to_a_whole_minor_unit():
    policy = Policy(tiers=(Tier(timedelta(0), 50),))
    assert cancel(policy, at=START - SECOND, price=999, paid=999).refund_minor == 499
    assert cancel(policy, at=START - SECOND, price=1, paid=1).refund_minor == 0


def test_zero_decimal_yen_is_not_scaled():
    policy = Policy(tiers=(Tier(timedelta(0), 50),))
    assert cancel(policy, at=START - SECOND, price=1001, paid=1001).refund_minor == 500


def test_three_decimal_dinar_rounds_down_to_the_fils():
    policy = Policy(tiers=(Tier(timedelta(0), 33),))
    # 12.345 KWD at 33 % is 4.07385 KWD: 4.073 refunded.
    assert cancel(policy, at=START - SECOND, price=12345, paid=12345).refund_minor == 4073


def test_the_processing_fee_comes_out_of_the_refund_and_never_beyond_it():
    policy = Policy(tiers=(Tier(timedelta(0), 50),), fee_minor=300)
    assert cancel(policy, at=START - SECOND, paid=10000) == Outcome(
        4700, 0, 50, "tier", policy.tiers[0], 300
    )
    small = cancel(policy, at=START - SECOND, price=500, paid=500)
    assert (small.refund_minor, small.fee_minor) == (0, 250)


def test_no_fee_is_kept_when_nothing_would_be_refunded():
    policy = Policy(tiers=(Tier(DAY, 50),), fee_minor=300)
    assert cancel(policy, at=START - SECOND).fee_minor == 0
    assert cancel(policy, at=START).fee_minor == 0
    assert cancel(Policy(fee_minor=300), at=START - SECOND, paid=0).fee_minor == 0


def test_a_partial_payment_refunds_a_share_of_what_was_paid():
    policy = Policy(tiers=(Tier(timedelta(0), 50),))
    outcome = cancel(policy, at=START - SECOND, price=10000, paid=3001)
    assert (outcome.refund_minor, outcome.charge_minor) == (1500, 0)


@pytest.mark.parametrize(
    ("at", "charge", "percent"),
    [
        (START - 3 * DAY, 0, 100),
        (START - DAY - SECOND, 501, 50),  # 1001 - 500: the kept share rounds up
        (START - SECOND, 1001, 0),
        (START, 1001, 0),
    ],
)
def test_a_saved_card_is_charged_the_share_the_policy_keeps(at, charge, percent):
    outcome = cancel(TWO_TIERS, at=at, price=1001, paid=0, card_saved=True)
    assert (outcome.refund_minor, outcome.charge_minor, outcome.percent) == (0, charge, percent)
    assert outcome.fee_minor == 0


def test_a_saved_card_is_not_charged_when_something_was_paid():
    outcome = cancel(TWO_TIERS, at=START - SECOND, price=1001, paid=100, card_saved=True)
    assert (outcome.refund_minor, outcome.charge_minor) == (0, 0)
    assert cancel(TWO_TIERS, at=START - SECOND, price=1001, paid=0).charge_minor == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": datetime(2026, 6, 10, 9)}, "start must be timezone-aware"),  # noqa: DTZ001
        ({"at": datetime(2026, 6, 9, 9)}, "at must be timezone-aware"),  # noqa: DTZ001
        ({"price": -1}, "price_minor must be zero or more"),
        ({"paid": -1}, "paid_minor must be zero or more"),
        ({"by": "robot"}, "'robot' is not a valid Canceller"),
    ],
)
def test_cancellation_refuses_bad_input(kwargs, message):
    kwargs.setdefault("at", START - DAY)
    with pytest.raises(ValueError, match=message):
        cancel(TWO_TIERS, **kwargs)


# Reading and writing a policy


FULL_JSON = {
    "tiers": [
        {"before_minutes": 1440, "refund_percent": 50},
        {"before_minutes": 2880, "refund_percent": 100},
    ],
    "same_day_refund_percent": 0,
    "fee_minor": 150,
    "reschedule_cutoff_minutes": 720,
    "max_reschedules": 2,
    "no_show_fee": {"percent": 100, "fixed_minor": 500},
}
FULL_POLICY = Policy(
    tiers=(TWO_DAYS_FULL, ONE_DAY_HALF),
    same_day_percent=0,
    fee_minor=150,
    reschedule_cutoff=timedelta(hours=12),
    max_reschedules=2,
    no_show=NoShowFee(100, 500),
)


def test_parse_policy_reads_every_field_and_sorts_the_tiers():
    assert parse_policy(FULL_JSON) == FULL_POLICY


@pytest.mark.parametrize("data", [None, {}])
def test_parse_policy_of_nothing_is_the_default(data):
    assert parse_policy(data) == Policy()


def test_parse_policy_takes_nulls_where_a_field_may_be_unset():
    data = {"same_day_refund_percent": None, "reschedule_cutoff_minutes": None}
    assert parse_policy({**data, "max_reschedules": None}) == Policy()


def test_equal_percents_in_tiers_are_allowed():
    data = {"tiers": [{"before_minutes": m, "refund_percent": 50} for m in (60, 0, 120)]}
    assert [t.percent for t in parse_policy(data).tiers] == [50, 50, 50]


def test_policy_dict_writes_every_key_and_sorted_tiers():
    assert policy_dict(FULL_POLICY) == {
        **FULL_JSON,
        "tiers": [
            {"before_minutes": 2880, "refund_percent": 100},
            {"before_minutes": 1440, "refund_percent": 50},
        ],
    }
    assert policy_dict(Policy()) == {
        "tiers": [],
        "same_day_refund_percent": None,
        "fee_minor": 0,
        "reschedule_cutoff_minutes": None,
        "max_reschedules": None,
        "no_show_fee": {"percent": 0, "fixed_minor": 0},
    }


def _tier(minutes, percent=50):
    return {"before_minutes": minutes, "refund_percent": percent}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the policy must be a JSON object, not []"),
        ("strict", "the policy must be a JSON object, not 'strict'"),
        ({"refund": 1}, "the policy has unknown field 'refund'; the fields are tiers, "),
        ({"tiers": None}, "tiers must be a JSON array, not None"),
        ({"tiers": {"before_minutes": 60}}, "tiers must be a JSON array"),
        ({"tiers": [60]}, "tiers[0] must be a JSON object, not 60"),
        ({"tiers": [{"before_minutes": 60}]}, "tiers[0] needs refund_percent"),
        ({"tiers": [{"refund_percent": 60}]}, "tiers[0] needs before_minutes"),
        ({"tiers": [{**_tier(60), "fee": 1}]}, "tiers[0] has unknown field 'fee'"),
        ({"tiers": [_tier(60), _tier(-1)]}, "tiers[1].before_minutes must be between 0 and 527040"),
        ({"tiers": [_tier(527041)]}, "tiers[0].before_minutes must be between 0 and 527040, not"),
        ({"tiers": [_tier("60")]}, "tiers[0].before_minutes must be a whole number, not '60'"),
        ({"tiers": [_tier(60.0)]}, "tiers[0].before_minutes must be a whole number, not 60.0"),
        ({"tiers": [_tier(60, True)]}, "tiers[0].refund_percent must be a whole number, not True"),
        ({"tiers": [_tier(60, 101)]}, "tiers[0].refund_percent must be between 0 and 100, not 101"),
        ({"tiers": [_tier(60, -1)]}, "tiers[0].refund_percent must be between 0 and 100, not -1"),
        ({"tiers": [_tier(m) for m in range(11)]}, "at most 10 tiers, not 11"),
        ({"tiers": [_tier(60), _tier(60, 40)]}, "two tiers have before_minutes 60"),
        (
            {"tiers": [_tier(2880, 50), _tier(1440, 100)]},
            "cancelling 1440 minutes before refunds 100%, more than the 50% of 2880 minutes",
        ),
        ({"same_day_refund_percent": 101}, "same_day_refund_percent must be between 0 and 100"),
        ({"same_day_refund_percent": "0"}, "same_day_refund_percent must be a whole number"),
        ({"same_day_refund_percent": False}, "same_day_refund_percent must be a whole number"),
        ({"fee_minor": -1}, "fee_minor must be between 0 and 1000000000000, not -1"),
        ({"fee_minor": 10**12 + 1}, "fee_minor must be between 0 and 1000000000000"),
        ({"fee_minor": None}, "fee_minor must be a whole number, not None"),
        ({"reschedule_cutoff_minutes": -1}, "reschedule_cutoff_minutes must be between 0 and"),
        ({"reschedule_cutoff_minutes": 10**30}, "reschedule_cutoff_minutes must be between 0"),
        ({"max_reschedules": -1}, "max_reschedules must be between 0 and 1000, not -1"),
        ({"max_reschedules": True}, "max_reschedules must be a whole number, not True"),
        ({"no_show_fee": None}, "no_show_fee must be a JSON object, not None"),
        ({"no_show_fee": [100]}, "no_show_fee must be a JSON object"),
        ({"no_show_fee": {"amount": 1}}, "no_show_fee has unknown field 'amount'"),
        ({"no_show_fee": {"percent": 101}}, "no_show_fee.percent must be between 0 and 100"),
        ({"no_show_fee": {"fixed_minor": -5}}, "no_show_fee.fixed_minor must be between 0 and"),
    ],
)
def test_parse_policy_says_which_field_is_wrong(data, message):
    with pytest.raises(PolicyError) as raised:
        parse_policy(data)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Tier(timedelta(seconds=30), 50), "before must be whole minutes"),
        (lambda: Tier(timedelta(minutes=-1), 50), "before (in minutes) must be between 0"),
        (lambda: Tier(DAY, 101), "percent must be between 0 and 100"),
        (lambda: Policy(tiers=(ONE_DAY_HALF, TWO_DAYS_FULL)), "ordered by before, longest first"),
        (lambda: Policy(tiers=(ONE_DAY_HALF, ONE_DAY_HALF)), "ordered by before, longest first"),
        (lambda: Policy(tiers=(Tier(2 * DAY, 10), ONE_DAY_HALF)), "must not grow"),
        (lambda: Policy(tiers=[ONE_DAY_HALF]), "tiers must be a tuple of Tier"),
        (lambda: Policy(fee_minor=-1), "fee_minor must be between 0"),
        (lambda: Policy(reschedule_cutoff=timedelta(seconds=1)), "must be whole minutes"),
        (lambda: Policy(max_reschedules=-1), "max_reschedules must be between 0"),
        (lambda: NoShowFee(percent=150), "no-show percent must be between 0 and 100"),
    ],
)
def test_a_policy_built_in_code_is_checked_too(build, message):
    with pytest.raises(PolicyError) as raised:
        build()
    assert message in str(raised.value)


# No-shows, reschedules, deposits


@pytest.mark.parametrize(
    ("fee", "price", "paid", "charge"),
    [
        (NoShowFee(), 5000, 0, 0),
        (NoShowFee(percent=100), 5000, 0, 5000),
        (NoShowFee(percent=100), 5000, 2000, 3000),
        (NoShowFee(percent=100), 5000, 5000, 0),
        (NoShowFee(percent=50), 5000, 6000, 0),
        (NoShowFee(percent=50, fixed_minor=200), 1001, 0, 700),  # 500 (rounded down) + 200
        (NoShowFee(fixed_minor=1500), 0, 0, 1500),
        (NoShowFee(percent=33), 12345, 0, 4073),  # KWD in fils
    ],
)
def test_no_show_charge(fee, price, paid, charge):
    assert no_show_charge(Policy(no_show=fee), price_minor=price, paid_minor=paid) == charge


def test_no_show_charge_refuses_negative_amounts():
    with pytest.raises(ValueError, match="paid_minor must be zero or more"):
        no_show_charge(Policy(), price_minor=100, paid_minor=-1)


def test_reschedules_are_limited_in_number():
    policy = Policy(max_reschedules=2)
    assert reschedule_refusal(policy, start=START, at=START - DAY, count=1) is None
    assert reschedule_refusal(policy, start=START, at=START - DAY, count=2) == "limit"
    assert reschedule_refusal(Policy(max_reschedules=0), start=START, at=START - DAY, count=0) == (
        "limit"
    )


def test_reschedule_cutoff_is_exact_to_the_microsecond():
    policy = Policy(reschedule_cutoff=timedelta(hours=12))
    cutoff = START - timedelta(hours=12)
    assert reschedule_refusal(policy, start=START, at=cutoff, count=0) is None
    assert reschedule_refusal(policy, start=START, at=cutoff + MICROSECOND, count=0) == "cutoff"


def test_reschedule_cutoff_counts_elapsed_hours_across_spring_forward():
    policy = Policy(reschedule_cutoff=DAY)
    start = datetime(2026, 3, 30, 1, tzinfo=BERLIN)
    midnight, one = (datetime(2026, 3, 29, hour, tzinfo=BERLIN) for hour in (0, 1))
    assert reschedule_refusal(policy, start=start, at=midnight, count=0) is None
    assert reschedule_refusal(policy, start=start, at=one, count=0) == "cutoff"


def test_reschedule_refusals_come_in_order_limit_cutoff_after_start():
    both = Policy(reschedule_cutoff=DAY, max_reschedules=1)
    assert reschedule_refusal(both, start=START, at=START + DAY, count=1) == "limit"
    assert reschedule_refusal(both, start=START, at=START + DAY, count=0) == "cutoff"
    assert reschedule_refusal(Policy(), start=START, at=START, count=5) == "after-start"
    assert reschedule_refusal(Policy(), start=START, at=START - MICROSECOND, count=5) is None


def test_reschedule_refusal_refuses_bad_input():
    with pytest.raises(ValueError, match="count must be zero or more"):
        reschedule_refusal(Policy(), start=START, at=START, count=-1)
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        reschedule_refusal(Policy(), start=START, at=datetime(2026, 1, 1), count=0)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("price", "kwargs", "deposit"),
    [
        (1001, {"percent": 50}, 501),  # 500.5 rounds up
        (1, {"percent": 50}, 1),  # 0.5 rounds up
        (999, {"percent": 33}, 330),  # 329.67
        (1000, {"percent": 33}, 330),  # 330 exactly
        (49, {"percent": 1}, 0),  # 0.49 rounds down
        (50, {"percent": 1}, 1),
        (0, {"percent": 50}, 0),
        (1001, {"percent": 100}, 1001),
        (5000, {"fixed_minor": 2000}, 2000),
        (1500, {"fixed_minor": 2000}, 1500),
    ],
)
def test_deposit_minor(price, kwargs, deposit):
    assert deposit_minor(price, **kwargs) == deposit


@pytest.mark.parametrize(
    ("price", "kwargs", "message"),
    [
        (1000, {}, "exactly one of percent and fixed_minor"),
        (1000, {"percent": 50, "fixed_minor": 100}, "exactly one of percent and fixed_minor"),
        (1000, {"percent": 0}, "percent must be between 1 and 100, not 0"),
        (1000, {"percent": 101}, "percent must be between 1 and 100, not 101"),
        (1000, {"fixed_minor": 0}, "fixed_minor must be at least 1, not 0"),
        (-1, {"percent": 50}, "price_minor must be zero or more"),
    ],
)
def test_deposit_minor_refuses_bad_input(price, kwargs, message):
    with pytest.raises(ValueError, match=message):
        deposit_minor(price, **kwargs)


# Properties

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Santiago",
    "UTC",
]
TRANSITIONS = {
    zone: transition_days(ZoneInfo(zone), date(2025, 1, 1), date(2027, 12, 31))
    or [date(2026, 6, 1)]
    for zone in ZONES
}
MAX_MINUTES = 366 * 24 * 60
amounts = st.integers(0, 10**6) | st.integers(0, 10**15)
minutes = st.integers(0, 72 * 60) | st.integers(0, MAX_MINUTES)


@st.composite
def policies(draw):
    befores = sorted(draw(st.lists(minutes, max_size=10, unique=True)), reverse=True)
    percents = draw(st.lists(st.integers(0, 100), min_size=len(befores), max_size=len(befores)))
    tiers = zip(befores, sorted(percents, reverse=True), strict=True)
    return Policy(
        tiers=tuple(Tier(timedelta(minutes=b), p) for b, p in tiers),
        same_day_percent=draw(st.none() | st.integers(0, 100)),
        fee_minor=draw(st.sampled_from([0, 1, 300]) | st.integers(0, 10**12)),
        reschedule_cutoff=draw(st.none() | minutes.map(lambda m: timedelta(minutes=m))),
        max_reschedules=draw(st.none() | st.integers(0, 1000)),
        no_show=NoShowFee(draw(st.integers(0, 100)), draw(st.integers(0, 10**12))),
    )


@st.composite
def starts(draw):
    """A start near one of the zone's clock changes, and the zone."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    day = draw(st.sampled_from(TRANSITIONS[zone.key]))
    midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
    start = midnight + timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)))
    return start + timedelta(microseconds=draw(st.sampled_from([0, 0, 1, 999_999]))), zone


# How long before the start a cancellation comes; negative is after the start.
leads = st.one_of(
    st.integers(-86400, 3 * 86400).map(lambda s: timedelta(seconds=s)),
    st.integers(-(10**6), 10**6).map(lambda us: timedelta(microseconds=us)),
    st.integers(0, 400 * 86400).map(lambda s: timedelta(seconds=s)),
)


def oracle_percent(policy, start, at, zone):
    """The customer's percent, from the rules as written, by brute force (both instants in UTC)."""
    if at >= start:
        return 0
    reached = [t.percent for t in policy.tiers if start - at >= t.before]
    percent = max(reached, default=0) if policy.tiers else 100
    at_day, start_day = (zone.fromutc(m.replace(tzinfo=zone)).date() for m in (at, start))
    if policy.same_day_percent is not None and at_day == start_day:
        percent = min(percent, policy.same_day_percent)
    return percent


@settings(max_examples=120, deadline=None)
@given(policies(), starts(), leads, amounts, amounts, st.booleans())
def test_customer_outcome_matches_the_rules_as_written(policy, place, lead, price, paid, card):
    start, zone = place
    at = (start - lead).astimezone(zone)
    outcome = cancel(policy, start=start, at=at, zone=zone, price=price, paid=paid, card_saved=card)
    percent = oracle_percent(policy, start, start - lead, zone)
    assert outcome.percent == percent
    if card and paid == 0:
        assert outcome.refund_minor == outcome.fee_minor == 0
        assert outcome.charge_minor == price - floor(Fraction(price * percent, 100))
        assert 0 <= outcome.charge_minor <= price
    else:
        share = floor(Fraction(paid * percent, 100))
        assert outcome.charge_minor == 0
        assert outcome.fee_minor == min(policy.fee_minor, share)
        assert outcome.refund_minor + outcome.fee_minor == share
        assert 0 <= outcome.refund_minor <= paid
        assert outcome.refund_minor + outcome.fee_minor + (paid - share) == paid


@settings(max_examples=100, deadline=None)
@given(policies(), starts(), leads, leads, amounts, st.booleans())
def test_cancelling_earlier_never_refunds_less(policy, place, lead, other, paid, card):
    start, zone = place
    late, early = sorted([lead, other])
    kwargs = {"start": start, "zone": zone, "price": paid, "paid": paid}
    sooner = cancel(policy, at=start - late, **kwargs)
    earlier = cancel(policy, at=start - early, **kwargs)
    assert earlier.percent >= sooner.percent
    assert earlier.refund_minor >= sooner.refund_minor
    if card:
        kwargs["paid"] = 0
        sooner = cancel(policy, at=start - late, card_saved=True, **kwargs)
        earlier = cancel(policy, at=start - early, card_saved=True, **kwargs)
        assert earlier.charge_minor <= sooner.charge_minor


@settings(max_examples=30, deadline=None)
@given(policies(), starts(), leads, amounts, amounts, st.sampled_from(["staff", "system"]))
def test_provider_and_system_always_refund_in_full(policy, place, lead, price, paid, by):
    start, zone = place
    outcome = cancel(policy, start=start, at=start - lead, zone=zone, price=price, paid=paid, by=by)
    assert (outcome.refund_minor, outcome.charge_minor, outcome.fee_minor) == (paid, 0, 0)


@settings(max_examples=80, deadline=None)
@given(policies(), starts(), st.data())
def test_each_tier_applies_from_its_exact_boundary(policy, place, data):
    assume(policy.tiers)
    start, zone = place
    n = data.draw(st.integers(0, len(policy.tiers) - 1))
    tier = policy.tiers[n]
    assume(tier.before > timedelta(0))
    at_boundary = cancel(policy, start=start, at=start - tier.before, zone=zone)
    assert at_boundary.tier == tier
    if at_boundary.rule == "same-day":
        assert at_boundary.percent == policy.same_day_percent < tier.percent
    else:
        assert (at_boundary.rule, at_boundary.percent) == ("tier", tier.percent)
    just_after = cancel(policy, start=start, at=start - tier.before + MICROSECOND, zone=zone)
    following = policy.tiers[n + 1] if n + 1 < len(policy.tiers) else None
    assert just_after.tier == following
    assert just_after.percent <= at_boundary.percent


@settings(max_examples=60, deadline=None)
@given(policies())
def test_a_policy_reads_back_from_its_json(policy):
    assert parse_policy(json.loads(json.dumps(policy_dict(policy)))) == policy


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "tiers": json_values
            | st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "before_minutes": json_values | minutes,
                        "refund_percent": json_values | st.integers(-5, 105),
                    },
                ),
                max_size=4,
            ),
            "same_day_refund_percent": json_values,
            "fee_minor": json_values,
            "reschedule_cutoff_minutes": json_values,
            "max_reschedules": json_values,
            "no_show_fee": json_values,
        },
    )
    | json_values
)
def test_any_json_is_a_policy_or_a_policy_error(data):
    try:
        policy = parse_policy(data)
    except PolicyError:
        return
    assert parse_policy(policy_dict(policy)) == policy
