"""Forms of the scorecard's rating, a review's period, assessment and the customer's comment.

The fields are read as text and checked by the service functions (one place for
the rules, the same for every door); the forms carry CSRF and show the errors."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField

from portal.forms import PortalForm

from .models import TRENDS

SCORES = [
    SelectChoice("5", _l("5 — excellent")),
    SelectChoice("4", _l("4 — good")),
    SelectChoice("3", _l("3 — acceptable")),
    SelectChoice("2", _l("2 — poor")),
    SelectChoice("1", _l("1 — very poor")),
]


class RatingForm(PortalForm):
    score = RadioField(
        _l("How is the relationship with us going?"), choices=SCORES, validate_choice=False
    )
    comment = TextAreaField(
        _l("Comment"),
        description=_l("Optional: what works, what does not, what we should change."),
        render_kw={"rows": 3, "maxlength": 2000},
    )


class NewReviewForm(PortalForm):
    account = SelectField(_l("Account"), validate_choice=False)
    start = StringField(_l("First day"), render_kw={"type": "date"})
    end = StringField(_l("Last day"), render_kw={"type": "date"})


class AssessmentForm(PortalForm):
    trend = RadioField(
        _l("The relationship is"),
        choices=[SelectChoice(k, v) for k, v in TRENDS.items()],
        validate_choice=False,
    )
    neglected = TextAreaField(
        _l("What was neglected"),
        render_kw={"rows": 3},
        description=_l("What matters to the customer and got too little attention."),
    )
    comparison = TextAreaField(
        _l("How the customer says we compare with other suppliers"), render_kw={"rows": 3}
    )
    actions = TextAreaField(
        _l("Agreed actions"), render_kw={"rows": 4}, description=_l("Who does what by when.")
    )


class ShareForm(PortalForm):
    pass


class CommentForm(PortalForm):
    body = TextAreaField(_l("Your comment"), render_kw={"rows": 3, "maxlength": 3000})
