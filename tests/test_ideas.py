"""Design suggestions: drafts, sending with a promised answer, the thread and its
internal notes, the workflow, proposals to customers; confidentiality; bad input."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Category, Product, Stock
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.ideas import service
from portal.ideas.models import Idea, IdeaFollower
from portal.notifications.models import Notification

from .damaged_files import (
    CONTENT_TYPES,
    DAMAGED,
    GOOD,
    bad_crc,
    flipped_bytes,
    row_counts,
    wrong_sizes,
)
from .support import soup

TODAY = date(2026, 11, 26)  # a Thursday


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def draft(email: str = "buyer@acme.test", **fields) -> Idea:
    values = {
        "title": "Use a stamped bracket instead of a machined one",
        "body": "The **machined** bracket costs too much.",
        "category": "design",
        "expected_saving": "12,500",
        "expected_benefit": "Shorter lead time.",
        "skus": "",
    } | fields
    return service.save_draft(user(email), None, **values)


def sent(email: str = "buyer@acme.test", **fields) -> Idea:
    idea = draft(email, **fields)
    return service.submit(user(email), idea, TODAY)


def test_working_days_skip_the_weekend():
    assert service.add_business_days(TODAY, 5) == date(2026, 12, 3)
    assert service.add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon


def test_a_draft_is_the_authors_alone_until_it_is_sent(app, demo):
    with app.app_context():
        idea = draft()
        assert idea.expected_saving == Decimal("12500.00")
        for email in ("admin@acme.test", "engineer@vendor.test"):
            with pytest.raises(Exception, match="No such suggestion"):
                service.idea_for(user(email), idea.id)
        service.submit(user("buyer@acme.test"), idea, TODAY)
        assert idea.status == "submitted" and idea.answer_due_on == date(2026, 12, 3)
        for email in ("admin@acme.test", "engineer@vendor.test", "manager@vendor.test"):
            assert service.idea_for(user(email), idea.id).id == idea.id
        for email in ("buyer@globex.test", "manager2@vendor.test"):
            with pytest.raises(Exception, match="No such suggestion"):
                service.idea_for(user(email), idea.id)
        with pytest.raises(Forbidden):
            service.idea_for(user("planner@vendor.test"), idea.id)
        told = set(
            db.session.scalars(
                select(Notification.kind).where(
                    Notification.user_id == user("engineer@vendor.test").id
                )
            )
        )
        assert told == {"idea_submitted"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  "}, "title of a few words"),
        ({"title": "x" * 201}, "under 200"),
        ({"category": "colour"}, "category"),
        ({"expected_saving": "lots"}, "not an amount"),
        ({"expected_saving": "-5"}, "from 0"),
        ({"expected_saving": "1e12"}, "from 0"),
        ({"skus": "NOPE-1"}, "no product with the SKU “NOPE-1”"),
        ({"body": "x" * 20_001}, "under 20,000"),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_saved(app, demo, fields, message):
    with app.app_context():
        with pytest.raises(DomainError, match=message):
            draft(**fields)
        db.session.rollback()
        assert db.session.scalar(select(Idea.id)) is None


def test_internal_notes_never_reach_the_customer(app, demo, login_as):
    with app.app_context():
        idea = sent()
        engineer = user("engineer@vendor.test")
        service.post(engineer, idea, body="Margins are thin here; SECRET-NOTE", kind="note")
        service.post(engineer, idea, body="Thanks, we look at it.", kind="answer")
        idea_id = idea.id
        assert idea.first_answered_at is not None
        messages, total = service.thread(user("buyer@acme.test"), idea)
        assert [m.kind for m in messages] == ["answer"] and total == 1
    for email in ("buyer@acme.test", "admin@acme.test"):
        person = login_as(email)
        for url in (f"/ideas/{idea_id}", "/ideas", "/"):
            assert "SECRET-NOTE" not in person.get(url).get_data(as_text=True), (email, url)
        fragment = person.get(f"/ideas/{idea_id}", headers={"HX-Request": "true"})
        assert "SECRET-NOTE" not in fragment.get_data(as_text=True)
    page = login_as("engineer@vendor.test").get(f"/ideas/{idea_id}").get_data(as_text=True)
    assert "SECRET-NOTE" in page and "Internal note — vendor staff only" in page
    assert login_as("buyer@globex.test").get(f"/ideas/{idea_id}").status_code == 404


def test_questions_wait_for_the_customer_and_answers_go_back_to_review(app, demo):
    with app.app_context():
        idea = sent()
        service.post(
            user("engineer@vendor.test"), idea, body="Which drawing revision?", kind="question"
        )
        assert idea.status == "needs_information"
        service.post(user("buyer@acme.test"), idea, body="Revision C.")
        assert idea.status == "under_review"
        with pytest.raises(Forbidden):
            service.post(user("buyer@acme.test"), idea, body="x", kind="note")
        with pytest.raises(DomainError, match="Write something"):
            service.post(user("buyer@acme.test"), idea, body="   ")


def test_the_workflow_refuses_jumps_and_declines_without_a_reason(app, demo):
    with app.app_context():
        engineer = user("engineer@vendor.test")
        idea = sent()
        with pytest.raises(DomainError, match="cannot become implemented"):
            service.change_status(engineer, idea, "implemented")
        with pytest.raises(DomainError, match="why the suggestion is declined"):
            service.change_status(engineer, idea, "declined", reason=" ")
        with pytest.raises(Forbidden):
            service.change_status(user("buyer@acme.test"), idea, "accepted")
        service.change_status(engineer, idea, "accepted")
        service.change_status(engineer, idea, "planned")
        with pytest.raises(DomainError, match="not an amount"):
            service.change_status(engineer, idea, "implemented", realised_saving="a lot")
        db.session.rollback()
        idea = db.session.get(Idea, idea.id)
        service.change_status(engineer, idea, "implemented", realised_saving="9,800.50")
        assert idea.realised_saving == Decimal("9800.50")
        assert [(e.kind, e.after) for e in service.events(idea)] == [
            ("drafted", "draft"),
            ("submitted", "submitted"),
            ("status", "accepted"),
            ("status", "planned"),
            ("status", "implemented"),
        ]


def test_engineers_propose_and_the_customer_answers(app, demo):
    with app.app_context():
        engineer = user("engineer@vendor.test")
        acme = user("buyer@acme.test").account
        proposal = service.save_draft(
            engineer,
            None,
            title="A cheaper seal material",
            body="FKM instead of FFKM",
            category="material",
            expected_saving="",
            expected_benefit="",
            skus="",
            account_id=acme.id,
        )
        with pytest.raises(Exception, match="No such suggestion"):
            service.idea_for(user("buyer@acme.test"), proposal.id)  # still a draft
        service.submit(engineer, proposal, TODAY)
        assert proposal.answer_due_on is None
        with pytest.raises(DomainError, match="why you decline"):
            service.respond_to_proposal(user("buyer@acme.test"), proposal, accept=False, comment="")
        service.respond_to_proposal(user("buyer@acme.test"), proposal, accept=True, comment="")
        assert proposal.status == "accepted"
        with pytest.raises(Forbidden):
            service.save_draft(
                user("planner@vendor.test"),
                None,
                title="x y z",
                body="",
                category="other",
                expected_saving="",
                expected_benefit="",
                skus="",
                account_id=acme.id,
            )


def test_the_queue_puts_the_nearest_promise_first(app, demo, login_as):
    with app.app_context():
        late = sent(title="Older idea")
        late.answer_due_on = TODAY - timedelta(days=2)
        sent(title="Newer idea")
        answered = sent(title="Answered idea")
        service.post(user("engineer@vendor.test"), answered, body="Done.", kind="answer")
        service.change_status(user("engineer@vendor.test"), answered, "accepted")
        db.session.commit()
    page = soup(login_as("engineer@vendor.test").get("/ideas"))
    titles = [td.text.strip() for td in page.select("#results tbody td:nth-child(2)")]
    assert titles == ["Older idea", "Newer idea"]
    assert page.select_one("#results tbody tr .badge-late") is not None


def test_markdown_is_rendered_and_sanitised(app, demo, login_as):
    with app.app_context():
        idea = sent(
            body="**Bold** <script>alert(1)</script> [x](javascript:alert(2)) [ok](https://example.com)"
        )
        idea_id = idea.id
    page = login_as("buyer@acme.test").get(f"/ideas/{idea_id}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    assert 'href="https://example.com" rel="noopener noreferrer nofollow"' in page
    preview = login_as("buyer@acme.test").post(
        "/ideas/preview", {"body": "<img src=x onerror=alert(1)> *hi*"}, page="/ideas/new"
    )
    assert "<em>hi</em>" in preview.get_data(as_text=True)
    assert "<img" not in preview.get_data(as_text=True)


def test_the_forms_show_bad_input_beside_the_field(app, demo, login_as):
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/ideas/new",
        {"title": "ok title", "category": "design", "expected_saving": "cheap", "skus": ""},
        page="/ideas/new",
    )
    assert response.status_code == 422
    assert "not an amount of money" in soup(response).select_one("#expected_saving-error").text
    with app.app_context():
        idea_id = sent().id
    response = buyer.post(f"/ideas/{idea_id}/messages", {"body": ""}, page=f"/ideas/{idea_id}")
    assert response.status_code == 422
    engineer = login_as("engineer@vendor.test")
    response = engineer.post(
        f"/ideas/{idea_id}/status", {"status": "declined", "reason": ""}, page=f"/ideas/{idea_id}"
    )
    assert response.status_code == 422
    assert "why the suggestion is declined" in response.get_data(as_text=True)


@pytest.fixture
def bracket(app, demo):
    with app.app_context():
        product = Product(
            sku="BRK-100",
            name="Bracket",
            category=Category(name="Brackets"),
            list_price=Decimal("3.00"),
            stock=Stock(on_hand=1),
        )
        db.session.add(product)
        db.session.commit()


def test_products_are_linked_by_sku(app, bracket):
    with app.app_context():
        idea = draft(skus="brk-100, BRK-100")
        assert [p.sku for p in idea.products] == ["BRK-100"]


def test_measures_on_a_hand_worked_example():
    from datetime import UTC, datetime

    from portal.ideas.measures import Record, measure

    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    friday = date(2026, 11, 6)
    records = [
        # answered after one day, accepted
        Record(monday, friday, monday + timedelta(days=1), "accepted"),
        # answered after seven days (late), declined
        Record(monday, friday, monday + timedelta(days=7), "declined"),
        # never answered, its promise passed: counts against
        Record(monday, friday, None, "submitted"),
        # never answered, not yet due: not judged
        Record(monday, date(2026, 11, 20), None, "submitted"),
        # answered after three days, implemented, saving 1,000 a year
        Record(monday, friday, monday + timedelta(days=3), "implemented", Decimal("1000")),
    ]
    m = measure(records, now=datetime(2026, 11, 10, 12, 0, tzinfo=UTC))
    assert m.sent == 5
    assert m.median_days_to_answer == 3.0
    assert (m.due, m.within_promise, m.share_within_promise) == (4, 2, 0.5)
    assert (m.decided, m.accepted) == (3, 2) and round(m.acceptance_rate, 3) == 0.667
    assert (m.implemented, m.realised_saving) == (1, Decimal("1000"))
    assert measure([], now=datetime(2026, 11, 10, tzinfo=UTC)).median_days_to_answer is None


def test_each_side_sees_its_own_measures(app, demo, login_as):
    with app.app_context():
        acme_idea = sent()
        service.post(user("engineer@vendor.test"), acme_idea, body="Yes.", kind="answer")
        sent("buyer@globex.test")
    customer = soup(login_as("buyer@acme.test").get("/ideas/measures"))
    kpis = {
        dt.text: dd.text
        for dt, dd in zip(customer.select(".kpis dt"), customer.select(".kpis dd"), strict=True)
    }
    assert kpis["Sent"] == "1" and "Globex" not in customer.text
    vendor = soup(login_as("engineer@vendor.test").get("/ideas/measures"))
    kpis = {
        dt.text: dd.text
        for dt, dd in zip(vendor.select(".kpis dt"), vendor.select(".kpis dd"), strict=True)
    }
    assert kpis["Sent"] == "2"
    assert "Globex Manufacturing" in vendor.text and "Acme Industrial" in vendor.text


def test_a_long_thread_shows_its_latest_posts_first_and_all_on_request(app, demo, login_as):
    with app.app_context():
        idea = sent()
        for n in range(105):
            service.post(user("buyer@acme.test"), idea, body=f"Post number {n:03d}")
        idea_id = idea.id
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/ideas/{idea_id}"))
    assert len(page.select(".thread > li")) == 100
    assert "The latest 100 of 105 posts" in page.text and "Post number 104" in page.text
    assert "Post number 004" not in page.text
    everything = soup(buyer.get(f"/ideas/{idea_id}?thread=all"))
    assert len(everything.select(".thread > li")) == 105


# --- files on suggestions and posts -----------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_files_go_with_posts_and_internal_ones_stay_inside(app, demo, login_as):
    import io

    with app.app_context():
        idea_id = sent().id
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        f"/ideas/{idea_id}/messages",
        {"body": "The drawing", "files": (io.BytesIO(PDF), "bracket drawing.pdf")},
        page=f"/ideas/{idea_id}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    engineer = login_as("engineer@vendor.test")
    response = engineer.post(
        f"/ideas/{idea_id}/messages",
        {"body": "Our cost sheet", "kind": "note", "files": (io.BytesIO(b"cost;1\n"), "cost.csv")},
        page=f"/ideas/{idea_id}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = soup(engineer.get(f"/ideas/{idea_id}"))
    links = {a.text: a["href"] for a in page.select(".files a")}
    assert set(links) == {"bracket drawing.pdf", "cost.csv"}
    assert engineer.get(links["bracket drawing.pdf"]).data == PDF
    # The customer sees their drawing, never the internal file, not even by its address.
    customer_page = soup(buyer.get(f"/ideas/{idea_id}"))
    assert [a.text for a in customer_page.select(".files a")] == ["bracket drawing.pdf"]
    assert buyer.get(links["cost.csv"]).status_code == 404
    assert login_as("buyer@globex.test").get(links["bracket drawing.pdf"]).status_code == 404
    assert login_as("planner@vendor.test").get(links["bracket drawing.pdf"]).status_code == 404
    assert login_as("manager2@vendor.test").get(links["bracket drawing.pdf"]).status_code == 404


def test_a_refused_file_refuses_the_post_and_keeps_nothing(app, demo, login_as):
    import io

    from portal.attachments.models import Attachment
    from portal.ideas.models import IdeaMessage

    with app.app_context():
        idea_id = sent().id
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        f"/ideas/{idea_id}/messages",
        {"body": "See attached", "files": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "setup.pdf")},
        page=f"/ideas/{idea_id}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not accepted" in soup(response).select_one(".form-errors").text
    with app.app_context():
        assert (
            db.session.scalar(select(IdeaMessage.id).where(IdeaMessage.body == "See attached"))
            is None
        )
        assert db.session.scalar(select(Attachment.id)) is None


CT_SIZES = zipfile.ZipFile(io.BytesIO(GOOD)).getinfo(CONTENT_TYPES)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(flipped_bytes(GOOD, CONTENT_TYPES), id="content-types-deflate-corrupt"),
        pytest.param(bad_crc(GOOD, CONTENT_TYPES), id="content-types-crc-fails"),
        pytest.param(
            wrong_sizes(GOOD, CONTENT_TYPES, size=CT_SIZES.file_size // 2), id="size-too-small"
        ),
        pytest.param(
            wrong_sizes(GOOD, CONTENT_TYPES, compressed=CT_SIZES.compress_size // 2),
            id="compressed-size-too-small",
        ),
        pytest.param(GOOD[: len(GOOD) // 2], id="file-cut-in-half"),
        pytest.param(GOOD[:-30], id="directory-cut-short"),
    ],
)
def test_a_workbook_whose_parts_cannot_be_read_is_refused_and_nothing_kept(
    app, demo, login_as, data
):
    """The type check reads a workbook's directory and content types: when those are
    damaged, the file is refused with the type check's message."""
    with app.app_context():
        idea_id = sent().id
    buyer = login_as("buyer@acme.test")
    before = row_counts(app)
    response = post_file(buyer, idea_id, data, "costs.xlsx")
    assert response.status_code == 422
    message = soup(response).select_one(".form-errors").get_text()
    assert "not a Word, Excel or PowerPoint file" in message
    assert row_counts(app) == before


@pytest.mark.parametrize(("data", "name", "message"), DAMAGED)
def test_no_damaged_file_is_a_server_error_and_a_refused_one_keeps_nothing(
    app, demo, login_as, data, name, message
):
    """Attachments are kept as sent, not opened: a workbook whose sheet is damaged is
    the sender's file to keep; what the type check cannot accept is refused whole."""
    with app.app_context():
        idea_id = sent().id
    buyer = login_as("buyer@acme.test")
    before = row_counts(app)
    response = post_file(buyer, idea_id, data, name)
    assert response.status_code in (303, 422)
    if response.status_code == 422:
        told = soup(response).select_one(".form-errors").get_text()
        assert re.search(r"is not accepted|is empty|is named as", told)
        assert row_counts(app) == before


def post_file(person, idea_id: int, data: bytes, name: str):
    return person.post(
        f"/ideas/{idea_id}/messages",
        {"body": "Our figures", "files": (io.BytesIO(data), name)},
        page=f"/ideas/{idea_id}",
        content_type="multipart/form-data",
    )


def kinds_told(email: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.user_id == user(email).id)
            .order_by(Notification.id)
        )
    )


def test_followers_are_told_of_answers_and_status_changes(app, demo, login_as):
    with app.app_context():
        idea = sent()
        engineer = user("engineer@vendor.test")
        colleague = user("admin@acme.test")
        manager = user("manager@vendor.test")
        # The author follows without asking; the engineer in charge too.
        service.assign(engineer, idea, engineer.id)
        assert service.is_following(user("buyer@acme.test"), idea)
        assert service.is_following(engineer, idea)
        service.follow(colleague, idea)
        service.follow(colleague, idea)  # following twice is following once
        assert service.follower_count(idea) == 3
        service.post(engineer, idea, body="We look at it this week.", kind="answer")
        service.post(engineer, idea, body="Margins are thin; NOTE", kind="note")
        service.change_status(engineer, idea, "accepted")
        assert kinds_told("admin@acme.test") == ["idea_answered", "idea_status"]
        assert kinds_told("buyer@acme.test") == ["idea_answered", "idea_status"]
        # The account manager follows and hears the customer's reply, not the note.
        service.follow(manager, idea)
        before = len(kinds_told("manager@vendor.test"))
        service.post(user("buyer@acme.test"), idea, body="Great, thanks.")
        assert kinds_told("manager@vendor.test")[before:] == ["idea_message"]
        # Followers on the customer's side hear their colleague's reply too.
        assert kinds_told("admin@acme.test")[-1] == "idea_message"
        service.unfollow(colleague, idea)
        service.change_status(engineer, idea, "planned")
        assert kinds_told("admin@acme.test") == ["idea_answered", "idea_status", "idea_message"]
        # Someone who followed and then moved to another account is no longer told.
        moved = user("buyer@globex.test")
        db.session.add(IdeaFollower(idea_id=idea.id, user_id=moved.id))
        db.session.commit()
        assert moved.id not in [p.id for p in service._followers(idea)]
        idea_id = idea.id
    # Over HTTP: the button toggles, through htmx as a fragment, and CSRF holds.
    buyer = login_as("buyer@acme.test")
    page = f"/ideas/{idea_id}"
    response = buyer.post(f"{page}/follow", {"follow": "0"}, page=page)
    assert response.status_code == 303
    with app.app_context():
        assert not service.is_following(user("buyer@acme.test"), db.session.get(Idea, idea_id))
    response = buyer.post(
        f"{page}/follow", {"follow": "1"}, page=page, headers={"HX-Request": "true"}
    )
    button = soup(response).select_one("#follow button")
    assert button.text == "Following" and button["aria-pressed"] == "true"
    assert buyer.client.post(f"{page}/follow", data={"follow": "1"}).status_code == 400
    assert login_as("buyer@globex.test").get(page).status_code == 404


def test_a_draft_cannot_be_followed(app, demo):
    with app.app_context():
        idea = draft()
        with pytest.raises(DomainError, match="Drafts are the author's alone"):
            service.follow(user("buyer@acme.test"), idea)


def test_a_duplicate_is_merged_with_its_followers_products_and_thread(app, bracket, login_as):
    with app.app_context():
        original = sent(title="Returnable crates [v2] for *bearings*")
        duplicate = sent("admin@acme.test", title="Reusable crates please", skus="BRK-100")
        service.post(user("admin@acme.test"), duplicate, body="We would pay for the crates.")
        service.follow(user("approver@acme.test"), duplicate)
        engineer = user("engineer@vendor.test")
        target = service.merge(engineer, duplicate, original.id, comment="Same crates.")
        assert target.id == original.id
        assert duplicate.status == "merged" and duplicate.merged_into_id == original.id
        assert duplicate.first_answered_at is not None  # the customer was answered
        assert [p.sku for p in original.products] == ["BRK-100"]
        for email in ("admin@acme.test", "approver@acme.test"):
            assert service.is_following(user(email), original), email
        # Both threads say so; the duplicate's own thread stays.
        old_thread, _ = service.thread(user("admin@acme.test"), duplicate)
        assert [m.body for m in old_thread][0] == "We would pay for the crates."
        assert "Same crates." in old_thread[-1].body
        link = BeautifulSoup(old_thread[-1].body_html, "html.parser").select_one("a")
        assert link["href"] == f"/ideas/{original.id}"
        assert link.text == f"{original.reference} Returnable crates [v2] for *bearings*"
        new_thread, _ = service.thread(user("buyer@acme.test"), original)
        assert "was merged into this suggestion" in new_thread[-1].body
        assert "idea_status" in kinds_told("admin@acme.test")
        assert [e.kind for e in service.events(original)][-1] == "merged_in"
        # A merged suggestion is closed: no posts, no second merge, out of the queue.
        with pytest.raises(DomainError, match="merged into S-"):
            service.post(user("admin@acme.test"), duplicate, body="Hello?")
        with pytest.raises(DomainError, match="cannot be merged"):
            service.merge(engineer, duplicate, original.id)
        queue, _ = service.ideas(engineer, service.IdeaFilter(queue=True))
        assert duplicate.id not in [i.id for i in queue]
        duplicate_id, original_id = duplicate.id, original.id
    page = login_as("admin@acme.test").get(f"/ideas/{duplicate_id}")
    notice = soup(page).select_one("p.notice")
    assert notice.a["href"] == f"/ideas/{original_id}"
    assert soup(page).select_one("#post-form") is None
    page = login_as("buyer@acme.test").get(f"/ideas/{original_id}")
    assert "Merged into this one" in soup(page).select("p.notice")[0].text


def test_merging_is_refused_across_accounts_and_into_itself(app, demo, login_as):
    with app.app_context():
        acme = sent()
        globex = sent("buyer@globex.test")
        engineer = user("engineer@vendor.test")
        with pytest.raises(DomainError, match="another suggestion of Acme"):
            service.merge(engineer, acme, globex.id)
        with pytest.raises(DomainError, match="into itself"):
            service.merge(engineer, acme, acme.id)
        with pytest.raises(DomainError, match="another suggestion"):
            service.merge(engineer, acme, None)
        with pytest.raises(Forbidden):
            service.merge(user("manager@vendor.test"), acme, globex.id)
        assert acme.status == "submitted" and globex.status == "submitted"
        # Another account's suggestions are not even offered.
        assert globex.id not in [i.id for i in service.merge_candidates(engineer, acme)]
        acme_id, globex_id = acme.id, globex.id
    engineer = login_as("engineer@vendor.test")
    page = f"/ideas/{acme_id}"
    response = engineer.post(f"{page}/merge", {"into_id": str(globex_id)}, page=page)
    assert response.status_code == 422
    assert soup(response).select_one("#into_id-error") is not None
    with app.app_context():
        assert db.session.get(Idea, acme_id).status == "submitted"


def test_the_list_shows_only_followed_suggestions_on_request(app, demo, login_as):
    with app.app_context():
        followed = sent(title="Crates for the bearings")
        sent(title="Torque values on the drawing")
        service.follow(user("admin@acme.test"), followed)
    admin = login_as("admin@acme.test")
    rows = soup(admin.get("/ideas?view=following")).select("#results tbody tr")
    assert [r.select("td")[1].text.strip() for r in rows] == ["Crates for the bearings"]
    assert len(soup(admin.get("/ideas?view=all")).select("#results tbody tr")) == 2
    empty = login_as("buyer@globex.test").get("/ideas?view=following")
    assert "You follow no suggestion." in soup(empty).select_one("#results").text


def test_a_vendor_proposal_waiting_for_the_customer_is_named_in_the_readers_language(app):
    """A suggestion the vendor's engineers sent reads "Proposed" while it waits for the
    customer's answer, and that word is translated like every other status."""
    from flask_babel import force_locale

    proposal = Idea(direction="vendor", status="submitted")
    own = Idea(direction="customer", status="submitted")
    with app.test_request_context():
        assert str(proposal.status_label) == "Proposed"
        assert str(own.status_label) == "Submitted"
        with force_locale("id"):
            assert str(proposal.status_label) == "Diusulkan"
            assert str(own.status_label) != "Submitted"
