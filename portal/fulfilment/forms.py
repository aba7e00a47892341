"""Forms of the order desk. Per-line quantities and dates of the confirm, ship,
correct and deliver forms are named `<what>-<id>` and read by `routes.per_line`."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm

from .models import CHANGE_REASONS


class DeskForm(PortalForm):
    """The CSRF token, for forms whose fields are one per line."""


class PromiseChangeForm(PortalForm):
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


class ShipForm(PortalForm):
    shipped_on = DateField(_l("Ship date"), validators=[InputRequired()])
    carrier = StringField(_l("Carrier"), validators=[Optional(), Length(max=80)])
    tracking = StringField(_l("Tracking reference"), validators=[Optional(), Length(max=100)])


class CorrectShipmentForm(ShipForm):
    reason = StringField(
        _l("Reason for the correction"), validators=[InputRequired(), Length(max=500)]
    )


class DeliverForm(PortalForm):
    delivered_on = DateField(_l("Delivered on"), validators=[InputRequired()])


class ReasonForm(PortalForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            Length(max=1000, message=_l("Field cannot be longer than %(max)d characters.")),
        ],
        render_kw={"rows": 2},
    )


class AnswerForm(PortalForm):
    comment = TextAreaField(
        _l("Comment to the buyer"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Required when declining."),
        render_kw={"rows": 2},
    )
