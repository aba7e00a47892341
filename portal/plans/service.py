"""The shared plans board: publishing, revising, withdrawing and acknowledging plans,
and reading them on the board, a product's page and the quick order.

Plain functions with explicit arguments. Who may see which plan is decided in
one place, `_visible_to` (used by `visible_plans` and `notices_for`), always in
the query: a customer user sees the vendor's plans meant for every account or
for their account, and their own account's plans; never another customer's.
Vendor staff see every plan.

Publishing on the vendor side: planners and vendor admins, for every account or
chosen ones; an account manager for chosen accounts among those they manage.
On the customer side: buyers and customer admins, for the vendor's staff.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import contains_eager, defer, joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog import service as catalog
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import number as format_number
from portal.markdown import render as render_markdown

from .models import (
    AFFECTING_PRODUCTS,
    KINDS,
    Plan,
    PlanAcknowledgement,
    PlanEvent,
    PlanRevision,
    kinds_for,
    plan_revision_account,
    plan_revision_product,
)

VENDOR_PUBLISHERS = (Role.PLANNER, Role.ADMIN, Role.ACCOUNT_MANAGER)
# Publish for every account, and change any of the vendor's plans.
VENDOR_PLANNERS = (Role.PLANNER, Role.ADMIN)
CUSTOMER_PUBLISHERS = (Role.BUYER, Role.CUSTOMER_ADMIN)
PUBLISHERS = (*VENDOR_PUBLISHERS, *CUSTOMER_PUBLISHERS)
MAX_TEXT = 20_000
MAX_NOTE = 500
MAX_PRODUCTS = 50
# A plan without an end date (a discontinuation, a new price) stays "current"
# on the board and on product pages this long after it takes effect.
OPEN_ENDED_DAYS = 60
BOARD_LIMIT = 300


# --- who sees what -------------------------------------------------------------------------


def _current_revision_join():
    return and_(PlanRevision.plan_id == Plan.id, PlanRevision.number == Plan.revision_number)


def _visible_to(viewer: User) -> ColumnElement[bool]:
    """The condition on Plan and its current PlanRevision for what `viewer` may see."""
    return _visibility(_reader_kind(viewer), viewer.account_id)


def _reader_kind(viewer: User) -> str:
    if viewer.is_vendor_staff:
        return "vendor"
    if viewer.account_id is None:  # pragma: no cover - every user is one or the other
        return "nobody"
    return "customer"


def _visibility(reader: str, account_id) -> ColumnElement[bool]:
    """`_visible_to` for a kind of reader and their account (a value, or a parameter
    bound per call in a statement built once)."""
    if reader == "vendor":
        return true()
    if reader == "nobody":
        return false()
    chosen = exists().where(
        plan_revision_account.c.revision_id == PlanRevision.id,
        plan_revision_account.c.account_id == account_id,
    )
    return or_(
        Plan.account_id == account_id,
        and_(
            Plan.side == "vendor",
            or_(
                PlanRevision.visibility == "all",
                and_(PlanRevision.visibility == "chosen", chosen),
            ),
        ),
    )


def visible_plans(viewer: User) -> Select:
    """The plans `viewer` may see, each with its current revision loaded, as a query
    to refine (on Plan and PlanRevision)."""
    return (
        select(Plan)
        .join(PlanRevision, _current_revision_join())
        .where(_visible_to(viewer))
        .options(contains_eager(Plan.current))
    )


def plan_for(viewer: User, plan_id: int) -> Plan:
    """One plan the viewer may see (withdrawn ones too), or NotFound."""
    plan = db.session.scalar(
        visible_plans(viewer)
        .where(Plan.id == plan_id)
        .options(
            joinedload(Plan.account),
            joinedload(Plan.created_by),
            joinedload(Plan.withdrawn_by),
            contains_eager(Plan.current).selectinload(PlanRevision.products),
        )
    )
    if plan is None:
        raise NotFound(_("No such plan."))
    return plan


def may_see(viewer: User, plan_id: int) -> bool:
    return (
        db.session.scalar(
            visible_plans(viewer).with_only_columns(Plan.id).where(Plan.id == plan_id)
        )
        is not None
    )


def may_publish(user: User) -> bool:
    return user.has_role(*(VENDOR_PUBLISHERS if user.is_vendor_staff else CUSTOMER_PUBLISHERS))


def may_change(user: User, plan: Plan) -> bool:
    """Revise or withdraw: the vendor's planners and admins, or the author, for the
    vendor's plans; the author or a customer admin of the account for a customer's."""
    if plan.is_withdrawn or not may_publish(user):
        return False
    if plan.side == "vendor":
        return user.is_vendor_staff and (
            user.has_role(*VENDOR_PLANNERS) or plan.created_by_id == user.id
        )
    return user.account_id == plan.account_id and (
        plan.created_by_id == user.id or user.has_role(Role.CUSTOMER_ADMIN)
    )


def is_reader(user: User, plan: Plan) -> bool:
    """Readers are the other side: customers read the vendor's plans, vendor staff a
    customer's. They are the ones who acknowledge."""
    return user.is_vendor_staff == (plan.side == "customer")


def sees_readers(user: User, plan: Plan) -> bool:
    """Who has seen a plan: for vendor staff, and for the author of a customer's plan."""
    return user.is_vendor_staff or plan.created_by_id == user.id


# --- the board -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    when: str = "upcoming"  # upcoming (current and coming) | past | all
    kind: str = ""
    sku: str = ""
    side: str = ""  # vendor | customer | "" (both)
    start: date | None = None  # effective within [start, end]
    end: date | None = None
    withdrawn: bool = False


def _current_on(today: date) -> ColumnElement[bool]:
    """Not over yet on `today`: it ends today or later, or it has no end and took
    effect at most OPEN_ENDED_DAYS ago."""
    return _current_between(today, _open_since(today))


def _open_since(today: date) -> date:
    return today - timedelta(days=OPEN_ENDED_DAYS)


def _current_between(today, open_since) -> ColumnElement[bool]:
    """`_current_on` with today and `_open_since(today)` as values or parameters."""
    return or_(
        PlanRevision.effective_to >= today,
        and_(PlanRevision.effective_to.is_(None), PlanRevision.effective_from >= open_since),
    )


@dataclass
class Board:
    months: list[tuple[date, list[Plan]]]
    total: int
    unseen: set[int]  # ids of plans whose current revision the viewer has not acknowledged
    unknown_sku: bool = False
    # The SKUs of each shown revision's products (by revision id, in SKU order).
    skus: dict[int, list[str]] = field(default_factory=dict)

    @property
    def shown(self) -> int:
        return sum(len(plans) for _, plans in self.months)


def board(viewer: User, filters: BoardFilter, today: date) -> Board:
    """The plans the viewer may see, by effective date, grouped by the month they
    take effect; which of them the viewer still has to acknowledge."""
    product_id, unknown_sku = None, False
    if filters.sku.strip():
        product = catalog.find_by_sku(filters.sku)
        unknown_sku = product is None
        product_id = product.id if product else None
    count_statement, rows_statement = _board_statements(
        _reader_kind(viewer),
        filters.withdrawn,
        filters.when,
        filters.kind in KINDS,
        filters.side in ("vendor", "customer"),
        filters.start is not None,
        filters.end is not None,
        "unknown" if unknown_sku else "product" if product_id else "",
    )
    values = {
        "account_id": viewer.account_id,
        "today": today,
        "open_since": _open_since(today),
        "kind": filters.kind,
        "side": filters.side,
        "start": filters.start,
        "end": filters.end,
        "product_id": product_id,
    }
    plans = list(db.session.scalars(rows_statement, values))
    # Fewer than the limit are all there are: counted only when the board is full.
    total = len(plans) if len(plans) < BOARD_LIMIT else db.session.scalar(count_statement, values)
    months: dict[date, list[Plan]] = {}
    for plan in plans:
        months.setdefault(plan.current.effective_from.replace(day=1), []).append(plan)
    return Board(
        months=list(months.items()),
        total=total,
        unseen=_unseen(viewer, plans),
        unknown_sku=unknown_sku,
        skus=_skus([plan.current.id for plan in plans]),
    )


def _skus(revision_ids: list[int]) -> dict[int, list[str]]:
    """The SKUs the board shows of each revision's products, in one statement: rows
    of text, where loading them as Product objects into each revision's collection
    was a fifth of the board's CPU."""
    skus: dict[int, list[str]] = {}
    if revision_ids:
        rows = db.session.connection().execute(_skus_statement(), {"ids": revision_ids})
        for revision_id, sku in rows:
            skus.setdefault(revision_id, []).append(sku)
    return skus


@cache
def _skus_statement() -> Select:
    """Built once per process; the revisions are bound per call."""
    return (
        select(plan_revision_product.c.revision_id, Product.sku)
        .join(Product, Product.id == plan_revision_product.c.product_id)
        .where(plan_revision_product.c.revision_id.in_(bindparam("ids", expanding=True)))
        .order_by(plan_revision_product.c.revision_id, Product.sku)
    )


@cache
def _board_statements(
    reader: str,
    withdrawn: bool,
    when: str,
    by_kind: bool,
    by_side: bool,
    by_start: bool,
    by_end: bool,
    sku: str,
) -> tuple[Select, Select]:
    """The board's count and rows for one shape of filters, built once per process
    (every view of the board built them anew); the reader's account, the day and the
    filters' values are bound per call."""
    query = (
        select(Plan)
        .join(PlanRevision, _current_revision_join())
        .where(_visibility(reader, bindparam("account_id", type_=Integer)))
        .options(contains_eager(Plan.current))
    )
    if not withdrawn:
        query = query.where(Plan.status == "active")
    current = _current_between(bindparam("today", type_=Date), bindparam("open_since", type_=Date))
    if when == "upcoming":
        query = query.where(current)
    elif when == "past":
        query = query.where(~current)
    if by_kind:
        query = query.where(PlanRevision.kind == bindparam("kind", type_=String))
    if by_side:
        query = query.where(Plan.side == bindparam("side", type_=String))
    if by_start:
        start = bindparam("start", type_=Date)
        query = query.where(
            or_(PlanRevision.effective_to >= start, PlanRevision.effective_from >= start)
        )
    if by_end:
        query = query.where(PlanRevision.effective_from <= bindparam("end", type_=Date))
    if sku == "unknown":
        query = query.where(false())
    elif sku == "product":
        query = query.where(
            exists().where(
                plan_revision_product.c.revision_id == PlanRevision.id,
                plan_revision_product.c.product_id == bindparam("product_id", type_=Integer),
            )
        )
    count = query.with_only_columns(func.count()).order_by(None)
    order = (
        (PlanRevision.effective_from.desc(), Plan.id.desc())
        if when == "past"
        else (PlanRevision.effective_from, Plan.id)
    )
    rows = (
        query.options(
            # The account joined, not a statement of its own (its name is shown).
            joinedload(Plan.account),
            # The board shows neither the text nor the products but by their SKUs
            # (read apart: _skus).
            contains_eager(Plan.current).options(
                defer(PlanRevision.body),
                defer(PlanRevision.body_html),
            ),
        )
        .order_by(*order)
        .limit(BOARD_LIMIT)
    )
    return count, rows


def _unseen(viewer: User, plans: list[Plan]) -> set[int]:
    """Of `plans`, those the viewer reads and has not acknowledged in their current form."""
    to_read = {p.current.id: p.id for p in plans if is_reader(viewer, p) and not p.is_withdrawn}
    if not to_read:
        return set()
    seen = set(
        db.session.connection()
        .execute(_seen_statement(), {"user_id": viewer.id, "revisions": list(to_read)})
        .scalars()
    )
    return {plan_id for revision_id, plan_id in to_read.items() if revision_id not in seen}


@cache
def _seen_statement() -> Select:
    """Built once per process (every view of the board asks); bound per call."""
    return select(PlanAcknowledgement.revision_id).where(
        PlanAcknowledgement.user_id == bindparam("user_id", type_=Integer),
        PlanAcknowledgement.revision_id.in_(bindparam("revisions", expanding=True)),
    )


@dataclass(frozen=True)
class Notice:
    """A plan that affects a product, as the product page and quick order show it."""

    plan_id: int
    kind: str
    title: str
    effective_from: date
    effective_to: date | None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]


def notices_for(viewer: User, product_ids, today: date) -> dict[int, list[Notice]]:
    """For many products at once (one query), the plans visible to the viewer that
    change what can be expected of them and are not over: by product id."""
    ids = sorted({i for i in product_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            plan_revision_product.c.product_id,
            Plan.id,
            PlanRevision.kind,
            PlanRevision.title,
            PlanRevision.effective_from,
            PlanRevision.effective_to,
        )
        .select_from(Plan)
        .join(PlanRevision, _current_revision_join())
        .join(plan_revision_product, plan_revision_product.c.revision_id == PlanRevision.id)
        .where(
            _visible_to(viewer),
            Plan.status == "active",
            PlanRevision.kind.in_(AFFECTING_PRODUCTS),
            plan_revision_product.c.product_id.in_(ids),
            _current_on(today),
        )
        .order_by(PlanRevision.effective_from, Plan.id)
    )
    found: dict[int, list[Notice]] = defaultdict(list)
    for product_id, plan_id, kind, title, starts, ends in rows:
        found[product_id].append(Notice(plan_id, kind, title, starts, ends))
    return dict(found)


def history(plan: Plan) -> list[PlanRevision]:
    """Every revision, newest first."""
    return list(
        db.session.scalars(
            select(PlanRevision)
            .where(PlanRevision.plan_id == plan.id)
            .options(
                selectinload(PlanRevision.products),
                selectinload(PlanRevision.accounts),
                joinedload(PlanRevision.created_by),
            )
            .order_by(PlanRevision.number.desc())
        )
    )


def events(plan: Plan) -> list[PlanEvent]:
    return list(
        db.session.scalars(
            select(PlanEvent)
            .where(PlanEvent.plan_id == plan.id)
            .options(joinedload(PlanEvent.actor))
            .order_by(PlanEvent.id)
        )
    )


def acknowledged(user: User, plan: Plan) -> tuple[datetime | None, int | None]:
    """When the user saw the current revision (or None), and the newest revision
    number they saw before, if they saw an older one."""
    rows = db.session.execute(
        select(PlanRevision.number, PlanAcknowledgement.at)
        .join(PlanAcknowledgement, PlanAcknowledgement.revision_id == PlanRevision.id)
        .where(PlanRevision.plan_id == plan.id, PlanAcknowledgement.user_id == user.id)
        .order_by(PlanRevision.number.desc())
    ).all()
    for number, at in rows:
        if number == plan.revision_number:
            return at, None
        return None, number
    return None, None


@dataclass
class Reader:
    user: User
    seen_at: datetime | None = None  # the current revision
    seen_earlier: int | None = None  # the newest older revision they saw


@dataclass
class ReaderGroup:
    name: str
    readers: list[Reader] = field(default_factory=list)

    @property
    def seen_count(self) -> int:
        return sum(1 for r in self.readers if r.seen_at)


def readers(plan: Plan) -> list[ReaderGroup]:
    """Who is meant to read the plan, per account (or the vendor's staff), and who
    has seen its current revision: two queries, however many readers."""
    query = select(User).where(User.active.is_(True))
    if plan.side == "customer":
        query = query.where(User.account_id.is_(None))
    else:
        query = query.join(CustomerAccount, User.account_id == CustomerAccount.id).where(
            CustomerAccount.status != "closed"
        )
        if plan.current.visibility == "chosen":
            query = query.where(
                User.account_id.in_(
                    select(plan_revision_account.c.account_id).where(
                        plan_revision_account.c.revision_id == plan.current.id
                    )
                )
            )
        query = query.options(contains_eager(User.account)).order_by(CustomerAccount.name)
    people = list(db.session.scalars(query.order_by(User.name)))
    seen: dict[int, tuple[int, datetime]] = {}
    for user_id, number, at in db.session.execute(
        select(PlanAcknowledgement.user_id, PlanRevision.number, PlanAcknowledgement.at)
        .join(PlanRevision, PlanAcknowledgement.revision_id == PlanRevision.id)
        .where(PlanRevision.plan_id == plan.id)
    ):
        if user_id not in seen or seen[user_id][0] < number:
            seen[user_id] = (number, at)
    groups: dict[str, ReaderGroup] = {}
    vendor = current_app.config["VENDOR_NAME"]
    for person in people:
        name = person.account.name if person.account else vendor
        reader = Reader(person)
        if person.id in seen:
            number, at = seen[person.id]
            if number == plan.revision_number:
                reader.seen_at = at
            else:
                reader.seen_earlier = number
        groups.setdefault(name, ReaderGroup(name)).readers.append(reader)
    return list(groups.values())


# --- writing ---------------------------------------------------------------------------------


@dataclass
class PlanInput:
    """What a person wrote in the plan form."""

    kind: str
    title: str
    effective_from: date | None
    effective_to: date | None = None
    body: str = ""
    skus: str = ""
    visibility: str = "all"  # vendor plans: all | chosen
    account_ids: list[int] = field(default_factory=list)
    change_note: str = ""


def _checked(user: User, side: str, data: PlanInput):
    """Everything checked before anything is written; returns the clean values."""
    title = " ".join((data.title or "").split())
    if len(title) < 3:
        raise DomainError(_("Give the plan a title of a few words."), field="title")
    if len(title) > 200:
        raise DomainError(_("Keep the title under 200 characters."), field="title")
    if data.kind not in kinds_for(side):
        raise DomainError(_("Choose a kind of plan from the list."), field="kind")
    body = (data.body or "").strip()
    if len(body) > MAX_TEXT:
        raise DomainError(
            _("Keep the text under %(max_text)s characters.", max_text=format_number(MAX_TEXT)),
            field="body",
        )
    if data.effective_from is None:
        raise DomainError(_("Give the date the plan takes effect."), field="effective_from")
    if data.effective_to is not None and data.effective_to < data.effective_from:
        raise DomainError(_("The end cannot be before the start."), field="effective_to")
    note = " ".join((data.change_note or "").split())
    if len(note) > MAX_NOTE:
        raise DomainError(
            _("Keep the note under %(max_note)s characters.", max_note=MAX_NOTE),
            field="change_note",
        )
    products = _products(data.skus or "")
    if side == "customer":
        return title, body, note, products, "vendor", []
    visibility = data.visibility
    if visibility not in ("all", "chosen"):
        raise DomainError(_("Choose who may see the plan."), field="visibility")
    if visibility == "all":
        if not user.has_role(*VENDOR_PLANNERS):
            raise DomainError(
                _("Account managers publish for the accounts they manage: choose them."),
                field="visibility",
            )
        return title, body, note, products, "all", []
    wanted = set(data.account_ids or ())
    if not wanted:
        raise DomainError(
            _("Choose at least one account, or show the plan to every account."),
            field="account_ids",
        )
    accounts = list(
        db.session.scalars(
            select(CustomerAccount).where(
                CustomerAccount.id.in_(wanted), CustomerAccount.status != "closed"
            )
        )
    )
    if len(accounts) != len(wanted):
        raise DomainError(_("Choose accounts from the list."), field="account_ids")
    if not user.has_role(*VENDOR_PLANNERS) and any(
        a.account_manager_id != user.id for a in accounts
    ):
        raise DomainError(_("Choose among the accounts you manage."), field="account_ids")
    return title, body, note, products, "chosen", accounts


def publishable_accounts(user: User) -> list[CustomerAccount]:
    """The open accounts a vendor publisher may choose as readers: every one for
    planners and admins, an account manager's own accounts for them."""
    query = select(CustomerAccount).where(CustomerAccount.status != "closed")
    if not user.has_role(*VENDOR_PLANNERS):
        query = query.where(CustomerAccount.account_manager_id == user.id)
    return list(db.session.scalars(query.order_by(CustomerAccount.name)))


def _products(skus: str) -> list:
    """Products named by SKU (commas or lines between them); unknown ones are named."""
    wanted = [s for s in (p.strip() for p in skus.replace(",", "\n").splitlines()) if s]
    if len(wanted) > MAX_PRODUCTS:
        raise DomainError(
            _("Link at most %(max_products)s products.", max_products=MAX_PRODUCTS), field="skus"
        )
    by_key = catalog.products_by_sku_key(sku_key(s) for s in wanted)
    found = {}
    for sku in wanted:
        product = by_key.get(sku_key(sku))
        if product is None:
            raise DomainError(
                _("There is no product with the SKU “%(sku)s”.", sku=sku[:64]), field="skus"
            )
        found[product.id] = product  # the same SKU written twice is one product
    return list(found.values())


def _revision(plan: Plan, number: int, user: User, data: PlanInput, checked) -> PlanRevision:
    title, body, note, products, visibility, accounts = checked
    return PlanRevision(
        plan_id=plan.id,
        number=number,
        kind=data.kind,
        title=title,
        body=body,
        body_html=str(render_markdown(body)),
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        visibility=visibility,
        change_note=note,
        created_by_id=user.id,
        products=products,
        accounts=accounts,
    )


def publish(user: User, data: PlanInput) -> Plan:
    """Publish a plan: the vendor's for every account or chosen ones, a customer's
    for the vendor's staff. Everyone who may now see it is told."""
    if not may_publish(user):
        raise Forbidden(_("You cannot publish plans."))
    side = "vendor" if user.is_vendor_staff else "customer"
    checked = _checked(user, side, data)
    plan = Plan(
        side=side,
        account_id=None if side == "vendor" else user.account_id,
        created_by_id=user.id,
        revision_number=1,
    )
    db.session.add(plan)
    db.session.flush()
    revision = _revision(plan, 1, user, data, checked)
    db.session.add(revision)
    _event(plan, user, "published", after="1")
    db.session.flush()
    _notify_readers(plan, revision, user, "plan_published")
    db.session.commit()
    return plan


def revise(user: User, plan: Plan, data: PlanInput) -> PlanRevision:
    """Publish a new revision; the earlier ones stay as they were. Readers who may see
    the new revision are told, and each needs to acknowledge it afresh."""
    if not may_change(user, plan):
        raise Forbidden(_("Only the author or the vendor's planners change this plan."))
    checked = _checked(user, plan.side, data)
    if not checked[2]:
        raise DomainError(_("Say in a few words what changed."), field="change_note")
    # Readers who could not see the plan before hear of it as new, the others as changed.
    told_before = {u.id for u in audience(plan, plan.current)}
    number = plan.revision_number + 1
    revision = _revision(plan, number, user, data, checked)
    db.session.add(revision)
    db.session.flush()  # the new revision exists before the plan points at it
    plan.revision_number = number
    _event(plan, user, "revised", before=str(number - 1), after=str(number))
    db.session.flush()
    db.session.expire(plan, ["current"])
    readers_now = audience(plan, revision)
    _notify_readers(
        plan,
        revision,
        user,
        "plan_changed",
        people=[u for u in readers_now if u.id in told_before],
    )
    _notify_readers(
        plan,
        revision,
        user,
        "plan_published",
        people=[u for u in readers_now if u.id not in told_before],
    )
    db.session.commit()
    return revision


def withdraw(user: User, plan: Plan, reason: str) -> Plan:
    """Withdraw a plan: it stays readable, marked withdrawn, and leaves the board's
    default view and the product pages."""
    if not may_change(user, plan):
        raise Forbidden(_("Only the author or the vendor's planners withdraw this plan."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(_("Tell the readers why the plan is withdrawn."), field="reason")
    if len(reason) > MAX_NOTE:
        raise DomainError(
            _("Keep the reason under %(max_note)s characters.", max_note=MAX_NOTE), field="reason"
        )
    plan.status = "withdrawn"
    plan.withdrawn_at = utcnow()
    plan.withdrawn_by_id = user.id
    plan.withdrawal_reason = reason
    _event(plan, user, "withdrawn", before="active", after="withdrawn", reason=reason)
    _notify_readers(plan, plan.current, user, "plan_changed", variant="withdrawn")
    db.session.commit()
    return plan


def acknowledge(user: User, plan: Plan) -> PlanAcknowledgement:
    """The reader has seen the current revision. Saying so twice changes nothing."""
    if not is_reader(user, plan):
        raise DomainError(_("Readers on the other side acknowledge a plan, not its own side."))
    if plan.is_withdrawn:
        raise DomainError(_("The plan is withdrawn; there is nothing to acknowledge."))
    revision = plan.current
    existing = db.session.scalar(
        select(PlanAcknowledgement).where(
            PlanAcknowledgement.revision_id == revision.id,
            PlanAcknowledgement.user_id == user.id,
        )
    )
    if existing is not None:
        return existing
    ack = PlanAcknowledgement(revision_id=revision.id, user_id=user.id)
    db.session.add(ack)
    db.session.commit()
    return ack


def _event(plan: Plan, actor: User, kind: str, before=None, after=None, **detail) -> None:
    db.session.add(
        PlanEvent(
            plan_id=plan.id,
            actor_id=actor.id,
            kind=kind,
            before=before,
            after=after,
            detail=detail or None,
        )
    )


# --- who is told -------------------------------------------------------------------------------


def audience(plan: Plan, revision: PlanRevision) -> list[User]:
    """The people to tell about a revision: a customer's plan goes to the vendor's
    planners, admins and the account's manager; the vendor's to the users of every
    account that may see this revision."""
    if plan.side == "customer":
        people = {
            u.id: u
            for role in (Role.PLANNER, Role.ADMIN)
            for u in db.session.scalars(
                select(User)
                .where(User.account_id.is_(None), User.active.is_(True))
                .where(User.role_rows.any(role=role.value))
            )
        }
        manager = db.session.scalar(
            select(User)
            .join(CustomerAccount, CustomerAccount.account_manager_id == User.id)
            .where(CustomerAccount.id == plan.account_id)
        )
        if manager is not None:
            people[manager.id] = manager
        return list(people.values())
    query = (
        select(User)
        .join(CustomerAccount, User.account_id == CustomerAccount.id)
        .where(User.active.is_(True), CustomerAccount.status == "active")
    )
    if revision.visibility == "chosen":
        query = query.where(CustomerAccount.id.in_([a.id for a in revision.accounts]))
    return list(db.session.scalars(query))


def _notify_readers(
    plan: Plan,
    revision: PlanRevision,
    actor: User,
    kind: str,
    *,
    people: list[User] | None = None,
    variant: str | None = None,
) -> None:
    """Tell `people` (by default everyone who may read `revision`) about it."""
    from portal.notifications import service as notifications

    people = audience(plan, revision) if people is None else people
    if not people:
        return

    source = current_app.config["VENDOR_NAME"] if plan.side == "vendor" else plan_account_name(plan)
    notifications.notify(
        people,
        kind,
        {
            "variant": variant,
            "source": source,
            "title": revision.title,
            "plan_kind": revision.kind_label,
            "date": revision.effective_from,
        },
        f"/plans/{plan.id}",
        exclude=actor,
    )


def plan_account_name(plan: Plan) -> str:
    if plan.account is not None:
        return plan.account.name
    account = db.session.get(CustomerAccount, plan.account_id) if plan.account_id else None
    return account.name if account else ""
