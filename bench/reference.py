"""The fortunes-style reference page: the simplest dynamic page on the portal's own stack.

TechEmpower's "fortunes" test: one query of twelve rows, one row added at request
time, sorted in Python, rendered by Jinja with escaping. Here it runs inside the
portal's application (its request log, security headers, SQLAlchemy session and
Jinja environment), so every page's throughput can be compared with it in the
same run (bench/page_cost.py). It is registered only by `reference_app()`, which
the benchmark gives gunicorn; the portal's own routes never include it.

The table `bench_fortune` is made by `create_fortunes()` in the benchmark's
throw-away database; the portal's models and migrations know nothing of it.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from sqlalchemy import text

from portal.extensions import db
from portal.security import public

bp = Blueprint("bench_reference", __name__, template_folder="templates")

FORTUNES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
)


@bp.get("/bench/fortunes")
@public
def fortunes():
    rows = [
        (row.id, row.message)
        for row in db.session.execute(text("SELECT id, message FROM bench_fortune"))
    ]
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda row: row[1])
    return render_template("bench/fortunes.html", fortunes=rows)


@bp.get("/bench/layout")
def layout_alone():
    """The floor of every signed-in page: the sign-in read and the layout (navigation,
    bell, user menu) around an empty content block, and nothing of a page's own."""
    return render_template("bench/signed_in_empty.html")


def create_fortunes(app: Flask) -> None:
    """The reference page's table with its twelve rows (idempotent)."""
    with app.app_context():
        db.session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_fortune "
                "(id INTEGER PRIMARY KEY, message VARCHAR(2048) NOT NULL)"
            )
        )
        db.session.execute(text("DELETE FROM bench_fortune"))
        db.session.execute(
            text("INSERT INTO bench_fortune (id, message) VALUES (:id, :message)"),
            [{"id": n, "message": message} for n, message in enumerate(FORTUNES, start=1)],
        )
        db.session.commit()


def reference_app(freeze: bool = True) -> Flask:
    """The portal with the reference page added; gunicorn: `bench.reference:reference_app()`.
    Start-up's objects are frozen out of the collector's full passes as wsgi.py does
    (`reference_app(freeze=False)` measures without)."""
    import gc

    from portal import create_app

    app = create_app()
    app.register_blueprint(bp)
    if freeze:
        gc.freeze()
    return app
