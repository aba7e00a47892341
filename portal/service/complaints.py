"""Quality complaints: the eight-disciplines steps in a light form, and the
replacement order made from a complaint.

A request of kind "complaint about quality" records the affected quantity,
its containment, the root cause, the corrective action and the verification
of its effect, each with who entered it and when. Vendor staff enter and edit
them; every change is a ServiceEvent; the customer reads them on its request.
The request cannot be resolved until all five are there (`missing_steps`,
checked by `workflow.change_status`).

A replacement order is placed through the ordering service at zero price for
the complaint's product and affected quantity, to the customer's default
delivery address, and goes to the order desk like any order. One per
complaint, unless that one was cancelled or rejected.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, false, func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.formatting import number as format_number
from portal.ordering import service as ordering
from portal.ordering.models import Order
from portal.security import scoped_once, tenant_values

from .models import QUALITY_KIND, QUALITY_STEPS, QualityStep, ReplacementOrder, ServiceRequest
from .reading import WORKERS, visible_requests

STEP_MAX = 5_000
MAX_AFFECTED = 10_000_000
# An order in these states replaces nothing: another may be made.
VOID_ORDER_STATUSES = ("cancelled", "rejected")


def is_quality_complaint(request: ServiceRequest) -> bool:
    return request.kind == QUALITY_KIND


def steps_of(request: ServiceRequest) -> dict[str, QualityStep]:
    """The steps recorded so far, by step name (one query)."""
    rows = db.session.scalars(
        select(QualityStep)
        .where(QualityStep.request_id == request.id)
        .options(joinedload(QualityStep.recorded_by))
    )
    return {row.step: row for row in rows}


def missing_steps(request: ServiceRequest) -> list[str]:
    """What a quality complaint still lacks before it can be resolved, as the page names it."""
    if not is_quality_complaint(request):
        return []
    done = steps_of(request)
    return [label for step, label in QUALITY_STEPS.items() if step not in done]


def _worker(user: User, what: str) -> None:
    if not user.is_vendor_staff or not user.has_role(*WORKERS):
        raise Forbidden(
            _("Only service staff, engineers and account managers %(what)s.", what=what)
        )


def _quantity(raw) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise DomainError(
            _("Enter the affected quantity as a whole number."), field="affected_quantity"
        ) from None
    if not 1 <= value <= MAX_AFFECTED:
        raise DomainError(
            _(
                "The affected quantity is between 1 and %(max)s.",
                max=format_number(MAX_AFFECTED),
            ),
            field="affected_quantity",
        )
    return value


def _short(text: str | None) -> str | None:
    return None if text is None else (text if len(text) <= 200 else text[:199] + "…")


def record_steps(
    user: User,
    request: ServiceRequest,
    *,
    texts: dict[str, str],
    affected_quantity,
    now: datetime,
) -> list[str]:
    """Enter or change the steps of a quality complaint. Only what changed is
    written (who and when become the person and the moment of this change) and
    each change is an event; an emptied step is removed. All or nothing: a bad
    value changes no step. Returns the labels of the steps changed."""
    from .workflow import record_event

    _worker(user, _l("record the quality steps"))
    if not is_quality_complaint(request):
        raise DomainError(_("Only a complaint about quality has these steps."))
    if request.status == "closed":
        raise DomainError(_("This complaint is closed; its steps stay as they were."))
    quantity = _quantity(affected_quantity)
    wanted: dict[str, tuple[int | None, str]] = {}
    for step in QUALITY_STEPS:
        text = (texts.get(step) or "").strip()
        if len(text) > STEP_MAX:
            raise DomainError(
                _(
                    "Keep each step under %(step_max)s characters.",
                    step_max=format_number(STEP_MAX),
                ),
                field=step,
            )
        wanted[step] = (quantity if step == "affected" else None, text)
    if wanted["affected"][1] and quantity is None:
        raise DomainError(
            _("Enter how many parts are affected, or leave the description empty."),
            field="affected_quantity",
        )
    current = steps_of(request)
    changed = []
    for step, (step_quantity, text) in wanted.items():
        row = current.get(step)
        empty = step_quantity is None and not text if step == "affected" else not text
        before, before_quantity = (None, None) if row is None else (row.text, row.quantity)
        if row is None and empty:
            continue
        if row is not None and (row.quantity, row.text) == (step_quantity, text):
            continue
        after_quantity = None
        if empty:
            db.session.delete(row)
            after = None
        else:
            if row is None:
                row = QualityStep(request_id=request.id, step=step)
                db.session.add(row)
            row.quantity, row.text = step_quantity, text
            row.recorded_by_id, row.recorded_at = user.id, now
            after, after_quantity = text, step_quantity
        # The texts as typed; the affected quantities apart, written by each reader's
        # locale when shown ("1.234" in Indonesian), not kept as English "1,234".
        quantities = {"quantities": [before_quantity, after_quantity]} if step == "affected" else {}
        record_event(
            request,
            user,
            "quality_step",
            now,
            before=_short(before),
            after=_short(after),
            step=step,
            **quantities,
        )
        changed.append(QUALITY_STEPS[step])
    db.session.commit()
    return changed


# --- replacement orders --------------------------------------------------------------------------


def replacements_of(request: ServiceRequest) -> list[ReplacementOrder]:
    """The replacement orders made from the complaint, oldest first, with their orders."""
    return list(
        db.session.scalars(
            select(ReplacementOrder)
            .where(ReplacementOrder.request_id == request.id)
            .options(joinedload(ReplacementOrder.order), joinedload(ReplacementOrder.created_by))
            .order_by(ReplacementOrder.id)
        )
    )


def replacement_refusal(request: ServiceRequest) -> str | None:
    """Why no replacement order can be made from this request now, or None."""
    if not is_quality_complaint(request):
        return "Only a complaint about quality is replaced by an order."
    if request.product_id is None:
        return "The complaint names no product: open it from the order line or the product."
    if request.status == "closed":
        return "The complaint is closed."
    affected = steps_of(request).get("affected")
    if affected is None:
        return "Record the affected quantity first: the replacement is for that many."
    for replacement in replacements_of(request):
        if replacement.order.status not in VOID_ORDER_STATUSES:
            return f"Order {replacement.order.number} already replaces the affected parts."
    return None


def create_replacement(user: User, request: ServiceRequest, *, now: datetime, today: date) -> Order:
    """Place a zero-price order for the complaint's product and affected quantity,
    delivered to the customer's default address, linked to the complaint both ways."""
    from .workflow import notify, record_event

    _worker(user, _l("make replacement orders"))
    refusal = replacement_refusal(request)
    if refusal:
        raise DomainError(refusal)
    addresses = ordering.account_addresses(request.account_id)
    if not addresses:
        raise DomainError(
            _("%(account)s has no delivery address to send it to.", account=request.account.name)
        )
    quantity = steps_of(request)["affected"].quantity
    made_before = db.session.scalar(
        select(func.count()).where(ReplacementOrder.request_id == request.id)
    )

    def link(order: Order) -> None:
        db.session.add(
            ReplacementOrder(
                request_id=request.id, order_id=order.id, created_by_id=user.id, created_at=now
            )
        )
        record_event(request, user, "replacement_order", now, after=order.number, order_id=order.id)
        notify(
            "customer",
            request,
            user,
            "service_replacement",
            {"number": order.number, "quantity": quantity, "sku": request.product.sku},
        )

    order, _created = ordering.place_order(
        user,
        po_number=request.reference,
        ship_to_id=addresses[0].id,
        requested_date=None,
        notes=f"Replacement free of charge for {request.reference}: {request.title}",
        # One key per attempt: a double click makes one order, a new attempt after a
        # cancelled replacement makes another.
        idempotency_key=f"replacement-{request.id}-{made_before + 1}",
        today=today,
        lines=[(request.product, quantity)],
        for_account=request.account,
        free_of_charge=True,
        also=link,
    )
    return order


def order_origins(order: Order, viewer: User) -> list[tuple[str, str | None]]:
    """For the order pages: the service request an order replaces parts for (one query)."""
    if viewer.is_vendor_staff:
        try:
            visible = visible_requests(viewer).with_only_columns(ServiceRequest.id)
        except Forbidden:
            visible = None
        statement, values = _origin_of_order(visible), {}
    else:
        statement, values = _origin_of_customers_order(), tenant_values(viewer)
    found = db.session.execute(statement, {"order_id": order.id, **values}).first()
    if found is None:
        return []
    request_id, may_see = found
    text = _(
        "Replacement for service request %(reference)s, free of charge",
        reference=f"SR-{request_id:05d}",
    )
    link = url_for("service.detail", request_id=request_id) if may_see else None
    return [(text, link)]


def _origin_of_order(visible: Select | None) -> Select:
    """The order's replacement row and whether the viewer may see its request
    (`visible`: the ids of the requests they may see, None for none), asked in the same
    statement: a second one cost the order page a round trip."""
    may_see = (
        false()
        if visible is None
        else visible.where(ServiceRequest.id == ReplacementOrder.request_id).exists()
    )
    return select(ReplacementOrder.request_id, may_see).where(
        ReplacementOrder.order_id == bindparam("order_id")
    )


@cache
def _origin_of_customers_order() -> Select:
    """`_origin_of_order` for a customer, built once per process (building it cost the
    order page more than running it): visible_requests' rule for a customer, their
    account's requests, with the account bound per request."""
    return _origin_of_order(scoped_once(select(ServiceRequest.id), ServiceRequest, False))
