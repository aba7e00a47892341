"""The promise ledger's lateness figures; relationship ratings and reviews

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:40:00

`promise_ledger_day` gains `late_lines` and `late_days` (how late the lines that
arrived late came). The ledger also counts a line the customer cancelled after its
promised date as a broken promise now, so the daily figures are recomputed from the
order events here, with the ledger's own fold of one line (`line_figures`, a pure
function): what `ledger.rebuild()` would write, without the application's session.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("promise_ledger_day", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late_lines", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("late_days", sa.Integer(), nullable=False, server_default="0")
        )

    _recompute_promise_ledger()

    op.create_table(
        "relationship_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 1 AND 5", name=op.f("ck_relationship_rating_score_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_rating_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_relationship_rating_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_rating")),
    )
    op.create_index(
        "ix_relationship_rating_account_rated", "relationship_rating", ["account_id", "rated_at"]
    )

    op.create_table(
        "relationship_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trend", sa.String(length=20), nullable=True),
        sa.Column("neglected", sa.Text(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "period_start <= period_end", name=op.f("ck_relationship_review_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_review_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_assessed_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_shared_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_review")),
    )
    op.create_index(
        "ix_relationship_review_account_period",
        "relationship_review",
        ["account_id", "period_end"],
    )

    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["relationship_review.id"],
            name=op.f("fk_review_comment_review_id_relationship_review"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_review_comment_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_review_comment_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comment")),
    )
    op.create_index(op.f("ix_review_comment_review_id"), "review_comment", ["review_id"])

    op.create_table(
        "review_reminder",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_review_reminder_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "period_start", name=op.f("pk_review_reminder")),
    )


def _recompute_promise_ledger():
    from portal.fulfilment.ledger import FIGURES, LEDGER_KINDS, Figures, line_figures

    bind = op.get_bind()
    account = sa.table(
        "customer_account", sa.column("id", sa.Integer), sa.column("promise_basis", sa.String)
    )
    order = sa.table(
        "customer_order", sa.column("id", sa.Integer), sa.column("account_id", sa.Integer)
    )
    event = sa.table(
        "order_event",
        sa.column("id", sa.Integer),
        sa.column("order_id", sa.Integer),
        sa.column("line_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("quantity", sa.Integer),
        sa.column("on_date", sa.Date),
        sa.column("at", sa.DateTime),
    )
    ledger_day = sa.table(
        "promise_ledger_day",
        sa.column("account_id", sa.Integer),
        sa.column("day", sa.Date),
        *[sa.column(name, sa.Integer) for name in FIGURES],
    )
    rows = bind.execute(
        sa.select(
            order.c.account_id,
            account.c.promise_basis,
            event.c.line_id,
            event.c.kind,
            event.c.quantity,
            event.c.on_date,
            event.c.at,
        )
        .select_from(
            event.join(order, order.c.id == event.c.order_id).join(
                account, account.c.id == order.c.account_id
            )
        )
        .where(event.c.line_id.is_not(None), event.c.kind.in_(LEDGER_KINDS))
        .order_by(event.c.line_id, event.c.id)
    )
    days = defaultdict(Figures)
    current, events, owner = None, [], None
    for row in [*rows, None]:
        if row is None or row.line_id != current:
            if events:
                figures = line_figures(events, owner[1])
                share = figures.contribution()
                if share:
                    days[(owner[0], figures.first_promise)].add(share)
            if row is None:
                break
            current, events, owner = row.line_id, [], (row.account_id, row.promise_basis)
        events.append(row)
    bind.execute(sa.delete(ledger_day))
    if days:
        bind.execute(
            sa.insert(ledger_day),
            [
                {"account_id": account_id, "day": day, **vars(figures)}
                for (account_id, day), figures in days.items()
            ],
        )


def downgrade():
    op.drop_table("review_reminder")
    op.drop_index(op.f("ix_review_comment_review_id"), table_name="review_comment")
    op.drop_table("review_comment")
    op.drop_index("ix_relationship_review_account_period", table_name="relationship_review")
    op.drop_table("relationship_review")
    op.drop_index("ix_relationship_rating_account_rated", table_name="relationship_rating")
    op.drop_table("relationship_rating")
    with op.batch_alter_table("promise_ledger_day", schema=None) as batch_op:
        batch_op.drop_column("late_days")
        batch_op.drop_column("late_lines")
