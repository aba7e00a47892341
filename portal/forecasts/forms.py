"""Forms of the forecast pages (CSRF is global; the services check the values)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.forms import PortalForm

from .models import MAX_HORIZON_MONTHS

TOO_LONG = _l("Field cannot be longer than %(max)d characters.")


class AddProductForm(PortalForm):
    sku = StringField(
        _l("Add a product by SKU"),
        validators=[Optional(), Length(max=64, message=TOO_LONG)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class PublishForm(PortalForm):
    comment = TextAreaField(
        _l("Comment for the vendor"),
        validators=[Optional(), Length(max=2000, message=TOO_LONG)],
        description=_l("Optional: what changed and why (a new project, a plant shutdown …)."),
        render_kw={"rows": 2},
    )


class UploadForm(PortalForm):
    file = FileField(
        _l("Forecast file"),
        description=_l("CSV or XLSX, wide or long layout as in the templates; at most 5 MB."),
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )


class HorizonForm(PortalForm):
    horizon_months = SelectField(
        _l("Months ahead"),
        choices=[
            SelectChoice(str(n), _l("%(num)s months", num=n))
            for n in range(1, MAX_HORIZON_MONTHS + 1)
        ],
    )
