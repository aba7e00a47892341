"""Forms of the plans board: one plan form for publishing and revising, withdrawal."""

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.accounts.forms import MultiCheckboxField

MARKDOWN_HINT = "Markdown: **bold**, *italic*, lists with -, links [text](https://…)."


class PlanForm(FlaskForm):
    kind = SelectField("Kind")
    title = StringField("Title", validators=[Length(max=200)])
    effective_from = DateField("Takes effect on", validators=[Optional()])
    effective_to = DateField(
        "Until",
        validators=[Optional()],
        description="Leave empty when the change stays (a discontinuation, a new price).",
    )
    body = TextAreaField(
        "What it means",
        validators=[Optional(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 8},
    )
    skus = TextAreaField(
        "Products it affects",
        validators=[Optional(), Length(max=4000)],
        description="SKUs, one per line or separated by commas.",
        render_kw={"rows": 2, "spellcheck": "false"},
    )
    visibility = RadioField(
        "Who sees it",
        choices=[
            SelectChoice("all", "Every customer account"),
            SelectChoice("chosen", "Only the accounts chosen below"),
        ],
        default="all",
    )
    account_ids = MultiCheckboxField("Accounts", coerce=int, validators=[Optional()])
    change_note = StringField(
        "What changed",
        validators=[Length(max=500)],
        description="Readers see this in the plan's history and are asked to look again.",
    )


class WithdrawForm(FlaskForm):
    reason = StringField(
        "Why it is withdrawn",
        validators=[Length(max=500)],
        description="Readers see this with the withdrawn plan.",
    )
