"""Business hours: when customer mail may go out, and what a promised time really means.

A promise such as "by 11am tomorrow" is only kept if it is counted in the hours the team
works, in the team's time zone, and worked out when the reply leaves (not when it was drafted):
a draft written at 06:42 and approved at 10:00 must not promise "by 8am today". Pure functions
of a moment; the clock is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..config import DAYS, Config

_MAX_DAYS = 370  # more than a year of closed days is a config error, not a loop


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    opening: time
    closing: time
    days: tuple[str, ...]

    @classmethod
    def of(cls, config: Config) -> "BusinessHours":
        follow = config.followup
        return cls(ZoneInfo(config.drafts.timezone), follow.opening, follow.closing, follow.business_days)

    def _open_day(self, day: date) -> bool:
        return DAYS[day.weekday()] in self.days

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone)

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` if the team is at work then, else when it next opens (in ``moment``'s zone)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(_MAX_DAYS):
            if self._open_day(day):
                opening, closing = self._at(day, self.opening), self._at(day, self.closing)
                if local < opening:
                    return opening.astimezone(moment.tzinfo)
                if local < closing:
                    return moment
            day += timedelta(days=1)
            local = self._at(day, time(0))
        return moment

    def add(self, moment: datetime, hours: float) -> datetime:
        """``hours`` of the team's working time after ``moment`` (UTC)."""
        local = self.next_opening(moment).astimezone(self.zone)
        left = timedelta(hours=hours)
        for _ in range(_MAX_DAYS):
            closing = self._at(local.date(), self.closing)
            if local + left <= closing:
                return (local + left).astimezone(moment.tzinfo)
            left -= closing - local
            local = self.next_opening(closing).astimezone(self.zone)
        return local.astimezone(moment.tzinfo)

    def promise(self, moment: datetime, hours: float) -> datetime:
        """The time to promise: ``hours`` of work after ``moment``, rounded up to a whole hour
        (never down: a promise may be early, never late), and not after that day's closing."""
        due = self.add(moment, hours).astimezone(self.zone)
        rounded = due if due.minute == due.second == due.microsecond == 0 else \
            due.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return min(rounded, self._at(due.date(), self.closing)).astimezone(moment.tzinfo)

    def next_time_of_day(self, now: datetime, clock: time) -> datetime:
        """The first ``clock`` on a business day after ``now`` (the daily digest)."""
        today = now.astimezone(self.zone).date()
        for offset in range(_MAX_DAYS):
            moment = self._at(today + timedelta(days=offset), clock)
            if moment > now and self._open_day(moment.date()):
                return moment.astimezone(now.tzinfo)
        raise AssertionError("business_days is never empty")

    def phrase(self, due: datetime, now: datetime, language: str = "en") -> str:
        """'by 11am tomorrow': how a person says a time to a customer, in their language."""
        local, today = due.astimezone(self.zone), now.astimezone(self.zone).date()
        days = (local.date() - today).days
        return (_phrase_fr if language == "fr" else _phrase_en)(local, days)

    def dated(self, due: datetime, language: str = "en") -> str:
        """'by 5pm on Monday 23 November': a promised time recalled days later, when "today"
        would be wrong."""
        return (_phrase_fr if language == "fr" else _phrase_en)(due.astimezone(self.zone), 7)


_FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")


def _clock_en(local: datetime) -> str:
    if local.hour == 12 and local.minute == 0:
        return "midday"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def _phrase_en(local: datetime, days: int) -> str:
    clock = _clock_en(local)
    if days <= 0:
        return f"by {clock} today"
    if days == 1:
        return f"by {clock} tomorrow"
    if days < 7:
        return f"by {clock} on {local:%A}"
    return f"by {clock} on {local:%A} {local.day} {local:%B}"


def _phrase_fr(local: datetime, days: int) -> str:
    clock = f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"
    if days <= 0:
        return f"aujourd'hui avant {clock}"
    if days == 1:
        return f"demain avant {clock}"
    day = _FR_DAYS[local.weekday()]
    if days < 7:
        return f"{day} avant {clock}"
    number = "1er" if local.day == 1 else str(local.day)
    return f"le {day} {number} {_FR_MONTHS[local.month - 1]} avant {clock}"
