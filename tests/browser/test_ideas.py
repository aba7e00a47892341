"""Design suggestions in Chromium: a buyer sends one with a drawing, an engineer answers, writes
an internal note and changes the status; the buyer sees the answer and the
notification, never the note."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import go_to, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_suggestion_from_the_buyer_to_the_engineer_and_back(page, catalog, console_errors):
    sign_in(page, "buyer@acme.test")
    go_to(page, "Suggestions", group="Relationship")
    page.get_by_role("link", name="New suggestion").click()
    page.get_by_label("Title").fill("Returnable crates for bearings")
    page.get_by_label("Category").select_option(label="Packaging")
    page.get_by_label("Description").fill("We throw away **two pallets** of cardboard a week.")
    page.get_by_role("button", name="Preview the description").click()
    expect(page.locator("#preview strong")).to_have_text("two pallets")
    # Link a product by keyboard: type, arrow down to the suggestion, Enter.
    page.get_by_label("Add a product").press_sequentially("BRG-", delay=20)
    expect(page.locator("#add-product-options [role=option]").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#add-product-options [aria-selected=true]").get_attribute("data-value")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Products it concerns")).to_have_value(chosen)
    expect(page.get_by_label("Add a product")).to_have_value("")
    page.get_by_label("Expected saving per year").fill("4,800")
    page.get_by_label("Attach files").set_input_files(
        {"name": "crate drawing.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".files a")).to_have_text("crate drawing.pdf")
    expect(page.locator("main")).to_contain_text(chosen)
    page.get_by_role("button", name="Send to Northwind Components").click()
    expect(page.locator(".flash-success")).to_contain_text("first answer by")
    expect(page.locator("h1 .badge")).to_have_text("Submitted")
    idea_url = page.url

    sign_in(page, "engineer@vendor.test")
    page.goto("/ideas")
    page.locator("#results tbody tr", has_text="Returnable crates").get_by_role("link").click()
    expect(page.locator(".files a")).to_have_text("crate drawing.pdf")
    follow = page.locator("#follow button")
    expect(follow).to_have_text("Follow")
    follow.click()  # htmx swaps the button in place
    expect(page.locator("#follow button")).to_have_text("Following")
    expect(page.locator("#follow button")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Post as").select_option("note")
    page.get_by_label("Your message").fill("Ask logistics about the crate pool first. NOTE-XYZ")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".message.internal")).to_contain_text("NOTE-XYZ")
    page.get_by_label("Post as").select_option("answer")
    page.get_by_label("Your message").fill("Good idea: we can start with the 62xx series.")
    page.get_by_role("button", name="Post").click()
    page.get_by_label("New status").select_option(label="Accepted")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("h1 .badge")).to_have_text("Accepted")
    assert console_errors == []

    sign_in(page, "buyer@acme.test")
    expect(page.locator("#notification-bell .bell-count")).to_have_text("2")  # answer, status
    page.goto(idea_url)
    expect(page.locator(".thread")).to_contain_text("start with the 62xx series")
    expect(page.locator("main")).not_to_contain_text("NOTE-XYZ")
    expect(page.locator(".message.internal")).to_have_count(0)
    expect(page.locator("h1 .badge")).to_have_text("Accepted")
    assert console_errors == []
