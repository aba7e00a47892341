"""Forms of the forecast pages (CSRF is global; the services check the values)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from .models import MAX_HORIZON_MONTHS


class AddProductForm(FlaskForm):
    sku = StringField(
        "Add a product by SKU",
        validators=[Optional(), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class PublishForm(FlaskForm):
    comment = TextAreaField(
        "Comment for the vendor",
        validators=[Optional(), Length(max=2000)],
        description="Optional: what changed and why (a new project, a plant shutdown …).",
        render_kw={"rows": 2},
    )


class UploadForm(FlaskForm):
    file = FileField(
        "Forecast file",
        description="CSV or XLSX, wide or long layout as in the templates; at most 5 MB.",
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )


class HorizonForm(FlaskForm):
    horizon_months = SelectField(
        "Months ahead",
        choices=[SelectChoice(str(n), f"{n} months") for n in range(1, MAX_HORIZON_MONTHS + 1)],
    )
