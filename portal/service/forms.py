"""Forms for service requests, their thread and workflow, and the service calendar."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm
from portal.params import database_int

from .models import KINDS, PRIORITIES

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Field cannot be longer than %(max)d characters.")

MARKDOWN_HINT = _l("Markdown: **bold**, *italic*, lists with -, links [text](https://…).")


def _optional_id(value):
    """An id from a form, or None; anything that is not a database integer is None."""
    if value in (None, ""):
        return None
    return database_int(value) if isinstance(value, str) else value


class RequestForm(PortalForm):
    account_id = SelectField(
        _l("Customer who called"), coerce=_optional_id, validators=[Optional()]
    )
    kind = SelectField(
        _l("What do you need?"), choices=[SelectChoice(k, v) for k, v in KINDS.items()]
    )
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice(k, v) for k, v in PRIORITIES.items()],
        default="normal",
        description=_l("Urgent means equipment is down."),
    )
    title = StringField(
        _l("Title"), validators=[InputRequired(message=REQUIRED), Length(max=200, message=TOO_LONG)]
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 8},
    )


class PostForm(PortalForm):
    visibility = SelectField(
        _l("Post as"),
        choices=[
            SelectChoice("public", _l("Message to the customer")),
            SelectChoice("internal", _l("Internal note (vendor staff only)")),
        ],
        default="public",
    )
    body = TextAreaField(
        _l("Your message"),
        validators=[InputRequired(message=REQUIRED), Length(max=20_000, message=TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 5},
    )


class ActionForm(PortalForm):
    """Only the CSRF token and a button (take, delete)."""


class HandoverForm(PortalForm):
    to_id = SelectField(_l("Hand over to"), coerce=_optional_id, validators=[Optional()])
    reason = StringField(_l("Why"), validators=[Optional(), Length(max=500, message=TOO_LONG)])


class StatusForm(PortalForm):
    status = SelectField(_l("New status"))
    resolution = TextAreaField(
        _l("Resolution"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=_l("Required when resolving: what was done, for the customer to confirm."),
        render_kw={"rows": 4},
    )


class ConfirmForm(PortalForm):
    satisfied = RadioField(
        _l("Are you satisfied with how this was handled?"),
        choices=[SelectChoice("yes", _l("Satisfied")), SelectChoice("no", _l("Not satisfied"))],
        validators=[Optional()],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        render_kw={"rows": 3},
    )


class ReopenForm(PortalForm):
    reason = TextAreaField(
        _l("What is still wrong?"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        render_kw={"rows": 3},
    )


class CalendarForm(PortalForm):
    timezone = StringField(
        _l("Time zone"),
        validators=[InputRequired(message=REQUIRED), Length(max=64, message=TOO_LONG)],
    )


WEEKDAY_FIELDS = [(day, f"day{day}_start", f"day{day}_end") for day in range(7)]
for _day, _start, _end in WEEKDAY_FIELDS:
    setattr(
        CalendarForm,
        _start,
        StringField(_l("Opens"), validators=[Optional(), Length(max=5, message=TOO_LONG)]),
    )
    setattr(
        CalendarForm,
        _end,
        StringField(_l("Closes"), validators=[Optional(), Length(max=5, message=TOO_LONG)]),
    )


class HolidayForm(PortalForm):
    day = StringField(
        _l("Date"),
        validators=[Optional(), Length(max=30, message=TOO_LONG)],
        render_kw={"type": "date"},
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100, message=TOO_LONG)])


class HolidayImportForm(PortalForm):
    upload = FileField(_l("CSV or XLSX file"))


class TargetForm(PortalForm):
    account_id = SelectField(_l("Account"), coerce=_optional_id, validators=[Optional()])
    priority = SelectField(
        _l("Priority"), choices=[SelectChoice(k, v) for k, v in PRIORITIES.items()]
    )
    response_hours = StringField(
        _l("First response (working hours)"),
        validators=[Optional(), Length(max=10, message=TOO_LONG)],
    )
    resolution_hours = StringField(
        _l("Resolution (working hours)"), validators=[Optional(), Length(max=10, message=TOO_LONG)]
    )


class QualityStepsForm(PortalForm):
    """The five steps of a quality complaint; each is saved when it changed."""

    affected_quantity = StringField(
        _l("Affected quantity"),
        validators=[Optional(), Length(max=12, message=TOO_LONG)],
        description=_l("How many parts are defective, in the product's unit."),
        render_kw={"inputmode": "numeric"},
    )
    affected = TextAreaField(
        _l("Which parts (batch, lot, delivery)"),
        validators=[Optional(), Length(max=5_000, message=TOO_LONG)],
        render_kw={"rows": 2},
    )
    containment = TextAreaField(
        _l("Containment"),
        validators=[Optional(), Length(max=5_000, message=TOO_LONG)],
        description=_l("What keeps more defective parts from reaching the customer now."),
        render_kw={"rows": 2},
    )
    root_cause = TextAreaField(
        _l("Root cause"),
        validators=[Optional(), Length(max=5_000, message=TOO_LONG)],
        render_kw={"rows": 2},
    )
    corrective_action = TextAreaField(
        _l("Corrective action"),
        validators=[Optional(), Length(max=5_000, message=TOO_LONG)],
        description=_l("What was changed so the cause cannot recur."),
        render_kw={"rows": 2},
    )
    verification = TextAreaField(
        _l("Verification of its effect"),
        validators=[Optional(), Length(max=5_000, message=TOO_LONG)],
        description=_l("How you know the corrective action works."),
        render_kw={"rows": 2},
    )
