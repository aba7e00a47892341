"""Forms of the contact log and follow-ups. Lengths and dates are checked again by the
service, which says what is wrong beside the field."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm
from portal.params import optional_database_int

from .models import CONTACT_KINDS, FOLLOW_UP_KINDS

MARKDOWN_HINT = _l("Markdown: **bold**, *italic*, lists with -, links [text](https://…).")


def _optional_id(value):
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    number = optional_database_int(str(value))
    if number is None:
        raise ValueError(_l("Choose from the list."))
    return number


class ContactForm(PortalForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(key, label) for key, label in CONTACT_KINDS.items()]
    )
    contacted_on = DateField(
        _l("Date"), validators=[InputRequired(message=_l("Give the day of the contact."))]
    )
    summary = StringField(
        _l("What it was about"),
        validators=[Length(max=200)],
        description=_l("One line, e.g. “Quarterly call about the pump deliveries”."),
    )
    vendor_people = StringField(
        _l("Who took part from us"),
        validators=[Length(max=500)],
        description=_l("Names, comma-separated; empty means you."),
    )
    customer_people = StringField(
        _l("Who took part from the customer"), validators=[Length(max=500)]
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 6},
    )
    next_step = StringField(_l("Next step"), validators=[Length(max=500)])
    shared = BooleanField(
        _l("Shared with the customer"),
        description=_l("Unticked, the entry is internal: the customer never sees it."),
    )


class FollowUpForm(PortalForm):
    account_id = SelectField(_l("Account"), coerce=_optional_id)
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(key, label) for key, label in FOLLOW_UP_KINDS.items()]
    )
    title = StringField(_l("What is to be done"), validators=[Length(max=200)])
    due_on = DateField(
        _l("Due on"), validators=[InputRequired(message=_l("Give the day it is due."))]
    )
    owner_id = SelectField(_l("Owner"), coerce=_optional_id)
    reason = StringField(
        _l("Why"),
        validators=[Length(max=500)],
        description=_l("E-mail, alert, what the customer asked."),
    )
    contact_id = SelectField(_l("After the contact"), coerce=_optional_id)


class DoneForm(PortalForm):
    done_note = StringField(
        _l("What came of it"),
        validators=[Length(max=1000)],
        description=_l("Kept with the follow-up."),
    )
