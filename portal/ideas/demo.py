"""Demo suggestions across the demo accounts, through the same services people use:
every status, threads with questions and internal notes, some overdue, some
implemented with savings, and two proposals from the vendor's engineers."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import ContractPrice, Product
from portal.extensions import db
from portal.notifications.models import Notification

from . import service
from .models import Idea, IdeaEvent, IdeaMessage

TITLES = [
    (
        "design",
        "Stamped bracket instead of a machined one",
        "The machined bracket is over-specified for our loads.",
    ),
    (
        "material",
        "FKM instead of FFKM seals on the low-temperature line",
        "Our media stay below 120 °C.",
    ),
    (
        "process",
        "Deburr the valve bodies before anodising",
        "We find burrs under the coating on one in twenty.",
    ),
    (
        "packaging",
        "Returnable crates for the bearing deliveries",
        "We throw away two pallets of cardboard a week.",
    ),
    (
        "logistics",
        "One consolidated delivery on Tuesdays",
        "Four part deliveries a week tie up our goods receiving.",
    ),
    (
        "documentation",
        "Torque values on the pump drawing",
        "Fitters look them up in a separate sheet.",
    ),
    (
        "design",
        "A second mounting hole pattern on the motor flange",
        "Would let us drop an adapter plate.",
    ),
    ("other", "Barcode labels with the PO line", "Saves a manual match at goods receiving."),
    (
        "material",
        "Powder-coated instead of galvanised brackets",
        "Better corrosion resistance in our wash-down area.",
    ),
    (
        "process",
        "Pressure-test certificates with every valve batch",
        "Our auditor asks for them each quarter.",
    ),
]
PROPOSALS = [
    ("A cheaper seal material for your dosing pumps", "FKM would do for your media at a third."),
    (
        "One bracket for both pump sizes",
        "Design-for-manufacture: fewer variants, shorter lead times.",
    ),
]
DECLINED = "The change needs a new certification of the part; not worth it at this volume."
QUESTIONS = ["Which drawing revision do you use?", "What volume per year do you expect?"]
ANSWERS = [
    "Thank you — this is a good one. We are costing it with production.",
    "We looked at this with the design team; details below.",
]


# Days back of an account's newest suggestion (its others go up to 199 days further):
# Umbrella (C-10004) has suggested nothing for over a year although it kept ordering, and
# Initech (C-10003) nothing since its burst of complaints about four months ago (see
# service.demo); both are silences the relationship signals must notice.
NEWEST_DAYS_AGO = {"C-10004": 380, "C-10003": 140}
# The healthy account's suggestions are answered within the promise (five working days).
PROMPTLY_ANSWERED = {"C-10001"}


def load(rng: random.Random, today: date) -> dict[str, int]:
    engineer = db.session.scalar(select(User).where(User.email == "engineer@vendor.test"))
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)).all()
    made = 0
    for account in accounts:
        people = [u for u in account.users if u.has_role(Role.BUYER, Role.CUSTOMER_ADMIN)]
        skus = _skus(account)
        for n in range(rng.randint(6, 9)):
            category, title, body = rng.choice(TITLES)
            author = rng.choice(people)
            earliest = NEWEST_DAYS_AGO.get(account.number, 1)
            started = today - timedelta(days=rng.randint(earliest, earliest + 199))
            with dated(started) as stamp:
                stamp.idea = idea = service.save_draft(
                    author,
                    None,
                    title=title,
                    body=f"{body}\n\n- affects our line {rng.randint(1, 6)}\n- parts below",
                    category=category,
                    expected_saving=str(rng.choice((2500, 8000, 15000, 40000))) if n % 3 else "",
                    expected_benefit="Shorter lead time." if n % 4 == 0 else "",
                    skus=", ".join(rng.sample(skus, k=min(2, len(skus)))),
                )
            made += 1
            if n == 0:
                continue  # one draft per account
            with dated(started, idea):
                service.submit(author, idea, started)
            _play(rng, idea, engineer, started, today, account.number in PROMPTLY_ANSWERED)
    acme = accounts[0]
    made += _duplicate(acme, engineer, today)
    for title, body in PROPOSALS:
        proposal = service.save_draft(
            engineer,
            None,
            title=title,
            body=body,
            category="design",
            expected_saving="6000",
            expected_benefit="",
            skus="",
            account_id=acme.id,
        )
        service.submit(engineer, proposal, today)
        made += 1
    # The bell shows recent news; older news is read.
    db.session.execute(
        update(Notification)
        .where(Notification.created_at < _when(today - timedelta(days=10)))
        .values(read_at=Notification.created_at)
    )
    db.session.commit()
    return {"suggestions": made}


def _play(rng, idea: Idea, engineer: User, started: date, today: date, prompt: bool) -> None:
    """Some get answered within the promise, some late, some not yet; then a status.
    `prompt`: answered within the promise, and none left waiting past it."""
    outcome = rng.choice(
        ("waiting", "question", "accepted", "declined", "planned", "implemented", "review")
    )
    if outcome == "waiting" and prompt and started < today - timedelta(days=2):
        outcome = "review"
    if outcome == "waiting":
        return  # some of these are overdue by now
    delay = rng.choice((1, 2, 3) if prompt else (1, 2, 3, 6, 9))
    with dated(min(today, started + timedelta(days=delay)), idea):
        service.assign(engineer, idea, engineer.id)
        service.post(engineer, idea, body="Check the cost impact with purchasing.", kind="note")
        if outcome == "question":
            service.post(engineer, idea, body=rng.choice(QUESTIONS), kind="question")
            return
        service.post(engineer, idea, body=rng.choice(ANSWERS), kind="answer")
        if outcome == "review":
            service.change_status(engineer, idea, "under_review")
        elif outcome == "declined":
            service.change_status(engineer, idea, "declined", reason=DECLINED)
        else:
            service.change_status(engineer, idea, "accepted")
            if outcome in ("planned", "implemented"):
                service.change_status(engineer, idea, "planned")
            if outcome == "implemented":
                saving = str(rng.choice((1800, 5200, 12000, 31000)))
                service.change_status(engineer, idea, "implemented", realised_saving=saving)


def _duplicate(account: CustomerAccount, engineer: User, today: date) -> int:
    """A colleague sends what the account already suggested; the engineer merges it,
    and the account's customer admin follows the one that goes on."""
    original = db.session.scalar(
        select(Idea)
        .where(
            Idea.account_id == account.id,
            Idea.direction == "customer",
            Idea.status.in_(service.MERGEABLE),
        )
        .order_by(Idea.submitted_at)
    )
    admin = next((u for u in account.users if u.has_role(Role.CUSTOMER_ADMIN)), None)
    if original is None or admin is None:
        return 0
    service.follow(admin, original)
    started = today - timedelta(days=12)
    with dated(started) as stamp:
        stamp.idea = duplicate = service.save_draft(
            admin,
            None,
            title=f"{original.title} for our second plant",
            body="Our second plant asks for the same.",
            category=original.category,
            expected_saving="",
            expected_benefit="",
            skus="",
        )
    with dated(started, duplicate):
        service.submit(admin, duplicate, started)
    with dated(started + timedelta(days=2), duplicate):
        service.merge(engineer, duplicate, original.id, comment="Both plants are covered there.")
    return 1


def _skus(account: CustomerAccount) -> list[str]:
    return list(
        db.session.scalars(
            select(Product.sku)
            .join(ContractPrice, ContractPrice.product_id == Product.id)
            .where(ContractPrice.account_id == account.id)
            .distinct()
            .order_by(Product.sku)
            .limit(30)
        )
    )


def _when(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


class dated:  # noqa: N801 - used as `with dated(day):`
    """Date to `day` what the services inside write: events, messages,
    notifications, and the suggestion's own timestamps."""

    MODELS = ((IdeaEvent, "at"), (IdeaMessage, "created_at"), (Notification, "created_at"))

    def __init__(self, day: date, idea: Idea | None = None):
        self.when, self.idea = _when(day), idea

    def __enter__(self):
        self.marks = [db.session.scalar(select(func.max(m.id))) or 0 for m, _ in self.MODELS]
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        for (model, column), mark in zip(self.MODELS, self.marks, strict=True):
            db.session.execute(update(model).where(model.id > mark).values({column: self.when}))
        if self.idea is not None:
            idea = self.idea
            db.session.refresh(idea)
            values = {"last_activity_at": self.when}
            if idea.status == "draft":
                values["created_at"] = self.when
            elif idea.submitted_at is not None and idea.submitted_at > self.when:
                values["submitted_at"] = self.when
            if idea.first_answered_at is not None and idea.first_answered_at > self.when:
                values["first_answered_at"] = self.when
            db.session.execute(update(Idea).where(Idea.id == idea.id).values(values))
        db.session.commit()
        return False
