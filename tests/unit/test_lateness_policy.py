"""The late-policy grammar, durations, deadlines and the penalty arithmetic (values worked out by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest

from autograde.errors import AutogradeError
from autograde.lateness.policy import duration_text, parse_duration, parse_policy, parse_time, parse_zone

PLUS_ONE = timezone(timedelta(hours=1))
BERLIN = parse_zone("Europe/Berlin")


def test_durations() -> None:
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("36h") == timedelta(hours=36)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1w") == timedelta(days=7)
    assert parse_duration("1.5d") == timedelta(hours=36)
    for bad in ("", "2", "2 days", "d", "-1d", "1y"):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(bad)
    assert duration_text(timedelta(days=1, hours=12)) == "1d 12h"
    assert duration_text(timedelta(minutes=3, seconds=5)) == "3m 5s"
    assert duration_text(timedelta(seconds=0.2)) == "1s"  # rounded up: late is late


def test_deadlines_need_a_time_zone() -> None:
    due = datetime(2026, 12, 1, 23, 59, tzinfo=PLUS_ONE)
    assert parse_time("2026-12-01T23:59+01:00", None, "--deadline") == due
    assert parse_time("2026-12-01T22:59Z", None, "--deadline") == due
    # Berlin is at +01:00 in December, +02:00 in July
    assert parse_time("2026-12-01T23:59", BERLIN, "--deadline").utcoffset() == timedelta(hours=1)
    assert parse_time("2026-07-01T23:59", BERLIN, "--deadline").utcoffset() == timedelta(hours=2)
    with pytest.raises(AutogradeError, match=r"--deadline: '2026-12-01T23:59' has no time zone.*--timezone"):
        parse_time("2026-12-01T23:59", None, "--deadline")
    with pytest.raises(AutogradeError, match="--deadline: '2026-12-01' has no time of day"):
        parse_time("2026-12-01", BERLIN, "--deadline")
    with pytest.raises(AutogradeError, match="--deadline: '1 December' is not an ISO 8601 time"):
        parse_time("1 December", BERLIN, "--deadline")
    with pytest.raises(AutogradeError, match="is not an ISO 8601 time"):
        parse_time("2026-13-01T10:00+01:00", None, "--deadline")
    with pytest.raises(AutogradeError, match="does not exist in Europe/Berlin"):
        parse_time("2026-03-29T02:30", BERLIN, "--deadline")  # the clocks jump from 2:00 to 3:00
    with pytest.raises(AutogradeError, match="happens twice in Europe/Berlin"):
        parse_time("2026-10-25T02:30", BERLIN, "--deadline")
    with pytest.raises(AutogradeError, match="--timezone 'Mars/Olympus': not a known time zone"):
        parse_zone("Mars/Olympus")


def test_policy_forms() -> None:
    policy = parse_policy("10%/day, max=50%, grace=15m", None)
    assert (policy.rate, policy.period, policy.cap, policy.grace) == (
        Fraction(1, 10), timedelta(days=1), Fraction(1, 2), timedelta(minutes=15))
    assert policy.text == "10%/day,max=50%,grace=15m"
    assert parse_policy("none", None).rate is None
    assert parse_policy("5%/12h,prorated", None).period == timedelta(hours=12)
    assert parse_policy("2.5%/hour", None).rate == Fraction(1, 40)
    assert parse_policy("cutoff=3d", None).cutoff_after == timedelta(days=3)
    at = parse_policy("cutoff=2026-12-03T23:59", BERLIN).cutoff_at
    assert at == datetime(2026, 12, 3, 23, 59, tzinfo=PLUS_ONE)
    assert parse_policy("10%/day,of=max,unknown=max", None).base == "max"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10%", "'10%' is not a clause"),
        ("ten percent", "is not a clause"),
        ("10%/fortnight", "'fortnight' is not a duration"),
        ("110%/day", "expected a percentage from 0% to 100%"),
        ("10/day", "expected a percentage"),
        ("10%/0d", "the period must be longer than 0"),
        ("max=50%", "max= needs a rate"),
        ("prorated", "prorated needs a rate"),
        ("10%/day,grace=soon", "'soon' is not a duration"),
        ("10%/day,of=points", "of is score or max"),
        ("10%/day,unknown=maybe", "unknown is none, max or zero"),
        ("10%/day,5%/hour", "rate is given twice"),
        ("10%/day,,max=50%", "an empty clause"),
        ("cutoff=2026-12-03T23:59", "has no time zone"),
        ("cutoff=friday", "is not an ISO 8601 time"),
    ],
)
def test_bad_policies_name_the_option_and_the_clause(text: str, message: str) -> None:
    with pytest.raises(AutogradeError, match="--late-policy") as error:
        parse_policy(text, None)
    assert message in str(error.value)


def test_per_started_day_with_a_cap_and_grace() -> None:
    policy = parse_policy("10%/day,max=50%,grace=15m", None)
    day = timedelta(days=1)
    assert policy.fraction(timedelta(days=1, hours=12), False)[0] == Fraction(2, 10)  # 2 days started
    assert policy.fraction(day, False)[0] == Fraction(1, 10)  # exactly one day: one day
    assert policy.fraction(day + timedelta(seconds=1), False)[0] == Fraction(2, 10)
    assert policy.fraction(6 * day, False)[0] == Fraction(1, 2)  # 60%, capped at 50%
    assert policy.fraction(timedelta(minutes=10), False) == (Fraction(0), "late by 10m, within the grace "
                                                             "period of 15m: on time")
    assert policy.fraction(timedelta(minutes=20), False)[0] == Fraction(1, 10)  # counted from the deadline
    assert policy.fraction(-day, False) == (Fraction(0), "on time")
    assert policy.fraction(timedelta(hours=2), True)[0] == 1  # after the cut-off: no credit


def test_prorated_and_cutoffs() -> None:
    prorated = parse_policy("10%/day,prorated", None)
    assert prorated.fraction(timedelta(days=1, hours=12), False)[0] == Fraction(15, 100)
    cutoff = parse_policy("cutoff=3d", None)
    deadline = datetime(2026, 12, 1, 23, 59, tzinfo=PLUS_ONE)
    assert cutoff.cutoff(deadline, timedelta()) == datetime(2026, 12, 4, 23, 59, tzinfo=PLUS_ONE)
    # no rate: late before the cut-off costs nothing
    assert cutoff.fraction(timedelta(days=2), False)[0] == 0
    absolute = parse_policy("10%/day,cutoff=2026-12-03T23:59+01:00", None)
    extended = deadline + timedelta(days=2)  # a 2-day extension moves the cut-off by 2 days
    assert absolute.cutoff(extended, timedelta(days=2)) == datetime(2026, 12, 5, 23, 59, tzinfo=PLUS_ONE)
    unknown = parse_policy("10%/day,max=30%,unknown=max", None)
    assert unknown.unknown_fraction() == Fraction(3, 10)
    assert parse_policy("10%/day", None).unknown_fraction() == 0  # the default: no penalty, a note
    assert parse_policy("10%/day,unknown=zero", None).unknown_fraction() == 1
