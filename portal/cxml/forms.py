"""The form a vendor admin keeps an account's cXML credentials with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm


class CredentialForm(PortalForm):
    domain = StringField(
        _l("Domain"),
        default="NetworkID",
        validators=[DataRequired(), Length(max=40)],
        description=_l("The Credential domain their documents use: NetworkID, DUNS, …"),
    )
    identity = StringField(
        _l("Identity"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Their From identity, e.g. ACME-PROC."),
    )
    shared_secret = PasswordField(
        _l("Shared secret"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
        description=_l(
            "At least 12 characters. Stored as a hash: it cannot be shown again. "
            "Leave empty to keep the current one."
        ),
    )
    acting_user_id = SelectField(
        _l("Orders are placed as"),
        coerce=int,
        description=_l(
            "A buyer of the account; cXML orders act as this user, and so do "
            "PunchOut sessions whose request names no buyer of the account (UserEmail or "
            "Contact). Best one kept for the purchasing system."
        ),
    )
    outbound_url = StringField(
        _l("Their cXML address"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "Where confirmations and ship notices are posted (http or https). Empty: none are sent."
        ),
    )
