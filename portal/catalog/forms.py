"""Forms for keeping the catalog (vendor admin)."""

from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import PortalForm

MONEY = {"places": 2, "validators": [Optional(), NumberRange(min=0, max=10**9)]}


class ProductForm(PortalForm):
    sku = StringField(
        _l("SKU"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Letters, digits, dashes, dots, slashes and spaces."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    category = StringField(
        _l("Category"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("An existing category, or a new name to create one."),
        render_kw={"list": "category-names"},
    )
    unit = StringField(_l("Unit"), default="pc", validators=[DataRequired(), Length(max=10)])
    pack_size = IntegerField(_l("Pack size"), default=1, validators=[NumberRange(min=1, max=10**6)])
    min_order_qty = IntegerField(
        _l("Minimum order"), default=1, validators=[NumberRange(min=1, max=10**6)]
    )
    order_multiple = IntegerField(
        _l("Order multiple"), default=1, validators=[NumberRange(min=1, max=10**6)]
    )
    lead_time_days = IntegerField(
        _l("Lead time (days)"), default=14, validators=[NumberRange(min=0, max=730)]
    )
    # InputRequired, not DataRequired: "abc" must say "not a valid decimal", not "required".
    list_price = DecimalField(
        _l("List price"), places=2, validators=[InputRequired(), NumberRange(min=0, max=10**9)]
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("active", _l("Active")),
            SelectChoice("discontinued", _l("Discontinued")),
        ],
    )
    replacement_sku = StringField(
        _l("Replacement SKU"),
        validators=[Optional(), Length(max=64)],
        description=_l("For a discontinued product."),
    )
    yearly_service_cost = DecimalField(_l("Service per year"), **MONEY)
    yearly_consumables_cost = DecimalField(_l("Consumables per year"), **MONEY)
    on_hand = IntegerField(_l("On hand"), default=0, validators=[NumberRange(min=0, max=10**9)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4}
    )


OTHER_PRICE_FIELD = "list_price_{}"


@cache
def product_form_class(other_currencies: tuple[str, ...]) -> type[ProductForm]:
    """The product form with a list price field for each currency besides the base
    one (the CURRENCIES setting decides which, so the fields are added at run time)."""
    fields = {
        OTHER_PRICE_FIELD.format(currency): DecimalField(
            _l("List price in %(currency)s", currency=currency),
            places=None,
            validators=[Optional(), NumberRange(min=0, max=10**12)],
            description=_l(
                "Empty: accounts priced in %(currency)s cannot order it at list price.",
                currency=currency,
            ),
        )
        for currency in other_currencies
    }
    return type("ProductFormWithPrices", (ProductForm,), fields)


class ImportForm(PortalForm):
    kind = SelectField(
        _l("The file holds"),
        choices=[
            SelectChoice("products", _l("Products")),
            SelectChoice("prices", _l("Contract prices")),
        ],
        description=_l(
            "Products: sku is required; new products also need name, category and "
            "list_price; other columns: description, unit, pack_size, min_order_qty, "
            "order_multiple, lead_time_days, status, replacement_sku, yearly_service_cost, "
            "yearly_consumables_cost, on_hand, and list_price_idr (or another currency's "
            "code) for a list price in that currency. Contract prices: account_number, sku, "
            "min_quantity, unit_price, valid_from, valid_until (dates as YYYY-MM-DD) and "
            "optionally currency, which must be the account's."
        ),
    )
    upload = FileField(
        _l("File (CSV or XLSX, first row: column names)"), render_kw={"accept": ".csv,.xlsx"}
    )


class ContractPriceForm(PortalForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)])
    min_quantity = IntegerField(
        _l("From quantity"), default=1, validators=[DataRequired(), NumberRange(min=1, max=10**6)]
    )
    unit_price = DecimalField(
        _l("Unit price"), places=2, validators=[InputRequired(), NumberRange(min=0, max=10**9)]
    )
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(
        _l("Valid until"), validators=[Optional()], description=_l("Empty: until further notice.")
    )
