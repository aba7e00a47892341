"""Design suggestions: drafts, submission with a promised answer date, the thread,
the status workflow, assignment and the engineers' triage queue.

Plain functions with explicit arguments. Every change writes an IdeaEvent in
the same transaction. What customers may see is decided in one place,
`visible_ideas`, and internal notes are filtered in the query that reads the
thread, never in a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, Select, bindparam, func, literal_column, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.attachments import service as attachments
from portal.catalog import service as catalog
from portal.days import user_today
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import agos, day_in, number, reader_locale
from portal.markdown import render as render_markdown
from portal.security import scoped, scoped_once, tenant_values

from .models import (
    CATEGORIES,
    OPEN_STATUSES,
    PROPOSED,
    STATUSES,
    Idea,
    IdeaEvent,
    IdeaFollower,
    IdeaMessage,
)

ENGINEERS = (Role.ENGINEER, Role.ADMIN)
VENDOR_VIEWERS = (Role.ENGINEER, Role.ADMIN, Role.ACCOUNT_MANAGER)
MAX_TEXT = 20_000

# Where the vendor may move a customer's suggestion, from each status.
TRANSITIONS = {
    "submitted": ("under_review", "needs_information", "accepted", "declined"),
    "under_review": ("needs_information", "accepted", "declined"),
    "needs_information": ("under_review", "accepted", "declined"),
    "accepted": ("planned", "implemented", "declined"),
    "planned": ("implemented", "declined"),
}
# A duplicate can be merged while it is still being decided on or worked on.
MERGEABLE = ("submitted", "under_review", "needs_information", "accepted", "planned")


def add_business_days(start: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


# --- who sees what -------------------------------------------------------------------------


def may_see(viewer: User, idea_id: int) -> bool:
    try:
        query = visible_ideas(viewer)
    except Forbidden:
        return False
    return db.session.scalar(query.with_only_columns(Idea.id).where(Idea.id == idea_id)) is not None


def _may_see_message(viewer: User, message_id: int) -> bool:
    message = db.session.get(IdeaMessage, message_id)
    if message is None or (message.internal and not viewer.is_vendor_staff):
        return False
    return may_see(viewer, message.idea_id)


# A file of a suggestion or a post is seen by whoever sees the suggestion (and,
# for an internal note, vendor staff only): the same rules as the pages.
attachments.register_owner_check("idea", may_see)
attachments.register_owner_check("idea_message", _may_see_message)


def files_of(viewer: User, idea: Idea, messages: list[IdeaMessage]):
    """The suggestion's own files, and each post's, in two queries."""
    own = attachments.for_owner("idea", [idea.id], viewer)[idea.id]
    per_message = attachments.for_owner("idea_message", [m.id for m in messages], viewer)
    return own, per_message


def _store_files(user: User, idea: Idea, files, owner_kind: str, owner_id: int, internal=False):
    stored = [
        attachments.store(user, idea.account_id, upload, internal=internal)
        for upload in files or ()
        if upload and upload.filename
    ]
    if len(stored) > 10:
        raise DomainError(_("Attach at most 10 files at a time."), field="files")
    if stored:
        attachments.attach(stored, owner_kind, owner_id)


def visible_ideas(viewer: User) -> Select:
    """The suggestions the viewer may see, as a query to refine.

    A customer sees their account's suggestions once submitted (and their own
    drafts); vendor staff see submitted suggestions and vendor proposals,
    an account manager (without the engineer role) only for their accounts.
    Nobody but the vendor sees a vendor proposal still in draft.
    """
    _check_viewer(viewer)
    return _visible(
        scoped(select(Idea), Idea, viewer),
        viewer.is_vendor_staff,
        viewer.has_role(*ENGINEERS),
        viewer.id,
    )


def _check_viewer(viewer: User) -> None:
    if viewer.is_vendor_staff and not viewer.has_role(*VENDOR_VIEWERS):
        raise Forbidden(_("Suggestions are for engineers and account managers."))


def _visible(query: Select, vendor_staff: bool, engineer: bool, viewer_id) -> Select:
    """`visible_ideas`' rule on a query already scoped to the tenant, the viewer's id a
    value or a bound parameter (for statements built once: `_list_statements`)."""
    if not vendor_staff:
        return query.where(or_(Idea.status != "draft", Idea.created_by_id == viewer_id))
    query = query.where(or_(Idea.status != "draft", Idea.direction == "vendor"))
    if not engineer:
        query = query.where(
            Idea.account_id.in_(
                select(CustomerAccount.id).where(CustomerAccount.account_manager_id == viewer_id)
            )
        )
    return query


def idea_for(viewer: User, idea_id: int) -> Idea:
    idea = db.session.scalar(
        visible_ideas(viewer)
        .where(Idea.id == idea_id)
        .options(
            joinedload(Idea.account).joinedload(CustomerAccount.account_manager),
            joinedload(Idea.created_by),
            joinedload(Idea.assignee),
            selectinload(Idea.products),
        )
    )
    if idea is None:
        raise NotFound(_("No such suggestion."))
    return idea


def thread(viewer: User, idea: Idea, *, latest: int | None = None) -> tuple[list[IdeaMessage], int]:
    """The thread, oldest first, and how long it is; internal notes only for
    vendor staff. `latest` keeps only the newest that many (long threads)."""
    query = select(IdeaMessage).where(IdeaMessage.idea_id == idea.id)
    if not viewer.is_vendor_staff:
        query = query.where(IdeaMessage.internal.is_(False))
    total = db.session.scalar(query.with_only_columns(func.count()))
    query = query.options(joinedload(IdeaMessage.author)).order_by(IdeaMessage.id.desc())
    if latest is not None:
        query = query.limit(latest)
    return list(reversed(db.session.scalars(query).all())), total


def events(idea: Idea) -> list[IdeaEvent]:
    return list(
        db.session.scalars(
            select(IdeaEvent)
            .where(IdeaEvent.idea_id == idea.id)
            .options(joinedload(IdeaEvent.actor))
            .order_by(IdeaEvent.id)
        )
    )


@dataclass(frozen=True)
class IdeaFilter:
    status: str = ""
    q: str = ""
    queue: bool = False  # the engineers' triage queue: open ones, nearest promise first
    following: bool = False  # only those the viewer follows


@dataclass(frozen=True, slots=True)
class ListedIdea:
    """A row of the list of suggestions, written for its reader."""

    id: int
    reference: str
    title: str
    direction: str
    status: str
    status_label: str
    account_name: str | None
    assignee: str | None  # the name of who handles it
    due: str  # the promised answer's day, "" without one
    late: bool  # waits for its first answer past the promised day
    answered: bool
    activity: str  # the latest activity, "3 days ago"


def ideas(viewer: User, filters: IdeaFilter, *, limit: int = 50) -> tuple[list[ListedIdea], int]:
    """One page of the suggestions the viewer may see that match `filters`, and how
    many match."""
    _check_viewer(viewer)
    status = filters.status if filters.status in STATUSES else ""
    q = filters.q.strip().lower()
    statements = _list_statements(
        viewer.is_vendor_staff,
        viewer.is_vendor_staff and viewer.has_role(*ENGINEERS),
        filters.queue,
        filters.following,
        bool(status),
        bool(q),
    )
    values = {**tenant_values(viewer), "viewer_id": viewer.id, "status": status, "q": q}
    # The page's rows are chosen by id first (each list read in index order), then
    # read with the account and the person handling them joined, in one statement.
    # Ids and a count need none of the ORM's handling of results: the connection runs
    # them.
    connection = db.session.connection()
    first, then, count = statements
    chosen = list(connection.execute(first, {**values, "limit": limit}).scalars())
    if then is not None and len(chosen) < limit:
        # The queue: those still waiting for a first answer, nearest promise first;
        # then the answered ones still open. Two queries, each read in index order
        # (first_answered_at, answer_due_on), instead of sorting every open one.
        chosen += connection.execute(then, {**values, "limit": limit - len(chosen)}).scalars()
    # Fewer chosen than the limit are all of them (the queue's two parts together are
    # every open one); else counted.
    total = len(chosen) if len(chosen) < limit else connection.execute(count, values).scalar()
    return _ideas_in_order(viewer, chosen), total


@cache
def _list_statements(
    vendor_staff: bool, engineer: bool, queue: bool, following: bool, status: bool, q: bool
) -> tuple[Select, Select | None, Select]:
    """The list's statements for one kind of viewer and filters, built once per process
    (building them and their cache keys cost a fifth of the engineers' list); the
    viewer, their account, the status and the words are bound per call. Who sees what
    is `visible_ideas`' rule (`_visible`), with the viewer and account bound."""
    viewer_id = bindparam("viewer_id", type_=Integer)
    query = _visible(
        scoped_once(select(Idea.id), Idea, vendor_staff), vendor_staff, engineer, viewer_id
    )
    if queue:
        query = query.where(
            Idea.status.in_([literal_column(f"'{s}'") for s in OPEN_STATUSES]),
            Idea.direction == literal_column("'customer'"),
        )
    if following:
        query = query.where(
            Idea.id.in_(select(IdeaFollower.idea_id).where(IdeaFollower.user_id == viewer_id))
        )
    if status:
        query = query.where(Idea.status == bindparam("status"))
    if q:
        query = query.where(func.lower(Idea.title).contains(bindparam("q")))
    limit = bindparam("limit", type_=Integer)
    # COUNT(*) over the filtered rows themselves: a subquery of whole rows made SQLite
    # copy every open suggestion (28 ms for 43,000).
    count = query.with_only_columns(func.count())
    if not queue:
        return (
            query.order_by(Idea.last_activity_at.desc(), Idea.id.desc()).limit(limit),
            None,
            count,
        )
    by_promise = (Idea.answer_due_on.asc(), Idea.submitted_at.asc(), Idea.id.asc())
    return (
        query.where(Idea.first_answered_at.is_(None)).order_by(*by_promise).limit(limit),
        query.where(Idea.first_answered_at.is_not(None)).order_by(*by_promise).limit(limit),
        count,
    )


def _ideas_in_order(viewer: User, ids: list[int]) -> list[ListedIdea]:
    """The suggestions of `ids` (already scoped) in that order, as the list shows them:
    rows of the shown columns, their texts written here with the reader's translations,
    locale and clock looked up once (loading them as suggestions with their account and
    handler, and the template's filters and labels looking those up for every row, were
    most of the engineers' page)."""
    if not ids:
        return []
    rows = db.session.connection().execute(_listed_statement(), {"ids": ids})
    by_id = {row.id: row for row in rows}
    labels = {status: str(label) for status, label in STATUSES.items()}
    proposed = str(PROPOSED)
    locale, activity = reader_locale(), agos()
    today = user_today(viewer)
    listed = []
    for idea_id in ids:
        row = by_id[idea_id]
        waits = row.status in OPEN_STATUSES and row.first_answered_at is None
        listed.append(
            ListedIdea(
                id=row.id,
                reference=f"S-{row.id:05d}",  # as Idea.reference
                title=row.title,
                direction=row.direction,
                status=row.status,
                # as Idea.status_label
                status_label=proposed
                if row.direction == "vendor" and row.status == "submitted"
                else labels[row.status],
                account_name=row.account_name,
                assignee=row.assignee,
                due=day_in(row.answer_due_on, locale) if row.answer_due_on else "",
                late=waits and row.answer_due_on is not None and row.answer_due_on < today,
                answered=row.first_answered_at is not None,
                activity=activity(row.last_activity_at),
            )
        )
    return listed


@cache
def _listed_statement() -> Select:
    """Built once per process (every view of the list reads its rows with it): the
    columns the list shows, with the account's and the handler's names."""
    return (
        select(
            Idea.id,
            Idea.direction,
            Idea.title,
            Idea.status,
            Idea.answer_due_on,
            Idea.first_answered_at,
            Idea.last_activity_at,
            CustomerAccount.name.label("account_name"),
            User.name.label("assignee"),
        )
        .outerjoin(CustomerAccount, CustomerAccount.id == Idea.account_id)
        .outerjoin(User, User.id == Idea.assignee_id)
        .where(Idea.id.in_(bindparam("ids", expanding=True)))
    )


# --- writing a suggestion ---------------------------------------------------------------------


def _event(idea: Idea, actor: User | None, kind: str, before=None, after=None, **detail) -> None:
    db.session.add(
        IdeaEvent(
            idea_id=idea.id,
            actor_id=actor.id if actor else None,
            kind=kind,
            before=before,
            after=after,
            detail=detail or None,
        )
    )
    idea.last_activity_at = utcnow()


def parse_saving(raw: str | None) -> Decimal | None:
    """A yearly saving as typed: '12,500.00', '12500', '' (none)."""
    text = (raw or "").strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(
            _("“%(text)s” is not an amount of money.", text=raw[:20]), field="expected_saving"
        ) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1000000000"):
        raise DomainError(
            _("Give the saving as an amount from 0 to 999,999,999."), field="expected_saving"
        )
    return value.quantize(Decimal("0.01"))


def save_draft(
    user: User,
    idea: Idea | None,
    *,
    title: str,
    body: str,
    category: str,
    expected_saving: str | None,
    expected_benefit: str,
    skus: str,
    account_id: int | None = None,
    files=(),
) -> Idea:
    """Create or change a draft. Customers write for their own account; an
    engineer writes a proposal for the account they name."""
    # Everything is checked before anything is added to the session.
    title = " ".join(title.split())
    if len(title) < 3:
        raise DomainError(_("Give the suggestion a title of a few words."), field="title")
    if len(title) > 200:
        raise DomainError(_("Keep the title under 200 characters."), field="title")
    if category not in CATEGORIES:
        raise DomainError(_("Choose a category from the list."), field="category")
    if len(body) > MAX_TEXT or len(expected_benefit) > MAX_TEXT:
        raise DomainError(
            _("Keep the text under %(max_text)s characters.", max_text=number(MAX_TEXT)),
            field="body",
        )
    products = _products(skus)
    saving = parse_saving(expected_saving)
    if idea is None:
        if user.is_vendor_staff:
            if not user.has_role(*ENGINEERS):
                raise Forbidden(_("Only engineers propose ideas to customers."))
            account = db.session.get(CustomerAccount, account_id) if account_id else None
            if account is None:
                raise DomainError(_("Choose the customer to propose this to."), field="account_id")
            idea = Idea(account_id=account.id, direction="vendor", created_by_id=user.id)
        else:
            idea = Idea(account_id=user.account_id, direction="customer", created_by_id=user.id)
        created = True
    else:
        if idea.status != "draft" or idea.created_by_id != user.id:
            raise DomainError(_("Only the author can change a draft, and only until it is sent."))
        created = False
    idea.products = products
    idea.title = title
    idea.body = body.strip()
    idea.category = category
    idea.expected_saving = saving
    idea.expected_benefit = expected_benefit.strip()
    if created:
        db.session.add(idea)
    db.session.flush()
    _store_files(user, idea, files, "idea", idea.id)
    if created:
        _event(idea, user, "drafted", after="draft")
        _follow(idea, user)
    else:
        idea.last_activity_at = utcnow()
    db.session.commit()
    return idea


def _products(skus: str) -> list:
    """Products named by SKU (commas, spaces or lines between them); unknown ones are named."""
    wanted = [s for s in (part.strip() for part in skus.replace(",", "\n").splitlines()) if s]
    if len(wanted) > 50:
        raise DomainError(_("Link at most 50 products."), field="skus")
    found = {}
    for sku in wanted:
        product = catalog.find_by_sku(sku)
        if product is None:
            raise DomainError(
                _("There is no product with the SKU “%(sku)s”.", sku=sku[:64]), field="skus"
            )
        found[product.id] = product  # the same SKU written twice is one product
    return list(found.values())


def submit(user: User, idea: Idea, today: date) -> Idea:
    """Send a draft: to the vendor's engineers (with the promised answer date),
    or, for an engineer's proposal, to the customer's users."""
    if idea.status != "draft" or idea.created_by_id != user.id:
        raise DomainError(_("Only the author can send a draft, and only once."))
    idea.status = "submitted"
    idea.submitted_at = utcnow()
    if idea.direction == "customer":
        days = current_app.config["IDEA_ANSWER_BUSINESS_DAYS"]
        idea.answer_due_on = add_business_days(today, days)
    _event(idea, user, "submitted", before="draft", after="submitted")
    if idea.direction == "customer":
        _notify(
            _engineers_and_manager(idea),
            user,
            "idea_submitted",
            {"account": idea.account.name},
            idea,
        )
    else:
        _notify(
            idea.account.users,
            user,
            "idea_proposed",
            {"vendor": current_app.config["VENDOR_NAME"]},
            idea,
        )
    db.session.commit()
    return idea


# --- the thread and the workflow --------------------------------------------------------------


def post(user: User, idea: Idea, *, body: str, kind: str = "message", files=()) -> IdeaMessage:
    """Add to the thread. A customer writes messages; vendor staff write
    messages, answers, questions (the suggestion then needs information) or
    internal notes, which the customer never sees."""
    body = body.strip()
    if not body:
        raise DomainError(_("Write something first."), field="body")
    if len(body) > MAX_TEXT:
        raise DomainError(
            _("Keep the message under %(max_text)s characters.", max_text=number(MAX_TEXT)),
            field="body",
        )
    if idea.status == "draft":
        raise DomainError(_("Send the suggestion before starting its thread."))
    if idea.status == "merged":
        raise DomainError(
            _(
                "This suggestion was merged into %(reference)s: the discussion goes on there.",
                reference=idea.merged_into.reference,
            )
        )
    vendor = user.is_vendor_staff
    if vendor and not user.has_role(*VENDOR_VIEWERS):
        raise Forbidden(_("Only engineers and account managers write here."))
    if not vendor and kind != "message":
        raise Forbidden(_("Customers write messages."))
    if kind not in ("message", "question", "answer", "note"):
        raise DomainError(_("Choose what kind of post this is."), field="kind")
    message = _message(idea, user, body, kind=kind)
    db.session.add(message)
    _follow(idea, user)  # who writes wants to hear the answer
    db.session.flush()
    _store_files(user, idea, files, "idea_message", message.id, internal=message.internal)
    if vendor and not message.internal and idea.direction == "customer":
        _first_answer(idea)
    if kind == "question" and idea.status in ("submitted", "under_review"):
        _set_status(idea, user, "needs_information")
    elif not vendor and idea.status == "needs_information":
        # The customer answered the question: back to the engineers.
        _set_status(idea, user, "under_review")
    else:
        idea.last_activity_at = utcnow()
    db.session.flush()
    if message.internal:
        pass  # internal notes tell nobody outside the vendor
    elif vendor:
        _notify(
            _customer_people(idea) + _followers(idea),
            user,
            "idea_answered",
            {"variant": kind if kind in ("question", "answer") else None},
            idea,
        )
    else:
        _notify(
            _engineers_and_manager(idea) + _followers(idea),
            user,
            "idea_message",
            {"account": idea.account.name},
            idea,
        )
    db.session.commit()
    return message


def change_status(
    user: User,
    idea: Idea,
    new_status: str,
    *,
    reason: str = "",
    realised_saving: str | None = None,
) -> Idea:
    """Move a customer's suggestion through the workflow. Declining needs a
    reason, which the customer reads in the thread."""
    if not user.has_role(*ENGINEERS):
        raise Forbidden(_("Only engineers change a suggestion's status."))
    if idea.direction != "customer":
        raise DomainError(_("A proposal to a customer is accepted or declined by the customer."))
    if new_status not in TRANSITIONS.get(idea.status, ()):
        raise DomainError(
            _(
                "A suggestion that is %(status)s cannot become %(new_status)s.",
                status=idea.status_label.lower(),
                new_status=STATUSES.get(new_status, new_status).lower(),
            ),
            field="status",
        )
    reason = reason.strip()
    if new_status == "declined" and not reason:
        raise DomainError(_("Tell the customer why the suggestion is declined."), field="reason")
    if len(reason) > MAX_TEXT:
        raise DomainError(
            _("Keep the reason under %(max_text)s characters.", max_text=number(MAX_TEXT)),
            field="reason",
        )
    if new_status == "implemented":
        idea.realised_saving = parse_saving(realised_saving)
    if reason:
        db.session.add(_message(idea, user, reason, kind="answer"))
    _first_answer(idea)
    _set_status(idea, user, new_status, reason=reason)
    db.session.flush()
    _notify(
        _customer_people(idea) + _followers(idea),
        user,
        "idea_status",
        {"status": idea.status_label},
        idea,
    )
    db.session.commit()
    return idea


def respond_to_proposal(user: User, idea: Idea, *, accept: bool, comment: str) -> Idea:
    """The customer accepts or declines an engineer's proposal."""
    if user.is_vendor_staff or user.account_id != idea.account_id:
        raise Forbidden(_("The customer answers a proposal."))
    if idea.direction != "vendor" or idea.status not in ("submitted", "under_review"):
        raise DomainError(_("This proposal is not waiting for your answer."))
    comment = comment.strip()
    if not accept and not comment:
        raise DomainError(_("Tell the engineers why you decline."), field="comment")
    if comment:
        db.session.add(_message(idea, user, comment))
    _set_status(idea, user, "accepted" if accept else "declined", reason=comment)
    db.session.flush()
    _notify(
        _engineers_and_manager(idea) + _followers(idea),
        user,
        "idea_status",
        {"variant": "accepted" if accept else "declined", "account": idea.account.name},
        idea,
    )
    db.session.commit()
    return idea


def assign(user: User, idea: Idea, assignee_id: int | None) -> Idea:
    """Put an engineer in charge of the suggestion (or nobody)."""
    if not user.has_role(*ENGINEERS):
        raise Forbidden(_("Only engineers assign suggestions."))
    assignee = None
    if assignee_id is not None:
        assignee = next((e for e in engineers() if e.id == assignee_id), None)
        if assignee is None:
            raise DomainError(_("Choose one of the vendor's engineers."), field="assignee_id")
    before = idea.assignee.name if idea.assignee else None
    idea.assignee_id = assignee.id if assignee else None
    _event(idea, user, "assigned", before=before, after=assignee.name if assignee else None)
    if assignee is not None:
        _follow(idea, assignee)
        _notify(
            [assignee],
            user,
            "idea_assigned",
            {"account": idea.account.name},
            idea,
        )
    db.session.commit()
    return idea


def merge(user: User, duplicate: Idea, into_id: int | None, *, comment: str = "") -> Idea:
    """Merge a duplicate into another suggestion of the same customer.

    The duplicate keeps its thread (read-only, pointing at the other one), its
    followers follow the other one too, its products are linked there, and the
    customer is told why in both threads. Suggestions are confidential to their
    account, so only suggestions of the same account can be merged.
    """
    if not user.has_role(*ENGINEERS):
        raise Forbidden(_("Only engineers merge suggestions."))
    if duplicate.direction != "customer" or duplicate.status not in MERGEABLE:
        raise DomainError(
            _(
                "A suggestion that is %(status)s cannot be merged.",
                status=duplicate.status_label.lower(),
            )
        )
    target = db.session.scalar(visible_ideas(user).where(Idea.id == (into_id or 0)))
    if target is None or target.account_id != duplicate.account_id:
        raise DomainError(
            _(
                "Choose another suggestion of %(account)s to merge into.",
                account=duplicate.account.name,
            ),
            field="into_id",
        )
    if target.id == duplicate.id:
        raise DomainError(_("A suggestion cannot be merged into itself."), field="into_id")
    if target.direction != "customer" or target.status not in (*MERGEABLE, "implemented"):
        raise DomainError(
            _(
                "%(reference)s is %(status)s: choose one that is still open.",
                reference=target.reference,
                status=target.status_label.lower(),
            ),
            field="into_id",
        )
    comment = comment.strip()
    if len(comment) > MAX_TEXT:
        raise DomainError(
            _("Keep the comment under %(max_text)s characters.", max_text=number(MAX_TEXT)),
            field="comment",
        )
    told = f"Merged into {_link(target)}: the same idea. "
    told += comment or "The discussion goes on there; this thread stays readable here."
    db.session.add(_message(duplicate, user, told, kind="answer"))
    db.session.add(
        _message(
            target,
            user,
            f"{_link(duplicate)} was merged into this suggestion. Its thread stays readable there.",
        )
    )
    for follower in _followers(duplicate):
        _follow(target, follower)
    if duplicate.created_by is not None:
        _follow(target, duplicate.created_by)
    for product in duplicate.products:
        if product not in target.products:
            target.products.append(product)
    _first_answer(duplicate)
    duplicate.merged_into_id = target.id
    _set_status(duplicate, user, "merged", into=target.reference)
    _event(target, user, "merged_in", after=duplicate.reference)
    db.session.flush()
    _notify(
        _customer_people(duplicate) + _followers(duplicate),
        user,
        "idea_status",
        {"variant": "merged", "reference": duplicate.reference, "target": target.reference},
        target,
    )
    db.session.commit()
    return target


def _link(idea: Idea) -> str:
    """A Markdown link to a suggestion; its title is escaped, so it stays text."""
    title = "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~" else c for c in idea.title)
    return f"[{idea.reference} {title}](/ideas/{idea.id})"


def merge_candidates(user: User, idea: Idea, limit: int = 200) -> list[Idea]:
    """What a duplicate can be merged into: the account's other open suggestions."""
    return list(
        db.session.scalars(
            visible_ideas(user)
            .where(
                Idea.account_id == idea.account_id,
                Idea.id != idea.id,
                Idea.direction == "customer",
                Idea.status.in_((*MERGEABLE, "implemented")),
            )
            .order_by(Idea.last_activity_at.desc())
            .limit(limit)
        )
    )


def merged_here(user: User, idea: Idea) -> list[Idea]:
    return list(
        db.session.scalars(
            visible_ideas(user).where(Idea.merged_into_id == idea.id).order_by(Idea.id)
        )
    )


# --- following -----------------------------------------------------------------------------------


def follow(user: User, idea: Idea) -> None:
    """Be told about the suggestion's answers and status changes."""
    if idea.status == "draft":
        raise DomainError(_("Drafts are the author's alone: send it first."))
    _follow(idea, user)
    db.session.commit()


def unfollow(user: User, idea: Idea) -> None:
    db.session.execute(
        IdeaFollower.__table__.delete().where(
            IdeaFollower.idea_id == idea.id, IdeaFollower.user_id == user.id
        )
    )
    db.session.commit()


def is_following(user: User, idea: Idea) -> bool:
    return db.session.get(IdeaFollower, {"idea_id": idea.id, "user_id": user.id}) is not None


def follower_count(idea: Idea) -> int:
    return db.session.scalar(
        select(func.count()).select_from(IdeaFollower).where(IdeaFollower.idea_id == idea.id)
    )


def _follow(idea: Idea, user: User) -> None:
    if db.session.get(IdeaFollower, {"idea_id": idea.id, "user_id": user.id}) is None:
        db.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))


def engineers() -> list[User]:
    return accounts.people_with_role(Role.ENGINEER)


def _message(idea: Idea, author: User, body: str, *, kind: str = "message") -> IdeaMessage:
    return IdeaMessage(
        idea_id=idea.id,
        author_id=author.id,
        kind=kind,
        internal=kind == "note",
        body=body,
        body_html=str(render_markdown(body)),
    )


def _first_answer(idea: Idea) -> None:
    if idea.first_answered_at is None and idea.direction == "customer":
        idea.first_answered_at = utcnow()


def _set_status(idea: Idea, actor: User, status: str, **detail) -> None:
    before, idea.status = idea.status, status
    _event(idea, actor, "status", before=before, after=status, **detail)


# --- who is told -------------------------------------------------------------------------------


def _customer_people(idea: Idea) -> list[User]:
    """The author on the customer's side (for a proposal: the account's users)."""
    if idea.direction == "customer" and idea.created_by is not None:
        return [idea.created_by]
    return list(idea.account.users)


def _followers(idea: Idea) -> list[User]:
    """Followers who may still see the suggestion: its account's users and
    vendor staff (someone moved to another account is not told)."""
    db.session.flush()
    people = db.session.scalars(
        select(User)
        .join(IdeaFollower, IdeaFollower.user_id == User.id)
        .where(IdeaFollower.idea_id == idea.id)
    )
    return [p for p in people if p.is_vendor_staff or p.account_id == idea.account_id]


def _engineers_and_manager(idea: Idea) -> list[User]:
    people = [idea.assignee] if idea.assignee else engineers()
    if idea.account.account_manager is not None:
        people.append(idea.account.account_manager)
    return people


def _notify(users, actor: User, kind: str, params: dict, idea: Idea) -> None:
    from portal.notifications import service as notifications

    params = {"reference": idea.reference, "title": idea.title, **params}
    notifications.notify(users, kind, params, f"/ideas/{idea.id}", exclude=actor)
