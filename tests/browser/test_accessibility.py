"""WCAG 2.0/2.1 A and AA in Chromium: axe-core over the main pages of every role.

What a low-vision or screen-reader user meets is checked on the real pages, with the
whole demo loaded (orders in several states, suggestions, plans, forecasts), so that
status badges, tables and forms are all on screen. Each role signs in once, in its
own browser context, and visits its pages; every violation found on any of them is
listed, with the page, the role, the rule, its impact and the element.

A new page joins by adding a line to PAGES: its path (with {placeholders} filled
from `demo_objects` below) and the text its heading must show, which proves the page
really loaded and was not an error page or the sign-in form.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import ceil

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from portal import demo as demo_data
from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Product
from portal.equipment.models import EquipmentUnit
from portal.extensions import db
from portal.forecasts.models import ForecastCell, ForecastVersion
from portal.ideas.models import Idea
from portal.ordering import service as ordering
from portal.ordering.models import Order
from portal.plans.models import Plan, PlanRevision
from portal.service.models import ServiceRequest

from ..conftest import empty_all_tables
from .conftest import sign_in

# The rules of WCAG 2.0 and 2.1, levels A and AA (axe-core's tags for them).
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Who signs in, by role (README's demo users); None visits signed out.
PEOPLE = {
    "signed out": None,
    "buyer": "buyer@acme.test",
    "approver": "approver@acme.test",
    "customer admin": "admin@acme.test",
    # Acme keeps its promises in the demo and has no cancelled order; Globex has.
    "globex buyer": "buyer@globex.test",
    "admin": "admin@vendor.test",
    "account manager": "manager@vendor.test",
    "planner": "planner@vendor.test",
    "engineer": "engineer@vendor.test",
    "fulfilment": "fulfilment@vendor.test",
    "service": "service@vendor.test",
}


@dataclass(frozen=True)
class Page:
    role: str  # a key of PEOPLE
    path: str  # {acme}, {shipping_order}, ... filled from demo_objects
    heading: str  # text the page's <h1> contains


PAGES = [
    Page("signed out", "/login", "Sign in"),
    Page("signed out", "/api/v1/docs", "Portal API"),
    Page("signed out", "/api/v1/problems/invalid-input", "Invalid input"),
    # The customer's terminal: buying, tracking, forecasts, plans, suggestions.
    Page("buyer", "/", "Acme Industrial"),
    Page("buyer", "/orders", "Orders"),
    Page("buyer", "/orders/{shipping_order}", "Order {shipping_order}"),
    Page("globex buyer", "/orders/{cancelled_order}", "Order {cancelled_order}"),
    Page("buyer", "/order", "Quick order"),
    Page("buyer", "/cart", "Cart"),
    Page("buyer", "/checkout", "Checkout"),
    Page("buyer", "/lists", "Saved lists"),
    Page("buyer", "/catalog", "Catalog"),
    Page("buyer", "/catalog/products/{product}", "{product_name}"),
    Page("buyer", "/promises", "Promises kept"),
    Page("buyer", "/forecasts", "Our forecast"),
    Page("buyer", "/forecasts/accuracy", "Forecast accuracy"),
    Page("buyer", "/forecasts/accounts/{acme}/versions", "Forecast versions"),
    Page("buyer", "/forecasts/versions/{forecast_version}", "forecast version"),
    Page("buyer", "/forecasts/accounts/{acme}/commits", "Commitments from"),
    Page("buyer", "/plans", "Shared plans"),
    Page("buyer", "/notifications/settings", "E-mail settings"),
    Page("buyer", "/plans/{plan}", "{plan_title}"),
    Page("buyer", "/plans/new", "Share a plan with"),
    Page("buyer", "/ideas", "Our suggestions"),
    Page("buyer", "/ideas/{idea}", "{idea_title}"),
    Page("buyer", "/ideas/new", "New suggestion"),
    Page("buyer", "/ideas/measures", "How suggestions are answered"),
    Page("buyer", "/notifications", "Notifications"),
    Page("buyer", "/accounts/{acme}", "Acme Industrial"),
    Page("buyer", "/password", "Your profile"),
    Page("buyer", "/contacts/shared", "Notes from"),
    Page("approver", "/", "Acme Industrial"),
    Page("approver", "/orders", "Orders"),
    Page("approver", "/orders/{shipping_order}", "Order {shipping_order}"),
    Page("approver", "/notifications", "Notifications"),
    Page("customer admin", "/users", "Your team"),
    Page("customer admin", "/users/new", "New user"),
    Page("customer admin", "/users/{acme_buyer}/edit", "Bea Buyer"),
    Page("customer admin", "/accounts/{acme}", "Acme Industrial"),
    Page("customer admin", "/accounts/{acme}/addresses/new", "New address"),
    Page("customer admin", "/catalog/prices/{acme}", "Contract prices of Acme Industrial"),
    Page("customer admin", "/api-tokens", "API tokens"),
    # The vendor's side.
    Page("admin", "/", ""),
    Page("admin", "/accounts", "Customer accounts"),
    Page("admin", "/accounts/new", "New customer account"),
    Page("admin", "/accounts/{acme}", "Acme Industrial"),
    Page("admin", "/accounts/{acme}/edit", "Edit account"),
    Page("admin", "/users", "Users"),
    Page("admin", "/users/new", "New user"),
    Page("admin", "/catalog", "Catalog"),
    Page("admin", "/catalog/products/new", "New product"),
    Page("admin", "/catalog/products/{product}/edit", "Edit {product_sku}"),
    Page("admin", "/catalog/import", "Import products or contract prices"),
    Page("admin", "/catalog/prices/{acme}", "Contract prices of Acme Industrial"),
    Page("admin", "/audit", "Audit log"),
    Page("admin", "/background", "Background work"),
    Page("admin", "/api-tokens", "API tokens"),
    Page("admin", "/integrations/cxml", "cXML"),
    Page("admin", "/integrations/cxml/accounts/{acme}", "cXML of Acme Industrial"),
    Page("admin", "/notifications/settings", "E-mail settings"),
    Page("admin", "/relationship/portfolio", "Relationship health: all accounts"),
    Page("admin", "/relationship/settings", "Weights and thresholds"),
    Page("account manager", "/", ""),
    Page("account manager", "/accounts", "Customer accounts"),
    Page("account manager", "/orders", "Orders"),
    Page("account manager", "/orders/{shipping_order}", "Order {shipping_order}"),
    Page("account manager", "/promises", "Promises kept"),
    Page("account manager", "/forecasts/inbox", "Published forecasts"),
    Page("account manager", "/notifications", "Notifications"),
    Page("account manager", "/contacts/accounts/{acme}", "Contacts and follow-ups"),
    Page("account manager", "/contacts/accounts/{acme}/promised", "Everything promised"),
    Page("account manager", "/contacts/follow-ups?view=all", "Follow-ups"),
    Page("account manager", "/contacts/follow-ups/new?account=C-10001", "Set a follow-up"),
    Page("engineer", "/contacts/accounts/{acme}", "Contacts and follow-ups"),
    Page("account manager", "/relationship/portfolio", "Relationship health: your accounts"),
    Page("account manager", "/relationship/accounts/C-10001", "Acme Industrial"),
    Page("planner", "/", ""),
    Page("planner", "/forecasts/inbox", "Published forecasts"),
    Page("planner", "/forecasts/planning/demand", "Demand across accounts"),
    Page(
        "planner",
        "/forecasts/planning/products/{forecast_product}/waterfall?account={acme}",
        "Waterfall",
    ),
    Page("planner", "/forecasts/planning/accuracy?account={acme}", "Forecast accuracy"),
    Page("planner", "/forecasts/accounts/{acme}/commits", "commitments"),
    Page("planner", "/forecasts/versions/{forecast_version}", "forecast version"),
    Page("planner", "/plans", "Shared plans"),
    Page("planner", "/plans?withdrawn=1", "Shared plans"),
    Page("planner", "/plans/{withdrawn_plan}", "{withdrawn_plan_title}"),
    Page("planner", "/plans/{plan}", "{plan_title}"),
    Page("planner", "/plans/new", "Publish a plan for customers"),
    Page("engineer", "/", ""),
    Page("engineer", "/ideas", "Design suggestions"),
    Page("engineer", "/ideas/{idea}", "{idea_title}"),
    Page("engineer", "/ideas/new", "Propose an idea to a customer"),
    Page("engineer", "/ideas/measures", "How suggestions are answered"),
    Page("engineer", "/notifications", "Notifications"),
    Page("fulfilment", "/", ""),
    Page("fulfilment", "/desk", "Order desk"),
    Page("fulfilment", "/desk/orders/{placed_order}", "Order {placed_order}"),
    Page("fulfilment", "/desk/orders/{shipping_order}", "Order {shipping_order}"),
    Page("fulfilment", "/promises", "Promises kept"),
    Page("fulfilment", "/password", "Your profile"),
    Page("buyer", "/service", "Service and complaints"),
    Page("buyer", "/service/new", "Ask for help or complain"),
    Page("buyer", "/service/{service_request}", "{service_request_title}"),
    Page("buyer", "/service/measures", "How service promises are kept"),
    Page("buyer", "/service/quality", "Quality record"),
    Page("service", "/", ""),
    Page("service", "/service", "Service requests"),
    Page("service", "/service/{service_request}", "{service_request_title}"),
    Page("service", "/service/new", "Open a request for a customer"),
    Page("service", "/service/measures", "How service promises are kept"),
    Page("service", "/service/quality", "Quality record"),
    Page("service", "/service/{open_complaint}", "{open_complaint_title}"),
    Page("admin", "/service/settings", "Service hours and promises"),
    # The vendor's scorecard for the customer and relationship reviews.
    Page("buyer", "/scorecard", "How Northwind Components is doing for you"),
    Page("buyer", "/reviews", "Relationship reviews"),
    Page("buyer", "/reviews/{shared_review}", "Relationship review: Acme Industrial"),
    Page("account manager", "/reviews", "Relationship reviews"),
    Page("account manager", "/reviews/new", "New relationship review"),
    Page("account manager", "/reviews/{shared_review}", "Relationship review: Acme Industrial"),
    Page("account manager", "/accounts/{acme}/scorecard", "How Northwind Components"),
    # Installed equipment: the customer's by site, a unit; the vendor's list, import, terms.
    Page("buyer", "/equipment", "Your equipment"),
    Page("buyer", "/equipment/{equipment_unit}", "{equipment_unit_title}"),
    Page("service", "/equipment", "Installed equipment"),
    Page("service", "/equipment/{equipment_unit}", "{equipment_unit_title}"),
    Page("service", "/equipment/import", "Import units sold before the portal"),
    Page("admin", "/catalog/products/{equipment_product}/equipment", "Equipment terms of"),
    # Cost of ownership: an equipment product's page, two products side by side, the
    # customer admin's settings.
    Page("buyer", "/catalog/products/{equipment_product}", "{equipment_product_name}"),
    Page("buyer", "/ownership/compare?a={equipment_product_sku}&b={product_sku}", "Compare"),
    Page("customer admin", "/ownership/settings", "Cost of ownership settings"),
]


@pytest.fixture
def demo_objects(app, demo):
    """The whole demo, as `make run` shows it, and the objects the pages are about."""
    with app.app_context():
        # `demo` loaded only the people; load everything, in one consistent go.
        empty_all_tables()
        demo_data.load()
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))

        def acme_order(status: str) -> Order:
            return db.session.scalars(
                select(Order)
                .where(Order.account_id == acme.id, Order.status == status)
                .order_by(Order.placed_at.desc())
            ).first()

        placed = db.session.scalars(
            select(Order).where(Order.status == "placed").order_by(Order.placed_at)
        ).first()
        version = db.session.scalars(
            select(ForecastVersion)
            .where(ForecastVersion.account_id == acme.id, ForecastVersion.number > 0)
            .order_by(ForecastVersion.number.desc())
        ).first()
        forecast_product = db.session.scalar(
            select(ForecastCell.product_id).where(ForecastCell.version_id == version.id).limit(1)
        )
        plan = db.session.scalars(
            select(Plan).where(Plan.side == "vendor", Plan.status == "active").order_by(Plan.id)
        ).first()
        withdrawn_plan = db.session.scalars(
            select(Plan).where(Plan.status == "withdrawn").order_by(Plan.id)
        ).first()

        def title(plan: Plan) -> str:
            return db.session.scalar(
                select(PlanRevision.title)
                .where(PlanRevision.plan_id == plan.id)
                .order_by(PlanRevision.id.desc())
            )

        idea = db.session.scalars(
            select(Idea)
            .where(Idea.account_id == acme.id, Idea.status != "draft")
            .order_by(Idea.last_activity_at.desc())
        ).first()
        service_request = db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.account_id == acme.id)
            .order_by(ServiceRequest.id.desc())
        ).first()
        # A unit of Acme's with service history, and its product (equipment terms).
        equipment_unit = db.session.get(
            EquipmentUnit,
            db.session.scalars(
                select(ServiceRequest.equipment_id)
                .where(
                    ServiceRequest.account_id == acme.id, ServiceRequest.equipment_id.is_not(None)
                )
                .order_by(ServiceRequest.id)
            ).first(),
        )
        open_complaint = db.session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.kind == "complaint_quality", ServiceRequest.status == "in_progress"
            )
            .order_by(ServiceRequest.id.desc())
        ).first()
        product = db.session.get(Product, forecast_product)
        # Something in the buyer's cart and a saved list, so that those pages show
        # their tables and forms rather than an empty state.
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        for_sale = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku).limit(3)
        ).all()
        ordering.add_to_cart(
            buyer,
            [(p.id, p.order_multiple * ceil(p.min_order_qty / p.order_multiple)) for p in for_sale],
        )
        ordering.save_cart_as_list(buyer, "Monthly restock")
        from portal.reviews.models import RelationshipReview

        shared_review = db.session.scalar(
            select(RelationshipReview.id).where(
                RelationshipReview.account_id == acme.id,
                RelationshipReview.shared_at.is_not(None),
            )
        )
        return {
            "shared_review": shared_review,
            "acme": acme.id,
            "acme_buyer": buyer.id,
            "shipping_order": acme_order("partly_shipped").number,
            "cancelled_order": db.session.scalars(
                select(Order.number)
                .join(CustomerAccount, CustomerAccount.id == Order.account_id)
                .where(CustomerAccount.number == "C-10002", Order.status == "cancelled")
                .order_by(Order.placed_at.desc())
            ).first(),
            "placed_order": placed.number,
            "product": product.id,
            "product_name": product.name,
            "product_sku": product.sku,
            "forecast_version": version.id,
            "forecast_product": forecast_product,
            "plan": plan.id,
            "plan_title": title(plan),
            "withdrawn_plan": withdrawn_plan.id,
            "withdrawn_plan_title": title(withdrawn_plan),
            "idea": idea.id,
            "idea_title": idea.title,
            "service_request": service_request.id,
            "service_request_title": service_request.title,
            "equipment_unit": equipment_unit.id,
            "equipment_unit_title": equipment_unit.product.name,
            "equipment_product": equipment_unit.product_id,
            "equipment_product_name": equipment_unit.product.name,
            "equipment_product_sku": equipment_unit.product.sku,
            "open_complaint": open_complaint.id,
            "open_complaint_title": open_complaint.title,
        }


def axe_violations(page, where: str, context: str | None = None, rules=None) -> list[str]:
    """Every WCAG A/AA violation axe-core finds on the page (or in `context`, a
    selector), one line per element."""
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    else:
        options["runOnly"] = {"type": "tag", "values": WCAG_A_AA}
    results = Axe().run(page, context=context, options=options)
    return [
        f"{where}: {violation['id']} ({violation['impact']}) at {' '.join(node['target'])}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


# Puts one badge of every variant the stylesheet knows at the top of the page: most
# states (an order awaiting approval, a rejected one, a plan's every kind) are not
# on the demo's pages at any one time, and each must still be readable.
EVERY_BADGE = """() => {
  const variants = new Set();
  for (const sheet of document.styleSheets)
    for (const rule of sheet.cssRules)
      for (const match of (rule.selectorText || "").matchAll(/\\.(badge-[\\w-]+)/g))
        variants.add(match[1]);
  const box = document.createElement("p");
  box.id = "every-badge";
  for (const variant of [...variants].sort()) {
    const badge = document.createElement("span");
    badge.className = "badge " + variant;
    badge.textContent = variant;
    box.append(badge, " ");
  }
  document.querySelector("main").prepend(box);
  return [...variants];
}"""


def every_badge_violations(page) -> list[str]:
    """Contrast of every badge variant in the stylesheet, on a page's background."""
    variants = page.evaluate(EVERY_BADGE)
    assert len(variants) > 20, variants  # the stylesheet was read
    return axe_violations(page, "every badge variant", "#every-badge", ["color-contrast"])


def test_every_roles_main_pages_meet_wcag_a_and_aa(
    browser, browser_context_args, live_server, demo_objects
):
    found: list[str] = []
    for role, email in PEOPLE.items():
        pages = [p for p in PAGES if p.role == role]
        if not pages:
            continue
        context = browser.new_context(**browser_context_args)
        page = context.new_page()
        if email:
            sign_in(page, email)
        for entry in pages:
            path = entry.path.format(**demo_objects)
            response = page.goto(path)
            assert response.status == 200, f"{path} as {role}: {response.status}"
            heading = page.locator("h1").first.inner_text()
            assert entry.heading.format(**demo_objects) in heading, (
                f"{path} as {role} shows {heading!r}"
            )
            found += axe_violations(page, f"{path} as {role}")
        if role == "buyer":
            found += every_badge_violations(page)
        context.close()
    per_rule = Counter(line.split(": ", 1)[1].split(" at ")[0] for line in found)
    summary = ", ".join(f"{rule}: {count}" for rule, count in per_rule.most_common())
    assert not found, f"{len(found)} violations ({summary}):\n" + "\n".join(found)
