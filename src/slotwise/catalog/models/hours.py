"""Opening hours as the provider states them: wall-clock rules, read in a resource's zone.

A :class:`Schedule` is a reusable set of hours ("Front desk hours"); a
resource points at one and supplies the zone the times are read in. The
rows map one to one onto the scheduling core's types (see
:mod:`slotwise.scheduling.rules` for what they mean, DST included), and
:mod:`slotwise.catalog.services` does the conversion. Rules, overrides and
closures belong to the organization through their schedule.
"""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models

from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager
from slotwise.scheduling import HolidayCalendar

MIDNIGHT = time(0)


def _ends_after_start(prefix: str) -> models.CheckConstraint:
    """``end`` after ``start`` within one day, an end of 00:00 meaning 24:00."""
    return models.CheckConstraint(
        condition=models.Q(end__gt=models.F("start")) | models.Q(end=MIDNIGHT),
        name=f"{prefix}_end_after_start",
    )


class Schedule(models.Model):
    """A named set of opening hours, with an optional public-holiday calendar.

    With ``holiday_country`` set (ISO 3166-1, e.g. ``GB``; subdivision e.g.
    ``ENG``), public holidays there close the schedule unless a date
    override says otherwise.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="schedules"
    )
    name = models.CharField(max_length=200)
    holiday_country = models.CharField(max_length=2, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(holiday_subdivision="") | ~models.Q(holiday_country=""),
                name="schedule_subdivision_needs_country",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.holiday_country:
            try:
                HolidayCalendar(self.holiday_country, self.holiday_subdivision or None)
            except ValueError as exc:
                raise ValidationError(
                    {"holiday_country": "No holiday calendar for this country and subdivision."}
                ) from exc


class WeeklyRule(models.Model):
    """Open every ``weekday`` from ``start`` to ``end`` (00:00 as an end means 24:00).

    Several rules on one weekday make a day with breaks (09:00 to 12:00 and
    13:00 to 17:00). ``valid_from`` and ``valid_until`` (inclusive) bound the
    dates a rule applies to.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="weekly_rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means the end of the day.")
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="weekly_rule_weekday_range"
            ),
            _ends_after_start("weekly_rule"),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="weekly_rule_valid_until_after_from",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class DateOverride(models.Model):
    """On ``date``, open exactly during its :class:`DateOverrideHours` rows instead of
    the usual hours; an override without hours rows closes the whole day.

    An override beats closures, public holidays and weekly rules.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    date = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["schedule", "date"], name="date_override_one_per_date"),
        )

    def __str__(self) -> str:
        return f"{self.date}"


class DateOverrideHours(models.Model):
    """One opening range of a :class:`DateOverride` (00:00 as an end means 24:00)."""

    override = models.ForeignKey(DateOverride, on_delete=models.CASCADE, related_name="hours")
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means the end of the day.")

    class Meta:
        verbose_name_plural = "date override hours"
        constraints = (_ends_after_start("date_override_hours"),)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Closure(models.Model):
    """Days off from ``first`` to ``last`` inclusive (a holiday, a refurbishment)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="closures")
    first = models.DateField()
    last = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(last__gte=models.F("first")), name="closure_last_after_first"
            ),
        )

    def __str__(self) -> str:
        return f"{self.first} to {self.last}"
