"""Forms for suggestions and their threads."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm

from .models import CATEGORIES

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Field cannot be longer than %(max)d characters.")

MARKDOWN_HINT = _l("Markdown: **bold**, *italic*, lists with -, links [text](https://…).")


class IdeaForm(PortalForm):
    account_id = SelectField(
        _l("Propose to"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    title = StringField(
        _l("Title"), validators=[InputRequired(message=REQUIRED), Length(max=200, message=TOO_LONG)]
    )
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(key, label) for key, label in CATEGORIES.items()],
    )
    body = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 10},
    )
    skus = TextAreaField(
        _l("Products it concerns"),
        validators=[Optional(), Length(max=4000, message=TOO_LONG)],
        description=_l("SKUs, one per line or separated by commas."),
        render_kw={"rows": 2, "spellcheck": "false"},
    )
    expected_saving = StringField(
        _l("Expected saving per year"),
        validators=[Optional(), Length(max=30, message=TOO_LONG)],
        description=_l("An estimate in your currency, if you have one."),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    expected_benefit = TextAreaField(
        _l("Other benefits"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=_l("Quality, lead time, safety …"),
        render_kw={"rows": 3},
    )


class PostForm(PortalForm):
    kind = SelectField(
        _l("Post as"),
        choices=[
            SelectChoice("answer", _l("Answer to the customer")),
            SelectChoice("question", _l("Question to the customer")),
            SelectChoice("message", _l("Message to the customer")),
            SelectChoice("note", _l("Internal note (vendor staff only)")),
        ],
        default="answer",
    )
    body = TextAreaField(
        _l("Your message"),
        validators=[InputRequired(message=REQUIRED), Length(max=20_000, message=TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 5},
    )


class StatusForm(PortalForm):
    status = SelectField(_l("New status"))
    reason = TextAreaField(
        _l("Reason or comment to the customer"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=_l("Required when declining."),
        render_kw={"rows": 3},
    )
    realised_saving = StringField(
        _l("Realised saving per year"),
        validators=[Optional(), Length(max=30, message=TOO_LONG)],
        description=_l("When implemented, if known."),
        render_kw={"inputmode": "decimal"},
    )


class AssignForm(PortalForm):
    assignee_id = SelectField(
        _l("Engineer in charge"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )


class ProposalAnswerForm(PortalForm):
    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        render_kw={"rows": 3},
    )


class MergeForm(PortalForm):
    into_id = SelectField(
        _l("Merge into"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    comment = TextAreaField(
        _l("Comment to the customer"),
        validators=[Optional(), Length(max=20_000, message=TOO_LONG)],
        description=_l("Optional: why these are the same idea."),
        render_kw={"rows": 2},
    )


class FollowForm(PortalForm):
    """Follow or stop following: only the CSRF token and a button."""
