"""The access matrix: every endpoint, every role, anonymous, and another customer's user.

Each entry says who may reach a URL rule. A test walks `app.url_map` and fails
when a rule has no entry, so a new route cannot ship without one. Every entry
is then exercised: anonymous is sent to sign in, a missing role gets 403, and
a user of another customer account gets 404 for this account's objects
(that user holds every customer role, so the 404 can only come from scoping).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db

from .support import DEMO_PASSWORD, Browserless

PUBLIC = "public"
SIGNED_IN = "signed in"
# The REST API: a bearer token only. Every actor here holds a session cookie, which the
# API does not accept, so each gets a 401 problem (test_api*.py covers tokens and scopes).
TOKEN = "api token"
# cXML documents carry their credentials inside (no session, no CSRF): every actor's empty
# POST gets a cXML answer (HTTP 200, text/xml) with an error Status (test_cxml.py).
CXML = "cxml document"
# A one-time PunchOut start link: an unknown token is 404 for everyone (test_cxml.py
# opens real ones).
LINK = "one-time link"
VENDOR = frozenset({"account_manager", "planner", "engineer", "fulfilment", "service", "admin"})
ACME_CUSTOMERS = frozenset({"buyer", "approver", "customer_admin"})
ADMINS = frozenset({"admin", "customer_admin"})
BUYERS = frozenset({"buyer", "customer_admin"})
# The order desk: fulfilment and admins act; account managers look at their accounts.
DESK = frozenset({"fulfilment", "admin", "account_manager"})
DESK_ACTORS = frozenset({"fulfilment", "admin"})
ENGINEERS = frozenset({"engineer", "admin"})
IDEA_READERS = ACME_CUSTOMERS | ENGINEERS | {"account_manager"}
IDEA_WRITERS = ACME_CUSTOMERS | ENGINEERS
# Plans: the vendor's planners, admins and account managers publish; so do buyers and
# customer admins. {plan} is the planner's plan for Acme alone.
PLAN_WRITERS = frozenset({"planner", "admin", "account_manager", "buyer", "customer_admin"})
# Forecasts: the account's buyers and customer admins edit and publish; planners and
# admins read every account's versions, account managers those of their accounts.
FORECAST_VENDOR = frozenset({"planner", "admin", "account_manager"})
FORECAST_READERS = BUYERS | FORECAST_VENDOR
FORECAST_COMMITTERS = frozenset({"planner", "admin"})
# Service requests: the account's customers and the vendor's service staff, engineers,
# account managers (their accounts) and admins; the calendar is the vendor admins'.
SERVICE_WORKERS = frozenset({"service", "engineer", "account_manager", "admin"})
SERVICE_READERS = ACME_CUSTOMERS | SERVICE_WORKERS
VENDOR_ADMIN = frozenset({"admin"})
# Relationship reviews: account managers (their accounts) and vendor admins write them;
# the account's customers read those shared with them and comment. Any vendor staff
# may look at an account's scorecard as its customer sees it.
REVIEWERS = frozenset({"account_manager", "admin"})
# Installed equipment: the account's customers; service, engineers, fulfilment and admins
# for every account, account managers for theirs. Service, admins and account managers
# keep units (status, documents) and import them; equipment terms are the catalog admins'.
EQUIPMENT_READERS = ACME_CUSTOMERS | frozenset(
    {"service", "engineer", "fulfilment", "admin", "account_manager"}
)
EQUIPMENT_KEEPERS = frozenset({"service", "admin", "account_manager"})
RELATIONSHIP = frozenset({"account_manager", "admin"})

ACTORS = {
    "buyer": "buyer@acme.test",
    "approver": "approver@acme.test",
    "customer_admin": "admin@acme.test",
    "account_manager": "manager@vendor.test",
    "planner": "planner@vendor.test",
    "engineer": "engineer@vendor.test",
    "fulfilment": "fulfilment@vendor.test",
    "service": "service@vendor.test",
    "admin": "admin@vendor.test",
    "other_customer": "all-roles@globex.test",
}


@dataclass(frozen=True)
class Access:
    url: str  # with {acme}, {acme_address}, {acme_buyer} filled in per test
    allowed: str | frozenset[str]
    methods: tuple[str, ...] = ("GET",)
    # True when the URL names one account's object: another account's user gets 404.
    tenant: bool = False
    # The actor who owns the object (a cart line): others with the role get 404 too.
    owner: str | None = None


MATRIX: dict[tuple[str, str], Access] = {
    ("home.index", "/"): Access("/", SIGNED_IN),
    ("home.healthz", "/healthz"): Access("/healthz", PUBLIC),
    ("auth.login", "/login"): Access("/login", PUBLIC, ("GET", "POST")),
    ("auth.logout", "/logout"): Access("/logout", SIGNED_IN, ("POST",)),
    ("auth.change_password", "/password"): Access("/password", SIGNED_IN, ("GET", "POST")),
    ("auth.preferences", "/preferences"): Access("/preferences", SIGNED_IN, ("POST",)),
    ("accounts.index", "/accounts"): Access("/accounts", VENDOR),
    ("accounts.new", "/accounts/new"): Access(
        "/accounts/new", frozenset({"admin"}), ("GET", "POST")
    ),
    ("accounts.detail", "/accounts/<int:account_id>"): Access(
        "/accounts/{acme}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("accounts.edit", "/accounts/<int:account_id>/edit"): Access(
        "/accounts/{acme}/edit", frozenset({"admin"}), ("GET", "POST"), tenant=True
    ),
    ("accounts.address", "/accounts/<int:account_id>/addresses/new"): Access(
        "/accounts/{acme}/addresses/new",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    ("accounts.address", "/accounts/<int:account_id>/addresses/<int:address_id>/edit"): Access(
        "/accounts/{acme}/addresses/{acme_address}/edit",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    (
        "accounts.delete_address",
        "/accounts/<int:account_id>/addresses/<int:address_id>/delete",
    ): Access(
        "/accounts/{acme}/addresses/{acme_address}/delete",
        frozenset({"admin", "customer_admin"}),
        ("POST",),
        tenant=True,
    ),
    ("accounts.users", "/users"): Access("/users", frozenset({"admin", "customer_admin"})),
    ("accounts.new_user", "/users/new"): Access(
        "/users/new", frozenset({"admin", "customer_admin"}), ("GET", "POST")
    ),
    ("accounts.edit_user", "/users/<int:user_id>/edit"): Access(
        "/users/{acme_buyer}/edit",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    ("accounts.set_active", "/users/<int:user_id>/active"): Access(
        "/users/{acme_buyer}/active", frozenset({"admin", "customer_admin"}), ("POST",), tenant=True
    ),
    ("accounts.audit_log", "/audit"): Access("/audit", frozenset({"admin"})),
    # The catalog is the same for everyone; prices are the viewer's own (test_catalog.py).
    ("catalog.index", "/catalog"): Access("/catalog", SIGNED_IN),
    ("catalog.product", "/catalog/products/<int:product_id>"): Access(
        "/catalog/products/{product}", SIGNED_IN
    ),
    ("catalog.edit_product", "/catalog/products/new"): Access(
        "/catalog/products/new", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.edit_product", "/catalog/products/<int:product_id>/edit"): Access(
        "/catalog/products/{product}/edit", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.import_products", "/catalog/import"): Access(
        "/catalog/import", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.prices", "/catalog/prices/<int:account_id>"): Access(
        "/catalog/prices/{acme}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("catalog.add_price", "/catalog/prices/<int:account_id>/add"): Access(
        "/catalog/prices/{acme}/add", frozenset({"admin"}), ("POST",), tenant=True
    ),
    ("catalog.delete_price", "/catalog/prices/<int:account_id>/<int:price_id>/delete"): Access(
        "/catalog/prices/{acme}/{contract_price}/delete",
        frozenset({"admin"}),
        ("POST",),
        tenant=True,
    ),
    ("accounts.approval_limit", "/accounts/<int:account_id>/approval-limit"): Access(
        "/accounts/{acme}/approval-limit", ADMINS, ("POST",), tenant=True
    ),
    ("accounts.preferences", "/accounts/<int:account_id>/preferences"): Access(
        "/accounts/{acme}/preferences", ADMINS, ("POST",), tenant=True
    ),
    # The terminal is for buyers. The demo's customer admin is also a buyer.
    ("ordering.quick_order", "/order"): Access("/order", BUYERS, ("GET", "POST")),
    ("ordering.pad_row", "/order/row"): Access("/order/row?n=0&sku=TST-1&qty=2", BUYERS),
    ("ordering.suggest", "/order/suggest"): Access("/order/suggest?sku=TS", BUYERS),
    ("ordering.accept", "/order/accept"): Access("/order/accept", BUYERS, ("POST",)),
    ("ordering.cart", "/cart"): Access("/cart", BUYERS),
    ("ordering.cart_line", "/cart/lines/<int:line_id>"): Access(
        "/cart/lines/{cart_line}", BUYERS, ("POST",), tenant=True, owner="buyer"
    ),
    ("ordering.lists", "/lists"): Access("/lists", BUYERS),
    ("ordering.save_cart", "/cart/save"): Access("/cart/save", BUYERS, ("POST",)),
    ("ordering.load_list", "/lists/<int:list_id>/load"): Access(
        "/lists/{saved_list}/load", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.delete_list", "/lists/<int:list_id>/delete"): Access(
        "/lists/{saved_list}/delete", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.checkout", "/checkout"): Access("/checkout", BUYERS, ("GET", "POST")),
    ("ordering.orders", "/orders"): Access("/orders", VENDOR | ACME_CUSTOMERS),
    ("ordering.export_orders", "/orders/export.<any(csv, xlsx):fmt>"): Access(
        "/orders/export.xlsx", VENDOR | ACME_CUSTOMERS
    ),
    ("ordering.order", "/orders/<number>"): Access(
        "/orders/{order}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("ordering.cancel", "/orders/<number>/cancel"): Access(
        "/orders/{order}/cancel", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("ordering.cancel", "/orders/<number>/lines/<int:line_id>/cancel"): Access(
        "/orders/{order}/lines/{order_line}/cancel", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("ordering.reorder", "/orders/<number>/reorder"): Access(
        "/orders/{order}/reorder", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.decision", "/orders/<number>/decision"): Access(
        "/orders/{order}/decision", frozenset({"approver"}), ("POST",), tenant=True
    ),
    # The order desk is vendor-only; customers reach none of it.
    ("fulfilment.inbox", "/desk"): Access("/desk", DESK),
    ("fulfilment.order", "/desk/orders/<number>"): Access("/desk/orders/{order}", DESK),
    ("fulfilment.confirm", "/desk/orders/<number>/confirm"): Access(
        "/desk/orders/{order}/confirm", DESK_ACTORS, ("POST",)
    ),
    ("fulfilment.change_promise", "/desk/orders/<number>/lines/<int:line_id>/promise"): Access(
        "/desk/orders/{confirmed_order}/lines/{confirmed_line}/promise", DESK_ACTORS, ("POST",)
    ),
    ("fulfilment.cancel_line", "/desk/orders/<number>/lines/<int:line_id>/cancel"): Access(
        "/desk/orders/{confirmed_order}/lines/{confirmed_line}/cancel", DESK_ACTORS, ("POST",)
    ),
    ("fulfilment.ship", "/desk/orders/<number>/shipments"): Access(
        "/desk/orders/{confirmed_order}/shipments", DESK_ACTORS, ("POST",)
    ),
    (
        "fulfilment.correct_shipment",
        "/desk/orders/<number>/shipments/<int:shipment_id>/correct",
    ): Access(
        "/desk/orders/{confirmed_order}/shipments/{shipment}/correct", DESK_ACTORS, ("POST",)
    ),
    (
        "fulfilment.deliver",
        "/desk/orders/<number>/shipments/<int:shipment_id>/deliver",
    ): Access(
        "/desk/orders/{confirmed_order}/shipments/{shipment}/deliver", DESK_ACTORS, ("POST",)
    ),
    ("fulfilment.answer_request", "/desk/orders/<number>/requests/<int:request_id>"): Access(
        "/desk/orders/{confirmed_order}/requests/{cancel_request}", DESK_ACTORS, ("POST",)
    ),
    (
        "fulfilment.request_cancellation",
        "/orders/<number>/lines/<int:line_id>/cancellation-request",
    ): Access(
        "/orders/{confirmed_order}/lines/{confirmed_line}/cancellation-request",
        ACME_CUSTOMERS,
        ("POST",),
        tenant=True,
    ),
    # Each side sees its own figures (test_fulfilment.py checks which).
    ("fulfilment.promises", "/promises"): Access("/promises", DESK | ACME_CUSTOMERS),
    # Suggestions are confidential: the account's users, engineers, admins, its manager.
    ("ideas.index", "/ideas"): Access("/ideas", IDEA_READERS),
    ("ideas.new", "/ideas/new"): Access("/ideas/new", IDEA_WRITERS, ("GET", "POST")),
    ("ideas.preview", "/ideas/preview"): Access("/ideas/preview", IDEA_READERS, ("POST",)),
    ("ideas.detail", "/ideas/<int:idea_id>"): Access("/ideas/{idea}", IDEA_READERS, tenant=True),
    ("ideas.measures", "/ideas/measures"): Access("/ideas/measures", IDEA_READERS),
    ("ideas.edit", "/ideas/<int:idea_id>/edit"): Access(
        "/ideas/{idea}/edit", IDEA_WRITERS, ("GET", "POST"), tenant=True
    ),
    ("ideas.submit", "/ideas/<int:idea_id>/submit"): Access(
        "/ideas/{idea}/submit", IDEA_WRITERS, ("POST",), tenant=True
    ),
    ("ideas.post_message", "/ideas/<int:idea_id>/messages"): Access(
        "/ideas/{idea}/messages", IDEA_READERS, ("POST",), tenant=True
    ),
    ("ideas.change_status", "/ideas/<int:idea_id>/status"): Access(
        "/ideas/{idea}/status", ENGINEERS, ("POST",)
    ),
    ("ideas.assign", "/ideas/<int:idea_id>/assign"): Access(
        "/ideas/{idea}/assign", ENGINEERS, ("POST",)
    ),
    ("ideas.products", "/ideas/products"): Access("/ideas/products?sku=ab", IDEA_WRITERS),
    ("ideas.follow", "/ideas/<int:idea_id>/follow"): Access(
        "/ideas/{idea}/follow", IDEA_READERS, ("POST",), tenant=True
    ),
    ("ideas.merge", "/ideas/<int:idea_id>/merge"): Access(
        "/ideas/{idea}/merge", ENGINEERS, ("POST",)
    ),
    ("ideas.answer_proposal", "/ideas/<int:idea_id>/answer"): Access(
        "/ideas/{idea}/answer", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    # Plans: everyone reads the board (filtered to what they may see, test_plans.py); a plan
    # meant for chosen accounts is 404 for another account's user.
    ("plans.index", "/plans"): Access("/plans", SIGNED_IN),
    ("plans.new", "/plans/new"): Access("/plans/new", PLAN_WRITERS, ("GET", "POST")),
    ("plans.preview", "/plans/preview"): Access("/plans/preview", PLAN_WRITERS, ("POST",)),
    ("plans.detail", "/plans/<int:plan_id>"): Access(
        "/plans/{plan}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("plans.revise", "/plans/<int:plan_id>/revise"): Access(
        "/plans/{plan}/revise", PLAN_WRITERS, ("GET", "POST"), tenant=True
    ),
    ("plans.acknowledge", "/plans/<int:plan_id>/seen"): Access(
        "/plans/{plan}/seen", VENDOR | ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("plans.withdraw", "/plans/<int:plan_id>/withdraw"): Access(
        "/plans/{plan}/withdraw", PLAN_WRITERS, ("POST",), tenant=True
    ),
    # Notifications: every signed-in user has their own. Any role may ask to read or open
    # one, but {notification} is the Acme buyer's: everyone else gets 404, as for a cart line
    # (test_notifications.py checks the same per user).
    ("notifications.index", "/notifications"): Access("/notifications", SIGNED_IN),
    ("notifications.bell", "/notifications/bell"): Access("/notifications/bell", SIGNED_IN),
    ("notifications.read_all", "/notifications/read-all"): Access(
        "/notifications/read-all", SIGNED_IN, ("POST",)
    ),
    ("notifications.read", "/notifications/<int:notification_id>/read"): Access(
        "/notifications/{notification}/read",
        VENDOR | ACME_CUSTOMERS,
        ("POST",),
        tenant=True,
        owner="buyer",
    ),
    ("notifications.open", "/notifications/<int:notification_id>/open"): Access(
        "/notifications/{notification}/open",
        VENDOR | ACME_CUSTOMERS,
        ("POST",),
        tenant=True,
        owner="buyer",
    ),
    # Everyone chooses which notifications also come by e-mail (test_outbox.py).
    ("notifications.settings", "/notifications/settings"): Access(
        "/notifications/settings", SIGNED_IN, ("GET", "POST")
    ),
    # Failed e-mail and background jobs are the vendor admins' (test_outbox.py, test_jobs.py).
    ("notifications.resend", "/notifications/outbox/<int:message_id>/resend"): Access(
        "/notifications/outbox/{failed_mail}/resend", frozenset({"admin"}), ("POST",)
    ),
    ("background.index", "/background"): Access("/background", frozenset({"admin"})),
    ("background.retry", "/background/failures/<int:failure_id>/retry"): Access(
        "/background/failures/{job_failure}/retry", frozenset({"admin"}), ("POST",)
    ),
    # Attachments: any signed-in user may ask; {attachment} is Acme's, so vendor staff and
    # Acme's users get it, another account's user 404 (test_attachments.py: internal files).
    ("attachments.download", "/attachments/<int:attachment_id>"): Access(
        "/attachments/{attachment}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    # Forecasts (test_forecasts.py checks what each side sees in them).
    ("forecasts.index", "/forecasts"): Access("/forecasts", BUYERS),
    ("forecasts.save_cell", "/forecasts/cells"): Access("/forecasts/cells", BUYERS, ("POST",)),
    ("forecasts.suggest", "/forecasts/suggest"): Access("/forecasts/suggest?sku=TS", BUYERS),
    ("forecasts.add_product", "/forecasts/products"): Access(
        "/forecasts/products", BUYERS, ("POST",)
    ),
    ("forecasts.fill_row", "/forecasts/fill"): Access("/forecasts/fill", BUYERS, ("POST",)),
    ("forecasts.publish", "/forecasts/publish"): Access("/forecasts/publish", BUYERS, ("POST",)),
    ("forecasts.upload", "/forecasts/upload"): Access("/forecasts/upload", BUYERS, ("POST",)),
    ("forecasts.template", "/forecasts/template.<any(csv, xlsx):fmt>"): Access(
        "/forecasts/template.xlsx?layout=long", BUYERS
    ),
    ("forecasts.horizon", "/forecasts/accounts/<int:account_id>/horizon"): Access(
        "/forecasts/accounts/{acme}/horizon",
        frozenset({"admin", "customer_admin"}),
        ("POST",),
        tenant=True,
    ),
    ("forecasts.versions", "/forecasts/accounts/<int:account_id>/versions"): Access(
        "/forecasts/accounts/{acme}/versions", FORECAST_READERS, tenant=True
    ),
    ("forecasts.version", "/forecasts/versions/<int:version_id>"): Access(
        "/forecasts/versions/{forecast_version}", FORECAST_READERS, tenant=True
    ),
    ("forecasts.inbox", "/forecasts/inbox"): Access("/forecasts/inbox", FORECAST_VENDOR),
    # Planning (test_forecast_planning.py checks what each side sees): cross-account pages
    # are the vendor's; a customer reads its own accuracy, with no account in the URL.
    ("planning.demand", "/forecasts/planning/demand"): Access(
        "/forecasts/planning/demand", FORECAST_VENDOR
    ),
    ("planning.waterfall", "/forecasts/planning/products/<int:product_id>/waterfall"): Access(
        "/forecasts/planning/products/{product}/waterfall?account={acme}", FORECAST_VENDOR
    ),
    ("planning.accuracy", "/forecasts/planning/accuracy"): Access(
        "/forecasts/planning/accuracy?account={acme}", FORECAST_VENDOR
    ),
    ("planning.own_accuracy", "/forecasts/accuracy"): Access("/forecasts/accuracy", BUYERS),
    # Commitments: planners and admins commit and set the threshold; account managers and
    # the account's own buyers read them (test_forecast_commits.py checks what each sees).
    ("forecast_commits.board", "/forecasts/accounts/<int:account_id>/commits"): Access(
        "/forecasts/accounts/{acme}/commits", FORECAST_READERS, tenant=True
    ),
    ("forecast_commits.commit", "/forecasts/accounts/<int:account_id>/commits"): Access(
        "/forecasts/accounts/{acme}/commits", FORECAST_COMMITTERS, ("POST",), tenant=True
    ),
    ("forecast_commits.commit_all", "/forecasts/accounts/<int:account_id>/commits/all"): Access(
        "/forecasts/accounts/{acme}/commits/all", FORECAST_COMMITTERS, ("POST",), tenant=True
    ),
    ("forecast_commits.threshold", "/forecasts/accounts/<int:account_id>/threshold"): Access(
        "/forecasts/accounts/{acme}/threshold", FORECAST_COMMITTERS, ("POST",), tenant=True
    ),
    # Service requests; {service_request} is Acme's (test_service.py checks what each sees).
    ("service.index", "/service"): Access("/service", SERVICE_READERS),
    ("service.new", "/service/new"): Access("/service/new", SERVICE_READERS, ("GET", "POST")),
    ("service.measures", "/service/measures"): Access("/service/measures", SERVICE_READERS),
    ("service.detail", "/service/<int:request_id>"): Access(
        "/service/{service_request}", SERVICE_READERS, tenant=True
    ),
    ("service.post_message", "/service/<int:request_id>/messages"): Access(
        "/service/{service_request}/messages", SERVICE_READERS, ("POST",), tenant=True
    ),
    ("service.take", "/service/<int:request_id>/take"): Access(
        "/service/{service_request}/take", SERVICE_WORKERS, ("POST",)
    ),
    ("service.handover", "/service/<int:request_id>/handover"): Access(
        "/service/{service_request}/handover", SERVICE_WORKERS, ("POST",)
    ),
    ("service.change_status", "/service/<int:request_id>/status"): Access(
        "/service/{service_request}/status", SERVICE_WORKERS, ("POST",)
    ),
    ("service.confirm", "/service/<int:request_id>/confirm"): Access(
        "/service/{service_request}/confirm", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("service.reopen", "/service/<int:request_id>/reopen"): Access(
        "/service/{service_request}/reopen", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    # Quality complaints: the steps and the replacement order are the service workers';
    # the quality record is everyone's who reads service figures (each their own accounts).
    ("service.quality_steps", "/service/<int:request_id>/quality"): Access(
        "/service/{service_request}/quality", SERVICE_WORKERS, ("POST",)
    ),
    ("service.replacement", "/service/<int:request_id>/replacement"): Access(
        "/service/{service_request}/replacement", SERVICE_WORKERS, ("POST",)
    ),
    ("service.quality_record", "/service/quality"): Access("/service/quality", SERVICE_READERS),
    ("service.settings_page", "/service/settings"): Access(
        "/service/settings", VENDOR_ADMIN, ("GET", "POST")
    ),
    ("service.add_holiday", "/service/settings/holidays"): Access(
        "/service/settings/holidays", VENDOR_ADMIN, ("POST",)
    ),
    ("service.import_holidays", "/service/settings/holidays/import"): Access(
        "/service/settings/holidays/import", VENDOR_ADMIN, ("POST",)
    ),
    ("service.delete_holiday", "/service/settings/holidays/<int:holiday_id>/delete"): Access(
        "/service/settings/holidays/{holiday}/delete", VENDOR_ADMIN, ("POST",)
    ),
    ("service.set_target", "/service/settings/targets"): Access(
        "/service/settings/targets", VENDOR_ADMIN, ("POST",)
    ),
    ("service.delete_target", "/service/settings/targets/<int:target_id>/delete"): Access(
        "/service/settings/targets/{service_target}/delete", VENDOR_ADMIN, ("POST",)
    ),
    # Installed equipment; {equipment_unit} is Acme's (test_equipment.py checks the rest).
    ("equipment.index", "/equipment"): Access("/equipment", EQUIPMENT_READERS),
    ("equipment.unit", "/equipment/<int:unit_id>"): Access(
        "/equipment/{equipment_unit}", EQUIPMENT_READERS, tenant=True
    ),
    ("equipment.update", "/equipment/<int:unit_id>"): Access(
        "/equipment/{equipment_unit}", EQUIPMENT_KEEPERS, ("POST",)
    ),
    ("equipment.add_documents", "/equipment/<int:unit_id>/documents"): Access(
        "/equipment/{equipment_unit}/documents", EQUIPMENT_KEEPERS, ("POST",)
    ),
    ("equipment.import_units", "/equipment/import"): Access(
        "/equipment/import", EQUIPMENT_KEEPERS, ("GET", "POST")
    ),
    ("equipment.edit_spec", "/catalog/products/<int:product_id>/equipment"): Access(
        "/catalog/products/{product}/equipment", VENDOR_ADMIN, ("GET", "POST")
    ),
    # Cost of ownership: the comparison is the catalog's (everyone, the viewer's prices);
    # an account's period and own costs are its customer admin's (test_ownership.py).
    ("equipment.compare", "/ownership/compare"): Access(
        "/ownership/compare?a=TST-1&b=TST-1", SIGNED_IN
    ),
    ("equipment.ownership_settings", "/ownership/settings"): Access(
        "/ownership/settings", frozenset({"customer_admin"}), ("GET", "POST")
    ),
    # API tokens: customer admins for their account, vendor admins for all (test_api_tokens.py).
    ("api_tokens.index", "/api-tokens"): Access("/api-tokens", ADMINS),
    ("api_tokens.create", "/api-tokens"): Access("/api-tokens", ADMINS, ("POST",)),
    ("api_tokens.revoke", "/api-tokens/<int:token_id>/revoke"): Access(
        "/api-tokens/{api_token}/revoke", ADMINS, ("POST",), tenant=True
    ),
    ("reviews.own_scorecard", "/scorecard"): Access("/scorecard", ACME_CUSTOMERS),
    ("reviews.account_scorecard", "/accounts/<int:account_id>/scorecard"): Access(
        "/accounts/{acme}/scorecard", VENDOR
    ),
    ("reviews.rate", "/scorecard/rating"): Access("/scorecard/rating", ACME_CUSTOMERS, ("POST",)),
    ("reviews.index", "/reviews"): Access("/reviews", REVIEWERS | ACME_CUSTOMERS),
    ("reviews.new", "/reviews/new"): Access("/reviews/new", REVIEWERS, ("GET", "POST")),
    ("reviews.detail", "/reviews/<int:review_id>"): Access(
        "/reviews/{review}", REVIEWERS | ACME_CUSTOMERS, tenant=True
    ),
    ("reviews.assess", "/reviews/<int:review_id>/assessment"): Access(
        "/reviews/{review}/assessment", REVIEWERS, ("POST",)
    ),
    ("reviews.share", "/reviews/<int:review_id>/share"): Access(
        "/reviews/{review}/share", REVIEWERS, ("POST",)
    ),
    ("reviews.comment", "/reviews/<int:review_id>/comments"): Access(
        "/reviews/{review}/comments", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    # Contacts and follow-ups: any vendor staff (an account manager for their accounts: the
    # matrix's manages Acme); the customer reads the notes shared with its own account, with
    # no account in the URL (test_contacts.py checks which notes and the other managers' 404).
    ("contacts.account", "/contacts/accounts/<int:account_id>"): Access(
        "/contacts/accounts/{acme}", VENDOR
    ),
    ("contacts.log", "/contacts/accounts/<int:account_id>/entries"): Access(
        "/contacts/accounts/{acme}/entries", VENDOR, ("POST",)
    ),
    ("contacts.promised", "/contacts/accounts/<int:account_id>/promised"): Access(
        "/contacts/accounts/{acme}/promised", VENDOR
    ),
    ("contacts.follow_ups", "/contacts/follow-ups"): Access("/contacts/follow-ups", VENDOR),
    ("contacts.new_follow_up", "/contacts/follow-ups/new"): Access(
        "/contacts/follow-ups/new?account=C-10001&reason=Red", VENDOR, ("GET", "POST")
    ),
    ("contacts.complete", "/contacts/follow-ups/<int:follow_up_id>/done"): Access(
        "/contacts/follow-ups/{follow_up}/done", VENDOR, ("POST",)
    ),
    ("contacts.shared", "/contacts/shared"): Access("/contacts/shared", ACME_CUSTOMERS),
    # Relationship health: account managers (their accounts; manager@vendor.test manages
    # Acme) and vendor admins; everyone else 403, another manager's account 404
    # (test_relationship.py).
    ("relationship.portfolio", "/relationship/portfolio"): Access(
        "/relationship/portfolio", RELATIONSHIP
    ),
    ("relationship.export_portfolio", "/relationship/portfolio.<any(csv, xlsx):fmt>"): Access(
        "/relationship/portfolio.csv", RELATIONSHIP
    ),
    ("relationship.account", "/relationship/accounts/<number>"): Access(
        "/relationship/accounts/C-10001", RELATIONSHIP
    ),
    ("relationship.acknowledge", "/relationship/accounts/<number>/acknowledge"): Access(
        "/relationship/accounts/C-10001/acknowledge", RELATIONSHIP, ("POST",)
    ),
    ("relationship.settings", "/relationship/settings"): Access(
        "/relationship/settings", VENDOR_ADMIN, ("GET", "POST")
    ),
    # The API's document and its page hold no data.
    ("api_docs.openapi_json", "/api/v1/openapi.json"): Access("/api/v1/openapi.json", PUBLIC),
    ("api_docs.docs", "/api/v1/docs"): Access("/api/v1/docs", PUBLIC),
    ("api.products", "/api/v1/products"): Access("/api/v1/products", TOKEN),
    ("api.product", "/api/v1/products/<sku>"): Access("/api/v1/products/TST-1", TOKEN),
    ("api.orders", "/api/v1/orders"): Access("/api/v1/orders", TOKEN),
    ("api.create_order", "/api/v1/orders"): Access("/api/v1/orders", TOKEN, ("POST",)),
    ("api.order", "/api/v1/orders/<number>"): Access("/api/v1/orders/{order}", TOKEN),
    ("api.cancel_order", "/api/v1/orders/<number>/cancel"): Access(
        "/api/v1/orders/{order}/cancel", TOKEN, ("POST",)
    ),
    ("api.cancel_order_line", "/api/v1/orders/<number>/lines/<int:line_no>/cancel"): Access(
        "/api/v1/orders/{order}/lines/1/cancel", TOKEN, ("POST",)
    ),
    (
        "api.request_line_cancellation",
        "/api/v1/orders/<number>/lines/<int:line_no>/cancellation-request",
    ): Access("/api/v1/orders/{confirmed_order}/lines/1/cancellation-request", TOKEN, ("POST",)),
    ("api.forecast_draft", "/api/v1/forecasts/draft"): Access("/api/v1/forecasts/draft", TOKEN),
    ("api.put_forecast_draft", "/api/v1/forecasts/draft"): Access(
        "/api/v1/forecasts/draft", TOKEN, ("PUT",)
    ),
    ("api.publish_forecast", "/api/v1/forecasts/publish"): Access(
        "/api/v1/forecasts/publish", TOKEN, ("POST",)
    ),
    ("api.forecast_versions", "/api/v1/forecasts/versions"): Access(
        "/api/v1/forecasts/versions", TOKEN
    ),
    ("api.forecast_version", "/api/v1/forecasts/versions/<int:number>"): Access(
        "/api/v1/forecasts/versions/1", TOKEN
    ),
    ("api.service_requests", "/api/v1/service-requests"): Access("/api/v1/service-requests", TOKEN),
    ("api.open_service_request", "/api/v1/service-requests"): Access(
        "/api/v1/service-requests", TOKEN, ("POST",)
    ),
    ("api.service_request", "/api/v1/service-requests/<int:request_id>"): Access(
        "/api/v1/service-requests/{service_request}", TOKEN
    ),
    ("api_docs.problem_type", "/api/v1/problems/<name>"): Access(
        "/api/v1/problems/invalid-input", PUBLIC
    ),
    # cXML: purchasing systems post documents; vendor admins keep credentials and read the
    # outbound log; PunchOut's start link and the way back (test_cxml.py).
    ("cxml.order", "/cxml/order"): Access("/cxml/order", CXML, ("POST",)),
    ("cxml.punchout_setup", "/cxml/punchout"): Access("/cxml/punchout", CXML, ("POST",)),
    ("cxml_pages.punchout_start", "/punchout/start/<token>"): Access(
        "/punchout/start/not-a-real-token", LINK
    ),
    ("cxml_pages.punchout_return", "/punchout/return"): Access(
        "/punchout/return", BUYERS, ("POST",)
    ),
    ("cxml_pages.index", "/integrations/cxml"): Access("/integrations/cxml", VENDOR_ADMIN),
    ("cxml_pages.edit", "/integrations/cxml/accounts/<int:account_id>"): Access(
        "/integrations/cxml/accounts/{acme}", VENDOR_ADMIN, ("GET", "POST")
    ),
    ("cxml_pages.retry", "/integrations/cxml/messages/<int:message_id>/retry"): Access(
        "/integrations/cxml/messages/{cxml_message}/retry", VENDOR_ADMIN, ("POST",)
    ),
}


def test_every_endpoint_has_an_access_entry(app):
    rules = {
        (rule.endpoint, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
    }
    missing = sorted(rules - MATRIX.keys())
    stale = sorted(MATRIX.keys() - rules)
    assert not missing, f"add these to the access matrix: {missing}"
    assert not stale, f"these matrix entries match no route: {stale}"


def test_every_entry_lists_the_methods_the_route_accepts(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        accepted = set(rule.methods) - {"HEAD", "OPTIONS"}
        assert accepted == set(MATRIX[(rule.endpoint, rule.rule)].methods), rule.rule


ACTOR_NAMES = ["anonymous", *ACTORS]


def build_world(app) -> dict:
    """The demo people, a Globex user with every customer role, one product, and Acme's
    objects (an order, a cart line, a saved list, a contract price, a notification for the
    buyer, an attachment); returns their ids."""
    from datetime import date, timedelta

    from portal import demo
    from portal.accounts.models import Address
    from portal.catalog.models import Category, ContractPrice, Product, Stock
    from portal.notifications import service as notifications
    from portal.ordering import service as ordering
    from portal.ordering.models import CartLine

    with app.app_context():
        demo.load_people()
        globex = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10002")
        )
        other = User(
            email=ACTORS["other_customer"],
            name="Olga Other",
            account=globex,
            password_hash=demo.password_hash(),
        )
        other.roles = [Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN]
        product = Product(
            sku="TST-1",
            name="Test part",
            category=Category(name="Tests"),
            list_price=1,
            stock=Stock(on_hand=1),
        )
        db.session.add_all([other, product])
        db.session.commit()
        buyer = db.session.scalar(select(User).where(User.email == ACTORS["buyer"]))
        acme = buyer.account
        address = next(a for a in acme.addresses if a.kind == "shipping")
        ordering.add_to_cart(buyer, [(product.id, 1)])
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-1",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="k1",
            today=date.today(),
        )
        ordering.add_to_cart(buyer, [(product.id, 1)])
        saved = ordering.save_cart_as_list(buyer, "Standard")
        price = ContractPrice(
            account_id=acme.id,
            product_id=product.id,
            min_quantity=1,
            unit_price=1,
            valid_from=date.today() - timedelta(days=1),
        )
        db.session.add(price)
        db.session.commit()
        # A second order, confirmed, partly shipped, with a cancellation request.
        from portal.fulfilment import cancellations, confirmations, shipments

        ordering.add_to_cart(buyer, [(product.id, 3)])
        confirmed, _ = ordering.place_order(
            buyer,
            po_number="PO-2",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="k2",
            today=date.today(),
        )
        fulfilment = db.session.scalar(select(User).where(User.email == ACTORS["fulfilment"]))
        line = confirmed.lines[0]
        promise = date.today() + timedelta(days=5)
        confirmations.confirm(
            fulfilment, confirmed, [confirmations.LineDecision(line.id, promise)], date.today()
        )
        shipment = shipments.ship(
            fulfilment,
            confirmed,
            {line.id: 1},
            carrier="DHL",
            tracking="T",
            shipped_on=date.today(),
            today=date.today(),
        )
        request = cancellations.request_cancellation(buyer, confirmed, line.id, reason="Too many")
        ordering.add_to_cart(buyer, [(product.id, 1)])  # the cart line the matrix needs
        admin_of_acme = db.session.scalar(
            select(User.id).where(User.email == ACTORS["customer_admin"])
        )
        from portal.ideas import service as ideas

        idea = ideas.save_draft(
            buyer,
            None,
            title="A stamped bracket",
            body="",
            category="design",
            expected_saving="",
            expected_benefit="",
            skus="",
        )
        ideas.submit(buyer, idea, date.today())
        from portal.plans import service as plans

        planner = db.session.scalar(select(User).where(User.email == ACTORS["planner"]))
        plan = plans.publish(
            planner,
            plans.PlanInput(
                kind="shutdown",
                title="Summer shutdown",
                effective_from=date.today() + timedelta(days=30),
                visibility="chosen",
                account_ids=[acme.id],
            ),
        )
        (notification,) = notifications.notify(
            [buyer],
            "order_approved",
            {"number": order.number, "actor": "Anna Approver"},
            f"/orders/{order.number}",
        )
        from portal.attachments import service as attachments

        attachment = attachments.store(
            buyer, acme.id, FileStorage(io.BytesIO(b"Bracket, 2 mm\n"), filename="note.txt")
        )
        db.session.commit()
        from portal.forecasts import drafts, versions

        drafts.add_product(buyer, product.sku, date.today())
        drafts.save_cell(buyer, product.id, f"{date.today():%Y-%m}", "5", date.today())
        forecast_version = versions.publish(buyer, "First", date.today())
        from portal.background.models import JobFailure
        from portal.notifications.models import OutboxMessage

        failed_mail = db.session.scalars(select(OutboxMessage).limit(1)).one()
        failed_mail.state, failed_mail.last_error = "failed", "550 5.1.1 No such user"
        job_failure = JobFailure(task_name="purge_sessions", task_id="t1", error="Boom")
        db.session.add(job_failure)
        from portal.extensions import utcnow
        from portal.service import workflow as service_requests
        from portal.service.models import ServiceHoliday, ServiceTarget

        service_request = service_requests.open_request(
            buyer,
            kind="repair",
            priority="high",
            title="Pump leaks",
            description="",
            now=utcnow(),
        )
        holiday = ServiceHoliday(day=date.today() + timedelta(days=30), name="Company day")
        service_target = ServiceTarget(
            account_id=acme.id, priority="urgent", response_hours=1, resolution_hours=4
        )
        db.session.add_all([holiday, service_target])
        from portal.equipment.models import EquipmentSpec, EquipmentUnit

        db.session.add(EquipmentSpec(product_id=product.id, warranty_months=24))
        equipment_unit = EquipmentUnit(
            account_id=acme.id, product_id=product.id, serial="SN-ACCESS-1", source="imported"
        )
        db.session.add(equipment_unit)
        db.session.commit()
        from portal.reviews import reviews as relationship_reviews

        manager = db.session.scalar(select(User).where(User.email == ACTORS["account_manager"]))
        start, end = relationship_reviews.last_complete_quarter(date.today())
        review = relationship_reviews.create(manager, acme.id, start, end)
        relationship_reviews.assess(
            manager, review, trend="stable", neglected="", comparison="", actions=""
        )
        relationship_reviews.share(manager, review)  # shared: its customers may read it
        from portal.relationship.models import Episode

        # A red alert of Acme's for the acknowledge form.
        db.session.add(
            Episode(account_id=acme.id, subject="silence", reason="Quiet", started_on=date.today())
        )
        db.session.commit()
        from portal.api import tokens as api_tokens

        api_token = api_tokens.create(
            None,
            acting_as=buyer,
            name="ERP",
            scopes=["catalog:read"],
            days=30,
            now=utcnow(),
        ).token
        from portal.contacts import service as contacts

        manager = db.session.scalar(select(User).where(User.email == ACTORS["account_manager"]))
        follow_up = contacts.set_follow_up(
            manager,
            acme,
            contacts.FollowUpInput(kind="call", title="Call", due_on=date.today()),
            date.today(),
        )
        from portal.cxml import demo as cxml_demo
        from portal.cxml.models import CxmlMessage

        cxml_demo.load()
        now = utcnow()
        cxml_message = CxmlMessage(
            account_id=acme.id,
            order_id=confirmed.id,
            kind="ConfirmationRequest",
            cause="confirmation",
            payload_id="matrix@portal",
            url="http://127.0.0.1:9/cxml",
            document="<cXML/>",
            state="failed",
            give_up_at=now,
        )
        db.session.add(cxml_message)
        db.session.commit()
        return {
            "cxml_message": cxml_message.id,
            "follow_up": follow_up.id,
            "api_token": api_token.id,
            "failed_mail": failed_mail.id,
            "job_failure": job_failure.id,
            "acme": acme.id,
            "acme_address": db.session.scalar(
                select(Address.id).where(Address.account_id == acme.id).order_by(Address.id)
            ),
            "acme_buyer": buyer.id,
            "acme_admin": admin_of_acme,
            "product": product.id,
            "order": order.number,
            "order_line": order.lines[0].id,
            "cart_line": db.session.scalar(select(CartLine.id).where(CartLine.user_id == buyer.id)),
            "saved_list": saved.id,
            "contract_price": price.id,
            "confirmed_order": confirmed.number,
            "confirmed_line": line.id,
            "shipment": shipment.id,
            "cancel_request": request.id,
            "notification": notification.id,
            "idea": idea.id,
            "plan": plan.id,
            "attachment": attachment.id,
            "forecast_version": forecast_version.id,
            "service_request": service_request.id,
            "holiday": holiday.id,
            "service_target": service_target.id,
            "review": review.id,
            "equipment_unit": equipment_unit.id,
        }


def expected_status(access: Access, actor: str) -> str:
    if access.allowed == PUBLIC:
        return "reached"
    if access.allowed == TOKEN:
        return "token required"
    if access.allowed == CXML:
        return "cxml refusal"
    if access.allowed == LINK:
        return "not found"
    if actor == "anonymous":
        return "sign in"
    if access.allowed == SIGNED_IN:
        return "reached"
    if actor == "other_customer":
        # Holds every customer role: the role check passes where a customer role
        # is allowed, and then the account's objects are not there for them.
        if access.allowed & ACME_CUSTOMERS:
            return "not found" if access.tenant else "reached"
        return "forbidden"
    if access.owner and actor in access.allowed and actor != access.owner:
        return "not found"
    return "reached" if actor in access.allowed else "forbidden"


def check(response, access: Access, actor: str) -> None:
    expected = expected_status(access, actor)
    status = response.status_code
    if expected == "sign in":
        assert status == 302
        assert response.headers["Location"].startswith("/login?next=")
    elif expected == "cxml refusal":
        assert status == 200 and response.mimetype == "text/xml"
        assert response.headers["X-Cxml-Status"] in ("400", "401")
    elif expected == "token required":
        assert status == 401
        assert response.mimetype == "application/problem+json"
    elif expected == "forbidden":
        assert status == 403
    elif expected == "not found":
        assert status == 404
    else:
        assert status < 500 and status not in (401, 403, 404), status


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    """One app, one data set and one signed-in client per actor for every GET case.

    GET requests change nothing these cases depend on, so they can share the
    data; signing in once per actor instead of once per case keeps the matrix
    fast. (POST cases below each get fresh data.)
    """
    from portal import create_app

    from .conftest import TEMPLATE_CACHE, empty_all_tables
    from .support import make_test_config

    attachments = tmp_path_factory.mktemp("attachments")
    app = create_app(make_test_config(database_url, ATTACHMENT_DIR=str(attachments)))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with app.app_context():
        empty_all_tables()
    ids = build_world(app)
    people = {"anonymous": Browserless(app.test_client())}
    for actor, email in ACTORS.items():
        people[actor] = Browserless(app.test_client())
        assert people[actor].login(email, DEMO_PASSWORD).status_code == 303
    yield ids, people
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


GET_CASES = [
    pytest.param(key, actor, id=f"{key[1]} GET {actor}")
    for key, access in MATRIX.items()
    if "GET" in access.methods
    for actor in ACTOR_NAMES
]
POST_CASES = [
    (key, actor)
    for key, access in MATRIX.items()
    if "POST" in access.methods
    for actor in ACTOR_NAMES
]
# A refused POST changes nothing, so those cases can share `world` with the GET
# cases; a POST that reaches its view may change data and gets a fresh world.
REFUSED_POST_CASES = [
    pytest.param(key, actor, id=f"{key[1]} POST {actor}")
    for key, actor in POST_CASES
    if expected_status(MATRIX[key], actor) != "reached"
]
REACHED_POST_CASES = [
    pytest.param(key, actor, id=f"{key[1]} POST {actor}")
    for key, actor in POST_CASES
    if expected_status(MATRIX[key], actor) == "reached"
]


# Other methods (the API's PUT): a session never reaches them either.
OTHER_METHOD_CASES = [
    pytest.param(key, actor, method, id=f"{key[1]} {method} {actor}")
    for key, access in MATRIX.items()
    for method in access.methods
    if method not in ("GET", "POST")
    for actor in ACTOR_NAMES
]


# The cases sharing `world` come first in this module; the reached POST cases
# after them empty the tables for each case.
@pytest.mark.parametrize(("key", "actor"), GET_CASES)
def test_get_access(world, key, actor):
    ids, people = world
    access = MATRIX[key]
    check(people[actor].client.get(access.url.format(**ids)), access, actor)


# Opening a service request from what it concerns: the same rule as /service/new, but
# the context named in the query is one account's object, so another account's user
# (who holds every customer role) finds it missing, as any other guessed id.
CONTEXTS = {
    "shipment": Access("/service/new?shipment={shipment}", SERVICE_READERS, tenant=True),
    "order line": Access("/service/new?order_line={confirmed_line}", SERVICE_READERS, tenant=True),
    "equipment unit": Access(
        "/service/new?equipment={equipment_unit}", SERVICE_READERS, tenant=True
    ),
}


@pytest.mark.parametrize(
    ("context", "actor"),
    [pytest.param(c, a, id=f"{c} {a}") for c in CONTEXTS for a in ACTOR_NAMES],
)
def test_service_request_context_access(world, context, actor):
    ids, people = world
    access = CONTEXTS[context]
    check(people[actor].client.get(access.url.format(**ids)), access, actor)


@pytest.mark.parametrize(("key", "actor"), REFUSED_POST_CASES)
def test_refused_post_access(world, key, actor):
    ids, people = world
    access = MATRIX[key]
    page = "/login" if actor == "anonymous" else "/"
    check(people[actor].post(access.url.format(**ids), {}, page=page), access, actor)


@pytest.mark.parametrize(("key", "actor", "method"), OTHER_METHOD_CASES)
def test_other_method_access(world, key, actor, method):
    ids, people = world
    access = MATRIX[key]
    assert access.allowed == TOKEN, "a page with PUT or DELETE needs its CSRF case here"
    response = people[actor].client.open(access.url.format(**ids), method=method, json={})
    check(response, access, actor)


@pytest.fixture(scope="module")
def world_rows(shared_app, tmp_path_factory):
    """The world built once through the services; each POST case gets it back as it
    was (a POST may change it). Building it for each of the 333 cases was a quarter of
    a second each."""
    from .conftest import empty_all_tables, take_rows

    app = shared_app.app
    built_in = tmp_path_factory.mktemp("world-attachments")
    attachments = app.config["ATTACHMENT_DIR"]
    app.config["ATTACHMENT_DIR"] = str(built_in)
    try:
        with app.app_context():
            empty_all_tables()
        ids = build_world(app)
        with app.app_context():
            rows = take_rows(built_in, tmp_path_factory.mktemp("world-files"))
            empty_all_tables()
    finally:
        app.config["ATTACHMENT_DIR"] = attachments
    return ids, rows


@pytest.mark.parametrize(("key", "actor"), REACHED_POST_CASES)
def test_reached_post_access(world_rows, app, key, actor):
    from pathlib import Path

    from .conftest import put_back

    ids, rows = world_rows
    with app.app_context():
        put_back(rows, Path(app.config["ATTACHMENT_DIR"]))
    access = MATRIX[key]
    person = Browserless(app.test_client())
    if actor != "anonymous":
        assert person.login(ACTORS[actor], DEMO_PASSWORD).status_code == 303
    url = access.url.format(**ids)
    check(person.post(url, {}, page="/login" if actor == "anonymous" else "/"), access, actor)
