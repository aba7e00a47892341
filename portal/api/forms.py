"""The form that creates an API token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.accounts.forms import MultiCheckboxField

from .models import SCOPES
from .tokens import MAX_DAYS


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=100)],
        description="What uses it, e.g. “ERP nightly sync”.",
    )
    user_id = SelectField(
        "Acts as", coerce=int, description="The token can do what this user can do, no more."
    )
    scopes = MultiCheckboxField(
        "Scopes",
        choices=[SelectChoice(scope, f"{scope} — {label}") for scope, label in SCOPES.items()],
        validators=[DataRequired(message="Choose at least one scope.")],
    )
    days = IntegerField(
        "Expires after (days)",
        default=90,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_DAYS)],
        description=f"At most {MAX_DAYS} days; make a new token before it expires.",
    )
