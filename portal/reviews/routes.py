"""The vendor's scorecard for the customer, the customer's rating, relationship reviews."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import days
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import CUSTOMER_ROLES, VENDOR_ROLES, Role
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.htmx import render_page
from portal.params import optional_database_int
from portal.security import requires

from . import figures, ratings, reviews, scorecard
from .forms import AssessmentForm, CommentForm, NewReviewForm, RatingForm, ShareForm
from .models import RelationshipReview

bp = Blueprint("reviews", __name__)

REVIEWERS = (Role.ACCOUNT_MANAGER, Role.ADMIN)


def _today() -> date:
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


# --- the scorecard --------------------------------------------------------------------------


def _scorecard_page(account: CustomerAccount, rating_form: RatingForm | None = None, status=200):
    # The account's day, also for vendor staff: they see the scorecard as its users do.
    now = utcnow()
    today = days.account_today(account, now)
    card = scorecard.scorecard(account, today, now)
    own = not current_user.is_vendor_staff
    return render_page(
        "reviews/scorecard.html",
        "rating",
        status=status,
        card=card,
        account=account,
        latest_review=reviews.latest_shared(account.id),
        latest_rating=ratings.latest_ratings([account.id]).get(account.id),
        ask=own and ratings.should_ask(current_user, today),
        rating_form=rating_form or RatingForm(),
        quarter=reviews.quarter_label(*reviews.quarter_of(today)),
        own=own,
        zone_note=days.zone_note(days.account_zone(account)),
    )


@bp.get("/scorecard")
@requires(*CUSTOMER_ROLES)
def own_scorecard():
    """How the vendor is doing for the customer's own account."""
    return _scorecard_page(current_user.account)


@bp.get("/accounts/<int:account_id>/scorecard")
@requires(*VENDOR_ROLES)
def account_scorecard(account_id: int):
    """Any account's scorecard exactly as its customer sees it (vendor staff)."""
    account = db.session.get(CustomerAccount, account_id)
    if account is None:
        abort(404)
    return _scorecard_page(account)


@bp.post("/scorecard/rating")
@requires(*CUSTOMER_ROLES)
def rate():
    """The customer rates the relationship (1–5, a comment)."""
    form = RatingForm()
    if form.validate_on_submit():
        try:
            ratings.rate(current_user, form.score.data, form.comment.data)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            db.session.commit()
            flash(_("Thank you: your rating reached us."), "success")
            return redirect(url_for("reviews.own_scorecard"), code=303)
    return _scorecard_page(current_user.account, form, status=422)


# --- reviews --------------------------------------------------------------------------------


def _review_or_404(review_id: int) -> RelationshipReview:
    try:
        return reviews.review_for(current_user, review_id)
    except NotFound:
        abort(404)


@bp.get("/reviews")
@requires(*REVIEWERS, *CUSTOMER_ROLES)
def index():
    """Reviews: the vendor's of the accounts they keep, with those due; a customer's shared."""
    today = _today()
    due = []
    if current_user.is_vendor_staff:
        mine = list(db.session.scalars(reviews.managed_accounts(current_user)))
        due = reviews.due_reviews(today, mine)
    return render_page(
        "reviews/index.html",
        "content",
        found=reviews.reviews_of(current_user),
        due=due,
        label=reviews.quarter_label,
    )


def _account_choices() -> list:
    accounts = db.session.scalars(
        select(CustomerAccount)
        .where(CustomerAccount.id.in_(reviews.managed_accounts(current_user)))
        .order_by(CustomerAccount.name)
    )
    return [("", _("Choose an account"))] + [(str(a.id), a.name) for a in accounts]


@bp.route("/reviews/new", methods=["GET", "POST"])
@requires(*REVIEWERS)
def new():
    """Generate a review of an account for a quarter (the last complete one by default)."""
    today = _today()
    form = NewReviewForm()
    form.account.choices = _account_choices()
    if request.method == "GET":
        start, end = reviews.last_complete_quarter(today)
        form.account.data = str(request.args.get("account", type=optional_database_int) or "")
        form.start.data = request.args.get("start", start.isoformat())[:10]
        form.end.data = request.args.get("end", end.isoformat())[:10]
    elif form.validate_on_submit():
        try:
            start, end = reviews.parse_period(form.start.data, form.end.data, today)
            review = reviews.create(
                current_user, optional_database_int(form.account.data), start, end
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            db.session.commit()
            flash(_("The review is ready: write the assessment below the figures."), "success")
            return redirect(url_for("reviews.detail", review_id=review.id), code=303)
    return render_page(
        "reviews/new.html", "form", form=form, status=422 if request.method == "POST" else 200
    )


def _detail_page(review, *, assessment=None, comment_form=None, status=200):
    # The review's period and what is judged in it are the account's days, whoever reads.
    now = utcnow()
    today = days.account_today(review.account, now)
    if assessment is None and current_user.is_vendor_staff:
        assessment = AssessmentForm(obj=review)
    found = figures.review_figures(current_user, review, today, now)
    return render_page(
        "reviews/review.html",
        "assessment",
        status=status,
        review=review,
        figures=found,
        charts=figures.review_charts(review, found.current, current_user.is_vendor_staff),
        label=reviews.quarter_label(review.period_start, review.period_end),
        assessment=assessment,
        share_form=ShareForm(),
        comment_form=comment_form or CommentForm(),
        vendor_view=current_user.is_vendor_staff,
        printed=now,
        zone_note=days.zone_note(days.account_zone(review.account)),
    )


@bp.get("/reviews/<int:review_id>")
@requires(*REVIEWERS, *CUSTOMER_ROLES)
def detail(review_id: int):
    """One review, printable: the period's figures, the assessment, the customer's comments."""
    return _detail_page(_review_or_404(review_id))


@bp.post("/reviews/<int:review_id>/assessment")
@requires(*REVIEWERS)
def assess(review_id: int):
    """The account manager writes (or corrects) the assessment."""
    review = _review_or_404(review_id)
    form = AssessmentForm()
    if form.validate_on_submit():
        try:
            reviews.assess(
                current_user,
                review,
                trend=form.trend.data,
                neglected=form.neglected.data,
                comparison=form.comparison.data,
                actions=form.actions.data,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            db.session.commit()
            flash(_("Assessment saved."), "success")
            return redirect(url_for("reviews.detail", review_id=review.id), code=303)
    return _detail_page(review, assessment=form, status=422)


@bp.post("/reviews/<int:review_id>/share")
@requires(*REVIEWERS)
def share(review_id: int):
    """Share the review with the customer, whose users are told."""
    review = _review_or_404(review_id)
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reviews.share(current_user, review)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _("Shared with %(account)s; its users have been told.", account=review.account.name),
            "success",
        )
    return redirect(url_for("reviews.detail", review_id=review.id), code=303)


@bp.post("/reviews/<int:review_id>/comments")
@requires(*CUSTOMER_ROLES)
def comment(review_id: int):
    """The customer comments on a review shared with it."""
    review = _review_or_404(review_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            reviews.comment(current_user, review, form.body.data)
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            db.session.commit()
            flash(
                _(
                    "Comment sent; %(vendor_name)s has been told.",
                    vendor_name=current_app.config["VENDOR_NAME"],
                ),
                "success",
            )
            return redirect(url_for("reviews.detail", review_id=review.id), code=303)
    return _detail_page(review, comment_form=form, status=422)
