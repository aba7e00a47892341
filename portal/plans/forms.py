"""Forms of the plans board: one plan form for publishing and revising, withdrawal."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.accounts.forms import MultiCheckboxField
from portal.forms import PortalForm

TOO_LONG = _l("Field cannot be longer than %(max)d characters.")

MARKDOWN_HINT = _l("Markdown: **bold**, *italic*, lists with -, links [text](https://…).")


class PlanForm(PortalForm):
    kind = SelectField(_l("Kind"))
    title = StringField(_l("Title"), validators=[Length(max=200, message=TOO_LONG)])
    effective_from = DateField(_l("Takes effect on"), validators=[Optional()])
    effective_to = DateField(
        _l("Until"),
        validators=[Optional()],
        description=_l("Leave empty when the change stays (a discontinuation, a new price)."),
    )
    body = TextAreaField(
        _l("What it means"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 8},
    )
    skus = TextAreaField(
        _l("Products it affects"),
        validators=[Optional(), Length(max=4000, message=TOO_LONG)],
        description=_l("SKUs, one per line or separated by commas."),
        render_kw={"rows": 2, "spellcheck": "false"},
    )
    visibility = RadioField(
        _l("Who sees it"),
        choices=[
            SelectChoice("all", _l("Every customer account")),
            SelectChoice("chosen", _l("Only the accounts chosen below")),
        ],
        default="all",
    )
    account_ids = MultiCheckboxField(_l("Accounts"), coerce=int, validators=[Optional()])
    change_note = StringField(
        _l("What changed"),
        validators=[Length(max=500, message=TOO_LONG)],
        description=_l("Readers see this in the plan's history and are asked to look again."),
    )


class WithdrawForm(PortalForm):
    reason = StringField(
        _l("Why it is withdrawn"),
        validators=[Length(max=500, message=TOO_LONG)],
        description=_l("Readers see this with the withdrawn plan."),
    )
