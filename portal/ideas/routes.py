"""Design suggestions: the customer's list and form, the engineers' queue, one
suggestion with its thread."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal import days
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import CUSTOMER_ROLES
from portal.attachments.service import ACCEPTED
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import day
from portal.htmx import is_htmx, render_fragment, render_page
from portal.markdown import render as render_markdown
from portal.params import database_int
from portal.security import requires

from . import service
from .forms import (
    AssignForm,
    FollowForm,
    IdeaForm,
    MergeForm,
    PostForm,
    ProposalAnswerForm,
    StatusForm,
)
from .models import STATUSES, Idea

bp = Blueprint("ideas", __name__)

IDEA_USERS = (*CUSTOMER_ROLES, *service.VENDOR_VIEWERS)


def _idea_or_404(idea_id: int) -> Idea:
    try:
        return service.idea_for(current_user, idea_id)
    except NotFound:
        abort(404)


@bp.get("/ideas")
@requires(*IDEA_USERS)
def index():
    """A customer's suggestions; for engineers, the queue ordered by the promised answer."""
    is_engineer = current_user.has_role(*service.ENGINEERS)
    view = request.args.get("view", "queue" if is_engineer else "all")
    filters = service.IdeaFilter(
        status=request.args.get("status", ""),
        q=request.args.get("q", "")[:100],
        queue=view == "queue" and current_user.is_vendor_staff,
        following=view == "following",
    )
    found, total = service.ideas(current_user, filters)
    return render_page(
        "ideas/index.html",
        "results",
        ideas=found,
        total=total,
        filters=filters,
        view=view,
        statuses=STATUSES,
    )


def _idea_form(form: IdeaForm) -> IdeaForm:
    if current_user.is_vendor_staff:
        accounts = db.session.scalars(
            select(CustomerAccount)
            .where(CustomerAccount.status == "active")
            .order_by(CustomerAccount.name)
        )
        form.account_id.choices = [SelectChoice("", _("Choose a customer…"))] + [
            SelectChoice(a.id, a.name) for a in accounts
        ]
    else:
        del form.account_id
    return form


def _save(form: IdeaForm, idea: Idea | None):
    return service.save_draft(
        current_user,
        idea,
        title=form.title.data or "",
        body=form.body.data or "",
        category=form.category.data,
        expected_saving=form.expected_saving.data,
        expected_benefit=form.expected_benefit.data or "",
        skus=form.skus.data or "",
        account_id=form.account_id.data if form.account_id else None,
        files=request.files.getlist("files"),
    )


@bp.route("/ideas/new", methods=["GET", "POST"])
@requires(*CUSTOMER_ROLES, *service.ENGINEERS)
def new():
    """Write a suggestion (or, as an engineer, a proposal to a customer) as a draft."""
    form = _idea_form(IdeaForm())
    if form.validate_on_submit():
        try:
            idea = _save(form, None)
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Draft saved. Send it when it is ready."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return render_page(
        "ideas/form.html",
        "form",
        form=form,
        idea=None,
        accepted_files=ACCEPTED,
        status=422 if form.errors else 200,
    )


@bp.route("/ideas/<int:idea_id>/edit", methods=["GET", "POST"])
@requires(*CUSTOMER_ROLES, *service.ENGINEERS)
def edit(idea_id: int):
    idea = _idea_or_404(idea_id)
    if idea.status != "draft" or idea.created_by_id != current_user.id:
        flash(_("Only the author can change a draft, and only until it is sent."), "error")
        return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    form = _idea_form(IdeaForm(obj=idea))
    if request.method == "GET":
        form.skus.data = "\n".join(p.sku for p in idea.products)
        form.expected_saving.data = str(idea.expected_saving or "")
    if form.validate_on_submit():
        try:
            _save(form, idea)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return render_page(
        "ideas/form.html",
        "form",
        form=form,
        idea=idea,
        accepted_files=ACCEPTED,
        status=422 if form.errors else 200,
    )


@bp.post("/ideas/preview")
@requires(*IDEA_USERS)
def preview():
    """The Markdown of a form field as it will look (htmx)."""
    return render_fragment(
        "ideas/form.html", "preview", html=render_markdown(request.form.get("body", "")[:20_000])
    )


@bp.get("/ideas/products")
@requires(*CUSTOMER_ROLES, *service.ENGINEERS)
def products():
    """Products to link while typing (htmx): SKU prefix first, then words of the name."""
    from portal.catalog import service as catalog

    typed = request.args.get("sku", "").strip()[:64]
    return render_fragment(
        "ideas/form.html",
        "product_options",
        products=catalog.suggest(typed) if len(typed) >= 2 else [],
    )


@bp.post("/ideas/<int:idea_id>/submit")
@requires(*CUSTOMER_ROLES, *service.ENGINEERS)
def submit(idea_id: int):
    idea = _idea_or_404(idea_id)
    try:
        # The answer is promised in working days of the customer's calendar.
        service.submit(current_user, idea, days.account_today(idea.account))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        if idea.direction == "customer":
            flash(
                _(
                    "Sent. The engineers promise a first answer by %(date)s.",
                    date=day(idea.answer_due_on),
                ),
                "success",
            )
        else:
            flash(_("Proposed to %(account)s.", account=idea.account.name), "success")
    return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)


@bp.get("/ideas/measures")
@requires(*IDEA_USERS)
def measures():
    """How fast and how well the vendor answers suggestions: per account and per
    engineer for vendor staff; a customer sees its own account's figures."""
    from datetime import timedelta

    from .measures import measures_for

    # The period is the reader's side's days: a customer's account's, the vendor's for
    # staff (a list over every account); each promise is judged on its account's day.
    now = utcnow()
    where = days.user_zone(current_user)
    today = days.day_in(where, now)
    months = request.args.get("months", 12, type=database_int)
    months = months if 1 <= months <= 36 else 12
    start = today - timedelta(days=round(months * 30.44))
    report = measures_for(service.visible_ideas(current_user), start, today, now, where=where)
    return render_page(
        "ideas/measures.html",
        "results",
        report=report,
        months=months,
        start=start,
        today=today,
        zone_note=days.zone_note(where),
    )


@bp.get("/ideas/<int:idea_id>")
@requires(*IDEA_USERS)
def detail(idea_id: int):
    idea = _idea_or_404(idea_id)
    return _render_detail(idea)


THREAD_PAGE = 100


def _merge_form(idea: Idea, form: MergeForm | None = None) -> MergeForm:
    form = form or MergeForm()
    form.into_id.choices = [SelectChoice("", "Choose the suggestion it repeats…")] + [
        SelectChoice(other.id, f"{other.reference} {other.title} ({other.status_label})")
        for other in service.merge_candidates(current_user, idea)
    ]
    return form


def _render_detail(
    idea: Idea, *, post_form=None, status_form=None, answer_form=None, merge_form=None, code=200
):
    everything = request.args.get("thread") == "all"
    messages, thread_total = service.thread(
        current_user, idea, latest=None if everything else THREAD_PAGE
    )
    status_form = status_form or StatusForm()
    status_form.status.choices = [
        SelectChoice(s, STATUSES[s]) for s in service.TRANSITIONS.get(idea.status, ())
    ]
    assign_form = AssignForm(assignee_id=idea.assignee_id)
    assign_form.assignee_id.choices = [SelectChoice("", _("Nobody yet"))] + [
        SelectChoice(e.id, e.name) for e in service.engineers()
    ]
    own_files, message_files = service.files_of(current_user, idea, messages)
    is_engineer = current_user.has_role(*service.ENGINEERS)
    may_merge = is_engineer and idea.direction == "customer" and idea.status in service.MERGEABLE
    return render_page(
        "ideas/detail.html",
        "content",
        status=code,
        idea=idea,
        own_files=own_files,
        message_files=message_files,
        accepted_files=ACCEPTED,
        messages=messages,
        thread_total=thread_total,
        events=service.events(idea) if current_user.is_vendor_staff else [],
        post_form=post_form or PostForm(),
        status_form=status_form,
        assign_form=assign_form,
        answer_form=answer_form or ProposalAnswerForm(),
        merge_form=_merge_form(idea, merge_form) if may_merge else None,
        merged_here=service.merged_here(current_user, idea),
        following=service.is_following(current_user, idea),
        follower_count=service.follower_count(idea),
        follow_form=FollowForm(),
        is_engineer=is_engineer,
        today=days.user_today(current_user),
        statuses=STATUSES,
        event_kinds=EVENT_KINDS,
    )


# The history's other events, in the reader's words.
EVENT_KINDS = {"drafted": _l("Drafted"), "submitted": _l("Sent")}


@bp.post("/ideas/<int:idea_id>/messages")
@requires(*IDEA_USERS)
def post_message(idea_id: int):
    idea = _idea_or_404(idea_id)
    form = PostForm()
    if not current_user.is_vendor_staff:
        form.kind.data = "message"
    if form.validate_on_submit():
        try:
            service.post(
                current_user,
                idea,
                body=form.body.data or "",
                kind=form.kind.data,
                files=request.files.getlist("files"),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Posted."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor="thread"), code=303)
    return _render_detail(idea, post_form=form, code=422)


@bp.post("/ideas/<int:idea_id>/status")
@requires(*service.ENGINEERS)
def change_status(idea_id: int):
    idea = _idea_or_404(idea_id)
    form = StatusForm()
    form.status.choices = [SelectChoice(s, STATUSES[s]) for s in STATUSES]
    if form.validate_on_submit():
        try:
            service.change_status(
                current_user,
                idea,
                form.status.data,
                reason=form.reason.data or "",
                realised_saving=form.realised_saving.data,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _(
                    "%(reference)s is now %(status_label)s.",
                    reference=idea.reference,
                    status_label=idea.status_label.lower(),
                ),
                "success",
            )
            return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return _render_detail(idea, status_form=form, code=422)


@bp.post("/ideas/<int:idea_id>/assign")
@requires(*service.ENGINEERS)
def assign(idea_id: int):
    idea = _idea_or_404(idea_id)
    form = AssignForm()
    form.assignee_id.choices = [SelectChoice("", _("Nobody yet"))] + [
        SelectChoice(e.id, e.name) for e in service.engineers()
    ]
    if not form.validate_on_submit():
        flash(_("Choose one of the vendor's engineers."), "error")
    else:
        try:
            service.assign(current_user, idea, form.assignee_id.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("Assigned."), "success")
    return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)


@bp.post("/ideas/<int:idea_id>/answer")
@requires(*CUSTOMER_ROLES)
def answer_proposal(idea_id: int):
    """The customer accepts or declines an engineer's proposal."""
    idea = _idea_or_404(idea_id)
    form = ProposalAnswerForm()
    if form.validate_on_submit():
        accept = request.form.get("decision") == "accept"
        try:
            service.respond_to_proposal(
                current_user, idea, accept=accept, comment=form.comment.data or ""
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Thank you: the engineers have been told."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return _render_detail(idea, answer_form=form, code=422)


@bp.post("/ideas/<int:idea_id>/follow")
@requires(*IDEA_USERS)
def follow(idea_id: int):
    """Follow or stop following (`follow` = "1" or "0"); htmx swaps the button."""
    idea = _idea_or_404(idea_id)
    if not FollowForm().validate_on_submit():
        abort(400)
    try:
        if request.form.get("follow") == "1":
            service.follow(current_user, idea)
        else:
            service.unfollow(current_user, idea)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    if not is_htmx():
        following = service.is_following(current_user, idea)
        flash(
            _("You follow this suggestion.") if following else _("You no longer follow it."),
            "success",
        )
        return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return render_fragment(
        "ideas/detail.html",
        "follow",
        idea=idea,
        following=service.is_following(current_user, idea),
        follower_count=service.follower_count(idea),
        follow_form=FollowForm(),
    )


@bp.post("/ideas/<int:idea_id>/merge")
@requires(*service.ENGINEERS)
def merge(idea_id: int):
    """Merge a duplicate into another suggestion of the same customer."""
    idea = _idea_or_404(idea_id)
    form = _merge_form(idea)
    if form.validate_on_submit():
        try:
            target = service.merge(
                current_user, idea, form.into_id.data, comment=form.comment.data or ""
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _(
                    "%(reference)s is merged into %(reference2)s.",
                    reference=idea.reference,
                    reference2=target.reference,
                ),
                "success",
            )
            return redirect(url_for("ideas.detail", idea_id=target.id), code=303)
    return _render_detail(idea, merge_form=form, code=422)
