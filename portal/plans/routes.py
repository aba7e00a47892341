"""The shared plans board: the timeline, publishing and revising a plan, one plan
with its history and readers, acknowledging ("seen") and withdrawing."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from portal import days
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.htmx import is_htmx, render_fragment, render_page
from portal.markdown import render as render_markdown
from portal.security import requires

from . import service
from .forms import PlanForm, WithdrawForm
from .models import KINDS, Plan, kinds_for

bp = Blueprint("plans", __name__)


def _today() -> date:
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


def _plan_or_404(plan_id: int) -> Plan:
    try:
        return service.plan_for(current_user, plan_id)
    except NotFound:
        abort(404)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


@bp.get("/plans")
def index():
    """The board: the plans the viewer may see, month by month as they take effect."""
    filters = service.BoardFilter(
        when=request.args.get("when", "upcoming")
        if request.args.get("when") in ("upcoming", "past", "all")
        else "upcoming",
        kind=request.args.get("kind", ""),
        sku=request.args.get("sku", "")[:64],
        side=request.args.get("side", ""),
        start=_date_arg("start"),
        end=_date_arg("end"),
        withdrawn=request.args.get("withdrawn") == "1",
    )
    today = _today()
    return render_page(
        "plans/index.html",
        "results",
        board=service.board(current_user, filters, today),
        filters=filters,
        # Translated once for the filter and every plan's badge (as Jinja writes a
        # lazy text: the translation, unescaped).
        kinds={key: Markup(label) for key, (label, _) in KINDS.items()},
        may_publish=service.may_publish(current_user),
        today=today,
    )


def _plan_form(form: PlanForm) -> PlanForm:
    side = "vendor" if current_user.is_vendor_staff else "customer"
    form.kind.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(key, label) for key, label in kinds_for(side).items()
    ]
    if side == "customer":
        del form.visibility
        del form.account_ids
        return form
    if not current_user.has_role(*service.VENDOR_PLANNERS):
        # An account manager publishes for the accounts they manage, and only those.
        form.visibility.choices = [SelectChoice("chosen", _("The accounts chosen below"))]
        form.visibility.data = "chosen"
    form.account_ids.choices = [
        SelectChoice(a.id, a.name) for a in service.publishable_accounts(current_user)
    ]
    return form


def _input(form: PlanForm) -> service.PlanInput:
    return service.PlanInput(
        kind=form.kind.data or "",
        title=form.title.data or "",
        effective_from=form.effective_from.data,
        effective_to=form.effective_to.data,
        body=form.body.data or "",
        skus=form.skus.data or "",
        visibility=form.visibility.data if form.visibility else "vendor",
        account_ids=list(form.account_ids.data or []) if form.account_ids else [],
        change_note=form.change_note.data or "",
    )


@bp.route("/plans/new", methods=["GET", "POST"])
@requires(*service.PUBLISHERS)
def new():
    """Publish a plan."""
    form = _plan_form(PlanForm())
    if form.validate_on_submit():
        try:
            plan = service.publish(current_user, _input(form))
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Published. Its readers have been told."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
    return render_page(
        "plans/form.html", "form", form=form, plan=None, status=422 if form.errors else 200
    )


@bp.route("/plans/<int:plan_id>/revise", methods=["GET", "POST"])
@requires(*service.PUBLISHERS)
def revise(plan_id: int):
    """Publish a new revision of a plan; the earlier ones stay in its history."""
    plan = _plan_or_404(plan_id)
    if not service.may_change(current_user, plan):
        flash(_("Only the author or the vendor's planners change this plan."), "error")
        return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
    current = plan.current
    form = PlanForm(obj=current) if request.method == "GET" else PlanForm()
    _plan_form(form)
    if request.method == "GET":
        form.skus.data = "\n".join(p.sku for p in current.products)
        form.change_note.data = ""
        if form.account_ids:
            form.account_ids.data = [a.id for a in current.accounts]
            if current.visibility == "chosen":
                form.visibility.data = "chosen"
    if form.validate_on_submit():
        try:
            service.revise(current_user, plan, _input(form))
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Revised. Its readers have been asked to look again."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
    return render_page(
        "plans/form.html", "form", form=form, plan=plan, status=422 if form.errors else 200
    )


@bp.post("/plans/preview")
@requires(*service.PUBLISHERS)
def preview():
    """The plan's text as it will look (htmx)."""
    return render_fragment(
        "plans/form.html", "preview", html=render_markdown(request.form.get("body", "")[:20_000])
    )


@bp.get("/plans/<int:plan_id>")
def detail(plan_id: int):
    """One plan: its current revision, whether the viewer has seen it, its history,
    and for the author's side who has seen it."""
    plan = _plan_or_404(plan_id)
    return _render_detail(plan)


def _render_detail(plan: Plan, *, withdraw_form: WithdrawForm | None = None, code: int = 200):
    seen_at, seen_earlier = service.acknowledged(current_user, plan)
    return render_page(
        "plans/detail.html",
        "content",
        status=code,
        plan=plan,
        revision=plan.current,
        history=service.history(plan),
        events=service.events(plan) if current_user.is_vendor_staff else [],
        is_reader=service.is_reader(current_user, plan),
        seen_at=seen_at,
        seen_earlier=seen_earlier,
        readers=service.readers(plan) if service.sees_readers(current_user, plan) else None,
        may_change=service.may_change(current_user, plan),
        withdraw_form=withdraw_form or WithdrawForm(),
        # Which accounts a plan is meant for is the vendor's business, not other customers'.
        show_audience=current_user.is_vendor_staff,
        today=_today(),
    )


@bp.post("/plans/<int:plan_id>/seen")
def acknowledge(plan_id: int):
    """The reader has seen the plan as it is now (htmx swaps the button for "Seen")."""
    plan = _plan_or_404(plan_id)
    error = None
    try:
        service.acknowledge(current_user, plan)
    except DomainError as problem:
        db.session.rollback()
        error = problem.message
    if not is_htmx():
        flash(error or _("Thank you: marked as seen."), "error" if error else "success")
        return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
    seen_at, seen_earlier = service.acknowledged(current_user, plan)
    return render_page(
        "plans/detail.html",
        "acknowledgement",
        plan=plan,
        revision=plan.current,
        is_reader=service.is_reader(current_user, plan),
        seen_at=seen_at,
        seen_earlier=seen_earlier,
        ack_error=error,
    )


@bp.post("/plans/<int:plan_id>/withdraw")
@requires(*service.PUBLISHERS)
def withdraw(plan_id: int):
    """Withdraw a plan; it stays readable, marked withdrawn."""
    plan = _plan_or_404(plan_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            service.withdraw(current_user, plan, form.reason.data or "")
        except Forbidden:
            flash(_("Only the author or the vendor's planners withdraw this plan."), "error")
            return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Withdrawn. Its readers have been told."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id), code=303)
    return _render_detail(plan, withdraw_form=form, code=422)
