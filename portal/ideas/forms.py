"""Forms for suggestions and their threads."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .models import CATEGORIES

MARKDOWN_HINT = "Markdown: **bold**, *italic*, lists with -, links [text](https://…)."


class IdeaForm(FlaskForm):
    account_id = SelectField(
        "Propose to", coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    category = SelectField(
        "Category",
        choices=[SelectChoice(key, label) for key, label in CATEGORIES.items()],
    )
    body = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 10},
    )
    skus = TextAreaField(
        "Products it concerns",
        validators=[Optional(), Length(max=4000)],
        description="SKUs, one per line or separated by commas.",
        render_kw={"rows": 2, "spellcheck": "false"},
    )
    expected_saving = StringField(
        "Expected saving per year",
        validators=[Optional(), Length(max=30)],
        description="An estimate in your currency, if you have one.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    expected_benefit = TextAreaField(
        "Other benefits",
        validators=[Optional(), Length(max=20_000)],
        description="Quality, lead time, safety …",
        render_kw={"rows": 3},
    )


class PostForm(FlaskForm):
    kind = SelectField(
        "Post as",
        choices=[
            SelectChoice("answer", "Answer to the customer"),
            SelectChoice("question", "Question to the customer"),
            SelectChoice("message", "Message to the customer"),
            SelectChoice("note", "Internal note (vendor staff only)"),
        ],
        default="answer",
    )
    body = TextAreaField(
        "Your message",
        validators=[InputRequired(), Length(max=20_000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 5},
    )


class StatusForm(FlaskForm):
    status = SelectField("New status")
    reason = TextAreaField(
        "Reason or comment to the customer",
        validators=[Optional(), Length(max=20_000)],
        description="Required when declining.",
        render_kw={"rows": 3},
    )
    realised_saving = StringField(
        "Realised saving per year",
        validators=[Optional(), Length(max=30)],
        description="When implemented, if known.",
        render_kw={"inputmode": "decimal"},
    )


class AssignForm(FlaskForm):
    assignee_id = SelectField(
        "Engineer in charge", coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )


class ProposalAnswerForm(FlaskForm):
    comment = TextAreaField(
        "Comment", validators=[Optional(), Length(max=20_000)], render_kw={"rows": 3}
    )


class MergeForm(FlaskForm):
    into_id = SelectField(
        "Merge into", coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    comment = TextAreaField(
        "Comment to the customer",
        validators=[Optional(), Length(max=20_000)],
        description="Optional: why these are the same idea.",
        render_kw={"rows": 2},
    )


class FollowForm(FlaskForm):
    """Follow or stop following: only the CSRF token and a button."""
