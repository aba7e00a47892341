"""Forms of the order desk. Per-line quantities and dates of the confirm, ship,
correct and deliver forms are named `<what>-<id>` and read by `routes.per_line`."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .models import CHANGE_REASONS


class DeskForm(FlaskForm):
    """The CSRF token, for forms whose fields are one per line."""


class PromiseChangeForm(FlaskForm):
    new_date = DateField(_l("New ship date"), validators=[InputRequired()])
    reason = SelectField(
        _l("Reason"),
        choices=[SelectChoice("", _l("Choose…"))]
        + [SelectChoice(key, label) for key, label in CHANGE_REASONS.items()],
        validators=[InputRequired(message=_l("Choose the reason for the change."))],
    )
    text = StringField(
        _l("Explanation"),
        validators=[Optional(), Length(max=500)],
        description=_l("Required for “Other”."),
    )


class ShipForm(FlaskForm):
    shipped_on = DateField(_l("Ship date"), validators=[InputRequired()])
    carrier = StringField(_l("Carrier"), validators=[Optional(), Length(max=80)])
    tracking = StringField(_l("Tracking reference"), validators=[Optional(), Length(max=100)])


class CorrectShipmentForm(ShipForm):
    reason = StringField(
        _l("Reason for the correction"), validators=[InputRequired(), Length(max=500)]
    )


class DeliverForm(FlaskForm):
    delivered_on = DateField(_l("Delivered on"), validators=[InputRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            Length(max=1000, message=_l("Field cannot be longer than %(max)d characters.")),
        ],
        render_kw={"rows": 2},
    )


class AnswerForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment to the buyer"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Required when declining."),
        render_kw={"rows": 2},
    )
