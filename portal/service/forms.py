"""Forms for service requests, their thread and workflow, and the service calendar."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.params import database_int

from .models import KINDS, PRIORITIES

MARKDOWN_HINT = "Markdown: **bold**, *italic*, lists with -, links [text](https://…)."


def _optional_id(value):
    """An id from a form, or None; anything that is not a database integer is None."""
    if value in (None, ""):
        return None
    return database_int(value) if isinstance(value, str) else value


class RequestForm(FlaskForm):
    account_id = SelectField("Customer who called", coerce=_optional_id, validators=[Optional()])
    kind = SelectField("What do you need?", choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    priority = SelectField(
        "Priority",
        choices=[SelectChoice(k, v) for k, v in PRIORITIES.items()],
        default="normal",
        description="Urgent means equipment is down.",
    )
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 8},
    )


class PostForm(FlaskForm):
    visibility = SelectField(
        "Post as",
        choices=[
            SelectChoice("public", "Message to the customer"),
            SelectChoice("internal", "Internal note (vendor staff only)"),
        ],
        default="public",
    )
    body = TextAreaField(
        "Your message",
        validators=[InputRequired(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 5},
    )


class ActionForm(FlaskForm):
    """Only the CSRF token and a button (take, delete)."""


class HandoverForm(FlaskForm):
    to_id = SelectField("Hand over to", coerce=_optional_id, validators=[Optional()])
    reason = StringField("Why", validators=[Optional(), Length(max=500)])


class StatusForm(FlaskForm):
    status = SelectField("New status")
    resolution = TextAreaField(
        "Resolution",
        validators=[Optional(), Length(max=20_000)],
        description="Required when resolving: what was done, for the customer to confirm.",
        render_kw={"rows": 4},
    )


class ConfirmForm(FlaskForm):
    satisfied = RadioField(
        "Are you satisfied with how this was handled?",
        choices=[SelectChoice("yes", "Satisfied"), SelectChoice("no", "Not satisfied")],
        validators=[Optional()],
    )
    comment = TextAreaField(
        "Comment (optional)", validators=[Optional(), Length(max=20_000)], render_kw={"rows": 3}
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "What is still wrong?",
        validators=[Optional(), Length(max=20_000)],
        render_kw={"rows": 3},
    )


class CalendarForm(FlaskForm):
    timezone = StringField("Time zone", validators=[InputRequired(), Length(max=64)])


WEEKDAY_FIELDS = [(day, f"day{day}_start", f"day{day}_end") for day in range(7)]
for _day, _start, _end in WEEKDAY_FIELDS:
    setattr(CalendarForm, _start, StringField("Opens", validators=[Optional(), Length(max=5)]))
    setattr(CalendarForm, _end, StringField("Closes", validators=[Optional(), Length(max=5)]))


class HolidayForm(FlaskForm):
    day = StringField("Date", validators=[Optional(), Length(max=30)], render_kw={"type": "date"})
    name = StringField("Name", validators=[Optional(), Length(max=100)])


class HolidayImportForm(FlaskForm):
    upload = FileField("CSV or XLSX file")


class TargetForm(FlaskForm):
    account_id = SelectField("Account", coerce=_optional_id, validators=[Optional()])
    priority = SelectField("Priority", choices=[SelectChoice(k, v) for k, v in PRIORITIES.items()])
    response_hours = StringField(
        "First response (working hours)", validators=[Optional(), Length(max=10)]
    )
    resolution_hours = StringField(
        "Resolution (working hours)", validators=[Optional(), Length(max=10)]
    )


class QualityStepsForm(FlaskForm):
    """The five steps of a quality complaint; each is saved when it changed."""

    affected_quantity = StringField(
        "Affected quantity",
        validators=[Optional(), Length(max=12)],
        description="How many parts are defective, in the product's unit.",
        render_kw={"inputmode": "numeric"},
    )
    affected = TextAreaField(
        "Which parts (batch, lot, delivery)",
        validators=[Optional(), Length(max=5_000)],
        render_kw={"rows": 2},
    )
    containment = TextAreaField(
        "Containment",
        validators=[Optional(), Length(max=5_000)],
        description="What keeps more defective parts from reaching the customer now.",
        render_kw={"rows": 2},
    )
    root_cause = TextAreaField(
        "Root cause", validators=[Optional(), Length(max=5_000)], render_kw={"rows": 2}
    )
    corrective_action = TextAreaField(
        "Corrective action",
        validators=[Optional(), Length(max=5_000)],
        description="What was changed so the cause cannot recur.",
        render_kw={"rows": 2},
    )
    verification = TextAreaField(
        "Verification of its effect",
        validators=[Optional(), Length(max=5_000)],
        description="How you know the corrective action works.",
        render_kw={"rows": 2},
    )
