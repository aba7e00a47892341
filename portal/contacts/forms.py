"""Forms of the contact log and follow-ups. Lengths and dates are checked again by the
service, which says what is wrong beside the field."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.params import optional_database_int

from .models import CONTACT_KINDS, FOLLOW_UP_KINDS

MARKDOWN_HINT = "Markdown: **bold**, *italic*, lists with -, links [text](https://…)."


def _optional_id(value):
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    number = optional_database_int(str(value))
    if number is None:
        raise ValueError("Choose from the list.")
    return number


class ContactForm(FlaskForm):
    kind = SelectField(
        "Kind", choices=[SelectChoice(key, label) for key, label in CONTACT_KINDS.items()]
    )
    contacted_on = DateField(
        "Date", validators=[InputRequired(message="Give the day of the contact.")]
    )
    summary = StringField(
        "What it was about",
        validators=[Length(max=200)],
        description="One line, e.g. “Quarterly call about the pump deliveries”.",
    )
    vendor_people = StringField(
        "Who took part from us",
        validators=[Length(max=500)],
        description="Names, comma-separated; empty means you.",
    )
    customer_people = StringField("Who took part from the customer", validators=[Length(max=500)])
    notes = TextAreaField(
        "Notes",
        validators=[Optional(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 6},
    )
    next_step = StringField("Next step", validators=[Length(max=500)])
    shared = BooleanField(
        "Shared with the customer",
        description="Unticked, the entry is internal: the customer never sees it.",
    )


class FollowUpForm(FlaskForm):
    account_id = SelectField("Account", coerce=_optional_id)
    kind = SelectField(
        "Kind", choices=[SelectChoice(key, label) for key, label in FOLLOW_UP_KINDS.items()]
    )
    title = StringField("What is to be done", validators=[Length(max=200)])
    due_on = DateField("Due on", validators=[InputRequired(message="Give the day it is due.")])
    owner_id = SelectField("Owner", coerce=_optional_id)
    reason = StringField(
        "Why", validators=[Length(max=500)], description="E-mail, alert, what the customer asked."
    )
    contact_id = SelectField("After the contact", coerce=_optional_id)


class DoneForm(FlaskForm):
    done_note = StringField(
        "What came of it", validators=[Length(max=1000)], description="Kept with the follow-up."
    )
