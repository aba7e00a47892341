"""Forms of the equipment area: a product's equipment terms, a unit's status and
installation, its documents, and the import of units sold before the portal."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.forms import PortalForm

from .models import UNIT_STATUSES


class SpecForm(PortalForm):
    is_equipment = BooleanField(
        _l("This product is equipment"),
        description=_l(
            "Each unit shipped gets a serial number and becomes a record at the customer's site."
        ),
    )
    warranty_months = IntegerField(
        _l("Warranty (months)"),
        validators=[Optional(), NumberRange(min=0, max=600)],
        default=12,
        description=_l("From installation, or from delivery until installation is recorded."),
    )
    interval_months = IntegerField(
        _l("Maintenance every (months)"),
        validators=[Optional(), NumberRange(min=1, max=240)],
        description=_l("Leave empty for no maintenance plan."),
    )
    labour_hours = DecimalField(
        _l("Labour per visit (hours)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    labour_rate = DecimalField(
        _l("Labour rate (per hour)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100000)],
    )
    kit = TextAreaField(
        _l("Parts kit per visit"),
        validators=[Optional()],
        description=_l("One part per line: SKU, quantity (e.g. “SEAL-100, 2”)."),
        render_kw={"rows": 4, "spellcheck": "false"},
    )
    consumables = TextAreaField(
        _l("Consumables per year"),
        validators=[Optional()],
        description=_l(
            "One per line: SKU, quantity per year (fractions allowed, e.g. “FLT-10, 0.5”)."
        ),
        render_kw={"rows": 3, "spellcheck": "false"},
    )


class UnitForm(PortalForm):
    status = SelectField(
        _l("Status"), choices=[SelectChoice(k, v) for k, v in UNIT_STATUSES.items()]
    )
    installed_on = DateField(_l("Installed on"), validators=[Optional()])


class DocumentForm(PortalForm):
    internal = BooleanField(_l("Internal (vendor staff only)"))


class ImportForm(PortalForm):
    upload = FileField(
        _l("CSV or XLSX file"),
        validators=[InputRequired(message=_l("Choose a file."))],
        description=_l(
            "A header row naming sku, serial, account (number, e.g. C-10001), site "
            "(the label of one of the account's shipping addresses); optional installed_on, "
            "delivered_on (YYYY-MM-DD) and status (in_service, under_repair, retired)."
        ),
    )


class OwnershipTermsForm(PortalForm):
    """A customer admin's terms for the cost of ownership shown to the account."""

    years = IntegerField(
        _l("Period (years)"),
        validators=[
            InputRequired(message=_l("Enter the number of years.")),
            NumberRange(min=1, max=15, message=_l("Choose 1 to 15 years.")),
        ],
        default=5,
        description=_l("The cost of ownership is shown over this many years."),
    )
    delay_day_cost = DecimalField(
        _l("Cost of a day's delay"),
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0, max=10**9, message=_l("Enter an amount of 0 or more.")),
        ],
        description=_l(
            "What one day of a late delivery costs your business. Leave empty if unknown."
        ),
    )
    defect_cost = DecimalField(
        _l("Cost of a defective part"),
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0, max=10**9, message=_l("Enter an amount of 0 or more.")),
        ],
        description=_l(
            "What one defective part costs your business (sorting, downtime, "
            "replacement). Leave empty if unknown."
        ),
    )
