"""Business hours: when customer mail may go, and promised times a team can keep."""

from datetime import datetime, timezone

import pytest

from worker.config import parse_config
from worker.desk.hours import BusinessHours

UTC = timezone.utc


def hours(zone: str = "UTC", extra: str = "") -> BusinessHours:
    return BusinessHours.of(parse_config(f'[imap]\nusername = "s@example.com"\n[drafts]\ntimezone = "{zone}"\n{extra}'))


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 10, 0)),   # Monday, open
    (datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 9, 0)),     # before opening
    (datetime(2026, 11, 23, 18, 0), datetime(2026, 11, 24, 9, 0)),    # after closing
    (datetime(2026, 11, 28, 12, 0), datetime(2026, 11, 30, 9, 0)),    # Saturday: Monday
])
def test_sending_window(moment, expected):
    assert hours().next_opening(moment.replace(tzinfo=UTC)) == expected.replace(tzinfo=UTC)


def test_sending_window_uses_the_business_time_zone():
    # 08:30 UTC on a winter Monday is 09:30 in Paris: open.
    moment = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert hours("Europe/Paris").next_opening(moment) == moment
    assert hours("America/New_York").next_opening(moment) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("now, promised, phrase", [
    (datetime(2026, 11, 23, 6, 42), datetime(2026, 11, 23, 11, 0), "by 11am today"),     # before opening: from 09:00
    (datetime(2026, 11, 23, 22, 50), datetime(2026, 11, 24, 11, 0), "by 11am tomorrow"), # overnight: next morning
    (datetime(2026, 11, 23, 16, 10), datetime(2026, 11, 24, 11, 0), "by 11am tomorrow"), # 50 min today, the rest tomorrow
    (datetime(2026, 11, 23, 10, 15), datetime(2026, 11, 23, 13, 0), "by 1pm today"),     # 12:15 rounds up, never down
    (datetime(2026, 11, 27, 16, 0), datetime(2026, 11, 30, 10, 0), "by 10am on Monday"), # Friday late: Monday
    (datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 12, 0), "by midday today"),
])
def test_a_promise_is_counted_in_business_hours_rounded_up(now, promised, phrase):
    business = hours()
    due = business.promise(now.replace(tzinfo=UTC), 2)
    assert due == promised.replace(tzinfo=UTC)
    assert business.phrase(due, now.replace(tzinfo=UTC)) == phrase


def test_a_promise_never_passes_closing_time_when_rounded():
    business = hours(extra='[followup]\nbusiness_hours = "09:00-17:30"\n')
    due = business.promise(datetime(2026, 11, 23, 15, 10, tzinfo=UTC), 2)
    assert due == datetime(2026, 11, 23, 17, 10, tzinfo=UTC).replace(minute=30)
    assert business.phrase(due, datetime(2026, 11, 23, 15, 10, tzinfo=UTC)) == "by 5:30pm today"


def test_long_promises_name_the_date_and_speak_french():
    business = hours("Europe/Paris")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    due = business.promise(now, 48)
    assert business.phrase(due, now) == "by 10am on Tuesday 1 December"
    assert business.phrase(due, now, "fr") == "le mardi 1er décembre avant 10 h"
    assert business.phrase(business.promise(now, 2), now, "fr") == "aujourd'hui avant 12 h"


@pytest.mark.parametrize("now, zone, expected", [
    (datetime(2026, 11, 23, 7, 0), "UTC", datetime(2026, 11, 23, 8, 30)),     # Monday before: today
    (datetime(2026, 11, 23, 8, 30), "UTC", datetime(2026, 11, 24, 8, 30)),    # at the hour: tomorrow
    (datetime(2026, 11, 27, 9, 0), "UTC", datetime(2026, 11, 30, 8, 30)),     # Friday: Monday
    (datetime(2026, 11, 23, 10, 0), "Europe/Paris", datetime(2026, 11, 24, 7, 30)),
])
def test_the_daily_digest_is_due_at_its_hour_on_the_next_business_day(now, zone, expected):
    business = hours(zone, '[followup]\ndigest_at = "08:30"\n')
    assert business.next_time_of_day(now.replace(tzinfo=UTC), parse_config(
        '[imap]\nusername = "s@example.com"\n[followup]\ndigest_at = "08:30"\n').followup.digest_time) == expected.replace(tzinfo=UTC)
