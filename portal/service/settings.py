"""What vendor admins keep for the service promises: the working hours and time
zone, the holidays (one by one or imported from a file, every row or none), and
an account's own promised times (a service contract)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.spreadsheets import Column, Columns, SpreadsheetError, header_key, read_rows

from . import promises, recompute
from .models import PRIORITIES, ServiceCalendar, ServiceHoliday, ServiceTarget

WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
MAX_HOURS = 24 * 365
MAX_IMPORT_BYTES = 1024 * 1024


def _admin(user: User) -> None:
    if not user.is_vendor_staff or not user.has_role(Role.ADMIN):
        raise Forbidden(_("Only the vendor's admins keep the service calendar."))


def _commit_and_recompute() -> None:
    """Commit the change and queue the rewrite of the kept outcomes of resolved and
    closed requests (portal.service.recompute): inline it took 10-18 s at 100,000
    requests. Until the job has run, those answers follow the calendar before."""
    needed = recompute.mark_pending()
    db.session.commit()
    recompute.enqueue_after_commit(needed)


def current_hours() -> tuple[str, dict[int, tuple[str, str] | None]]:
    """The zone and each weekday's hours as "HH:MM" texts, for the form."""
    cal = promises.calendar()
    return cal.zone.key, {
        day: (span[0].strftime("%H:%M"), span[1].strftime("%H:%M")) if span else None
        for day, span in enumerate(cal.hours)
    }


def save_calendar(
    user: User, *, timezone: str, hours: dict[int, tuple[str, str]], now: datetime
) -> ServiceCalendar:
    """Keep the working hours (weekday → opening, closing; a day left empty is a
    day off) and the zone they are in."""
    _admin(user)
    timezone = (timezone or "").strip()
    if timezone not in available_timezones():
        raise DomainError(
            _("“%(zone)s” is not a time zone; write one like Europe/Berlin.", zone=timezone[:64]),
            field="timezone",
        )
    kept: dict[str, list[str]] = {}
    for day, (start, end) in sorted(hours.items()):
        start, end = (start or "").strip(), (end or "").strip()
        if not start and not end:
            continue
        name = WEEKDAYS[day]
        try:
            opens, closes = time.fromisoformat(start), time.fromisoformat(end)
        except ValueError:
            raise DomainError(
                _("%(day)s: give the hours as HH:MM, both of them, or leave both empty.", day=name),
                field=f"day{day}",
            ) from None
        if not opens < closes:
            raise DomainError(
                _("%(day)s: the day must end after it starts.", day=name), field=f"day{day}"
            )
        kept[str(day)] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    if not kept:
        raise DomainError(_("Give the service at least one working day."))
    row = db.session.get(ServiceCalendar, 1) or ServiceCalendar(id=1)
    before = {"timezone": row.timezone, "hours": row.hours} if row.timezone else None
    audit.record(
        "service_hours_changed",
        actor=user,
        target="service_calendar",
        detail={"before": before, "after": {"timezone": timezone, "hours": kept}},
    )
    row.timezone, row.hours, row.updated_at, row.updated_by_id = timezone, kept, now, user.id
    db.session.add(row)
    _commit_and_recompute()  # the kept answers follow the calendar in force
    return row


def holidays(start: date | None = None) -> list[ServiceHoliday]:
    """The holidays kept, oldest first; from `start` on when given."""
    query = select(ServiceHoliday).order_by(ServiceHoliday.day)
    if start is not None:
        query = query.where(ServiceHoliday.day >= start)
    return list(db.session.scalars(query))


def _holiday_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValueError("the holiday needs a name")
    if len(name) > 100:
        raise ValueError("keep the name under 100 characters")
    return name


def _day(raw: str) -> date:
    text = (raw or "").strip()
    try:
        # An XLSX date cell arrives as "2026-12-25T00:00:00".
        return date.fromisoformat(text[:10] if "T" in text else text)
    except ValueError:
        raise ValueError(f"“{text[:30]}” is not a date (YYYY-MM-DD)") from None


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]


def add_holiday(user: User, *, day: str, name: str) -> ServiceHoliday:
    """One holiday as typed: a date (YYYY-MM-DD) and a name; a day only once."""
    _admin(user)
    try:
        parsed = _day(day)
    except ValueError as error:
        raise DomainError(_sentence(error) + ".", field="day") from None
    try:
        name = _holiday_name(name)
    except ValueError as error:
        raise DomainError(_sentence(error) + ".", field="name") from None
    if db.session.scalar(select(ServiceHoliday.id).where(ServiceHoliday.day == parsed)):
        raise DomainError(f"{parsed:%d %b %Y} is a holiday already.", field="day")
    holiday = ServiceHoliday(day=parsed, name=name)
    db.session.add(holiday)
    audit.record(
        "service_holiday_added", actor=user, detail={"day": parsed.isoformat(), "name": name}
    )
    _commit_and_recompute()  # the kept answers follow the holidays
    return holiday


def delete_holiday(user: User, holiday_id: int) -> None:
    """Remove a holiday (a missing one is already gone)."""
    _admin(user)
    holiday = db.session.get(ServiceHoliday, holiday_id)
    if holiday is not None:
        audit.record(
            "service_holiday_removed",
            actor=user,
            detail={"day": holiday.day.isoformat(), "name": holiday.name},
        )
        db.session.delete(holiday)
        _commit_and_recompute()
    db.session.commit()


# The holiday file is read by position (date, then name); a header row is optional and
# recognised by its first cell, the date column's header in any language.
HOLIDAY_COLUMNS = Columns(
    Column("date", _l("Date"), aliases=("day", "datum")),
    Column("name", _l("Name")),
)


def _holiday_header(cells: list[str]) -> bool | str:
    """True for a header row; a message for a first row that is a header this portal
    does not know (a word where the date should be); False for a row of data."""
    first = cells[0].strip() if cells else ""
    if header_key(first) in HOLIDAY_COLUMNS.names():
        return True
    if first and not any(c.isdigit() for c in first):
        return _(
            "“%(text)s” is not a date. If this line is a header, name its columns "
            "%(date)s and %(name)s.",
            text=first[:40],
            date=HOLIDAY_COLUMNS.accepted("date"),
            name=HOLIDAY_COLUMNS.accepted("name"),
        )
    return False


class ImportRefused(DomainError):
    """Nothing was imported; `problems` names every bad row (line, reason)."""

    def __init__(self, message: str, problems: list[tuple[int, str]]):
        super().__init__(message)
        self.problems = problems


def import_holidays(user: User, data: bytes) -> int:
    """Holidays from a CSV or XLSX file with the columns date and name (a header row
    is recognised and skipped). Every row or none: a bad row, a day given twice or
    a day that is a holiday already is named with its line number."""
    _admin(user)
    if not data.strip():
        raise DomainError(_("Choose a file: it is missing or empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError(_("The file is larger than 1 MB."))
    try:
        rows = read_rows(data, max_rows=5000)
    except SpreadsheetError as error:
        raise DomainError(str(error)) from None
    header = _holiday_header(rows[0][1]) if rows else False
    if isinstance(header, str):
        raise ImportRefused("Nothing was imported: 1 row to correct.", [(rows[0][0], header)])
    if header:
        rows = rows[1:]
    if not rows:
        raise DomainError(_("The file has no holidays in it."))
    existing = set(db.session.scalars(select(ServiceHoliday.day)))
    seen: dict[date, int] = {}
    problems: list[tuple[int, str]] = []
    found: list[ServiceHoliday] = []
    for line, cells in rows:
        cells = [*cells, "", ""]
        try:
            day = _day(cells[0])
            name = _holiday_name(cells[1])
        except ValueError as error:
            problems.append((line, _sentence(error)))
            continue
        if day in seen:
            problems.append((line, f"{day:%d %b %Y} is given on line {seen[day]} already"))
        elif day in existing:
            problems.append((line, f"{day:%d %b %Y} is a holiday already"))
        else:
            seen[day] = line
            found.append(ServiceHoliday(day=day, name=name))
    if problems:
        raise ImportRefused(
            f"Nothing was imported: {len(problems)} row{'s' if len(problems) != 1 else ''} "
            "to correct.",
            problems,
        )
    db.session.add_all(found)
    audit.record(
        "service_holidays_imported",
        actor=user,
        detail={"days": [h.day.isoformat() for h in found]},
    )
    _commit_and_recompute()
    return len(found)


# --- an account's own promised times -------------------------------------------------------------


def account_targets(account: CustomerAccount) -> tuple[dict[str, promises.Target], set[str]]:
    """The account's targets per priority, and which of them are its own."""
    own = {
        t.priority
        for t in db.session.scalars(
            select(ServiceTarget).where(ServiceTarget.account_id == account.id)
        )
    }
    return promises.targets_for([account.id])[account.id], own


def _whole_hours(raw: str, field: str, what: str) -> int:
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 6:
        raise DomainError(f"Give the {what} as whole working hours.", field=field)
    value = int(text)
    if not 1 <= value <= MAX_HOURS:
        raise DomainError(f"Give the {what} as 1 to {MAX_HOURS:,} working hours.", field=field)
    return value


def set_account_target(
    user: User, account_id: int | None, *, priority: str, response: str, resolution: str
) -> ServiceTarget:
    """Give an account its own promised times for one priority (a service contract)."""
    _admin(user)
    account = db.session.get(CustomerAccount, account_id) if account_id else None
    if account is None:
        raise DomainError(_("Choose the account."), field="account_id")
    if priority not in PRIORITIES:
        raise DomainError(_("Choose a priority."), field="priority")
    response_hours = _whole_hours(response, "response_hours", "first response")
    resolution_hours = _whole_hours(resolution, "resolution_hours", "resolution")
    if resolution_hours < response_hours:
        raise DomainError(
            _("The resolution cannot be promised before the first response."),
            field="resolution_hours",
        )
    row = db.session.scalar(
        select(ServiceTarget).where(
            ServiceTarget.account_id == account.id, ServiceTarget.priority == priority
        )
    ) or ServiceTarget(account_id=account.id, priority=priority)
    audit.record(
        "service_target_set",
        actor=user,
        account_id=account.id,
        target=f"service_target:{account.id}:{priority}",
        detail={
            "before": [row.response_hours, row.resolution_hours] if row.id else None,
            "after": [response_hours, resolution_hours],
        },
    )
    row.response_hours, row.resolution_hours = response_hours, resolution_hours
    db.session.add(row)
    _commit_and_recompute()  # the kept answers follow the targets
    return row


def account_target_rows() -> list[ServiceTarget]:
    """Every account's own promised times, by account name."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            select(ServiceTarget)
            .options(joinedload(ServiceTarget.account))
            .join(CustomerAccount)
            .order_by(CustomerAccount.name, ServiceTarget.priority)
        )
    )


def delete_account_target(user: User, target_id: int) -> None:
    """Back to the default promise for that account and priority."""
    _admin(user)
    target = db.session.get(ServiceTarget, target_id)
    if target is not None:
        audit.record(
            "service_target_removed",
            actor=user,
            account_id=target.account_id,
            target=f"service_target:{target.account_id}:{target.priority}",
            detail={"before": [target.response_hours, target.resolution_hours]},
        )
        db.session.delete(target)
        _commit_and_recompute()
    db.session.commit()
