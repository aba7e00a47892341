"""Forms of the terminal. Quantities and SKUs of the pad and the paste are parsed by
quick_order.py, which reports every bad line with its number."""

import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm


class PasteForm(PortalForm):
    paste = TextAreaField(
        _l("Paste lines"),
        validators=[Optional(), Length(max=50_000)],
        description=_l(
            "One line per item: SKU and quantity, separated by a space, tab, "
            "comma or semicolon. A header row is fine."
        ),
        render_kw={"rows": 8, "spellcheck": "false"},
    )
    upload = FileField(
        _l("Or upload a CSV or XLSX file"),
        description=_l("The same columns: SKU, then quantity. At most 1 MB."),
        render_kw={
            "accept": ".csv,.txt,.xlsx,text/csv,"
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )


class DeliveryDateField(DateField):
    """A date field whose "not a date" message is in the reader's language: WTForms
    has no Indonesian catalogue of its own, so its built-in message is replaced."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Not a valid date: use the calendar or YYYY-MM-DD.")) from None


class CheckoutForm(PortalForm):
    po_number = StringField(
        _l("Your PO number"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=50, message=_l("Field cannot be longer than %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    ship_to_id = SelectField(
        _l("Deliver to"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose a delivery address."))],
    )
    requested_date = DeliveryDateField(
        _l("Requested delivery date"),
        validators=[Optional()],
        description=_l("Leave empty for as soon as possible."),
    )
    notes = TextAreaField(
        _l("Notes for the vendor"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Field cannot be longer than %(max)d characters.")),
        ],
        render_kw={"rows": 3},
    )
    # Generated when the form is first shown; a resubmission carries the same key.
    idempotency_key = HiddenField(default=lambda: secrets.token_urlsafe(24))


class DecisionForm(PortalForm):
    comment = TextAreaField(
        _l("Comment"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Field cannot be longer than %(max)d characters.")),
        ],
        description=_l("Required when rejecting; the buyer sees it."),
        render_kw={"rows": 2},
    )
