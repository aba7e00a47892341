"""The form that creates an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.accounts.forms import MultiCheckboxField
from portal.forms import PortalForm

from .models import SCOPES
from .tokens import MAX_DAYS


class ScopeLabel:
    """A scope's checkbox label: its name, a code the API reads (never translated),
    and what it allows in the reader's language (written when the page is)."""

    def __init__(self, scope: str, label) -> None:
        self.scope, self.label = scope, label

    def __html__(self) -> str:
        return Markup('<code translate="no">{}</code> — {}').format(self.scope, self.label)

    def __str__(self) -> str:
        return f"{self.scope} — {self.label}"


class TokenForm(PortalForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What uses it, e.g. “ERP nightly sync”."),
    )
    user_id = SelectField(
        _l("Acts as"),
        coerce=int,
        description=_l("The token can do what this user can do, no more."),
    )
    scopes = MultiCheckboxField(
        _l("Scopes"),
        choices=[SelectChoice(scope, ScopeLabel(scope, label)) for scope, label in SCOPES.items()],
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    days = IntegerField(
        _l("Expires after (days)"),
        default=90,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_DAYS)],
        description=_l("At most %(num)s days; make a new token before it expires.", num=MAX_DAYS),
    )
