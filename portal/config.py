"""Defaults. `instance/config.py` and `PORTAL_*` environment variables override them.

Every setting here is safe for a developer's laptop. Production mode
(`PORTAL_ENV=production`) tightens the cookie flags and refuses to start
without a real secret key: see `portal.settings.check_production`.
"""

from datetime import timedelta

# "development" or "production". Production refuses a generated secret key,
# marks cookies Secure and never loads demo data.
ENV = "development"

# None means: SQLite at instance/portal.sqlite3.
DATABASE_URL = None

# None means: generated on first run and kept in instance/secret_key.
SECRET_KEY = None

VENDOR_NAME = "Northwind Components"
# Where people reach the portal: e-mails link to pages under this address.
PUBLIC_URL = "http://localhost:5000"
# The vendor's base currency (ISO 4217): products' list prices are in it, and new
# customer accounts are priced in it unless an admin chooses another. Amounts are
# Decimal, in the currency's own minor units (two places; none for rupiah).
CURRENCY = "EUR"
# The currencies an account may be priced in, and a product may have list prices in.
CURRENCIES = ("EUR", "USD", "GBP", "IDR")
# Days from order to dispatch for what is in stock; beyond stock, the product's lead time.
DISPATCH_DAYS_FROM_STOCK = 1
# Business days (Mon-Fri) within which the vendor promises a first answer to a
# customer's design suggestion.
IDEA_ANSWER_BUSINESS_DAYS = 5

# Service requests: promised first response and resolution per priority, in working
# hours of the vendor's service calendar; an account may have its own (a contract).
SERVICE_TARGETS = {"urgent": [2, 8], "high": [4, 24], "normal": [8, 40], "low": [16, 80]}
# The service calendar until a vendor admin keeps one on /service/settings: weekday
# ("0" = Monday) to local opening hours; the zone is DEFAULT_TIMEZONE.
SERVICE_WORKING_HOURS = {str(day): ["08:00", "17:00"] for day in range(5)}
# A resolved request the customer neither confirms nor reopens closes by itself
# after this many working days.
SERVICE_AUTO_CLOSE_WORKING_DAYS = 5

# A forecast cell that changed by more than this percentage from the version before is
# flagged for the planners, unless an account has agreed on its own threshold.
FORECAST_EXCEPTION_THRESHOLD_PERCENT = 20

# Days goods travel to a customer. Added to the pre-filled promise for accounts
# whose terms measure promises on delivery rather than on shipment.
TRANSIT_DAYS = 2

# Timezone for vendor staff who have not chosen one.
DEFAULT_TIMEZONE = "Europe/Berlin"

# Sessions (OWASP ASVS 3.3): idle and absolute lifetime, enforced on the server.
SESSION_IDLE_MINUTES = 30
SESSION_ABSOLUTE_HOURS = 12
SESSION_COOKIE_NAME = "portal_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_ABSOLUTE_HOURS)

# Login throttling: failures counted in a sliding window, per email and per
# client address. Stored in the database, so every worker sees the same count.
LOGIN_WINDOW_MINUTES = 15
LOGIN_MAX_FAILURES_PER_EMAIL = 5
LOGIN_MAX_FAILURES_PER_ADDRESS = 30

# Number of proxies in front of the app that set X-Forwarded-For. 0 means the
# client address is the socket peer and no header is believed.
TRUSTED_PROXY_COUNT = 0

# Password hashing (argon2id). The defaults are argon2-cffi's (RFC 9106 low
# memory profile); tests lower them to keep the suite fast.
PASSWORD_HASH_TIME_COST = 3
PASSWORD_HASH_MEMORY_KIB = 65536
PASSWORD_HASH_PARALLELISM = 4

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
# The largest request body. Keep it above ATTACHMENT_MAX_BYTES (plus room for the
# form around a file): a file just over the attachment limit then reaches the
# attachments service, whose message names the limit, instead of being cut off
# with the bare "too large" page.
MAX_CONTENT_LENGTH = 25 * 1024 * 1024

# Attachments (drawings, photos, PDFs, CAD exports on suggestions and messages).
# The largest single file, in bytes.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# The most all attachments of one customer account may take together, in bytes.
ATTACHMENT_QUOTA_BYTES = 500 * 1024 * 1024
# Where the files are kept. None means instance/attachments. Never a folder the
# web server serves by itself (such as portal/static): files are only ever sent
# by the portal, after checking who asks. With several hosts, a shared volume.
ATTACHMENT_DIR = None

# E-mail for notifications: written to the outbox with the change it reports and
# sent by the worker (`flask worker`), which reads these settings; a request never
# talks to the mail server. Temporary failures are retried for a day, permanent
# ones are shown to vendor admins. None: nothing is sent and each message is
# logged at INFO by the worker instead, which is what a laptop wants.
MAIL_SERVER = None
MAIL_PORT = 587
MAIL_USERNAME = None
MAIL_PASSWORD = None
# STARTTLS after connecting (the submission port 587 expects it); False for a
# local relay that speaks plain SMTP.
MAIL_USE_TLS = True
MAIL_FROM = "portal@localhost"

# Logs go to stderr (the service manager or gunicorn collects them): one line per
# request from "portal.request" (portal/request_log.py), and from every other
# "portal.*" logger what is at LOG_LEVEL or above. True: one JSON object per line.
LOG_JSON = False
LOG_LEVEL = "WARNING"

# The job queue (portal.jobs). None: a SQLite file in instance/ (JOBS_SQLITE_PATH
# to put it elsewhere), for one host. A Redis URL (redis://host:6379/0) when
# several hosts share the work.
REDIS_URL = None
# Requests per API token (Flask-Limiter notation); counted in Redis when REDIS_URL is set,
# else per process (docs/api.md, "Rate limits").
API_RATE_LIMIT = "600 per minute"
# The vendor's own cXML identity: what purchasing systems address (To) and what our
# confirmations, ship notices and PunchOut carts come from (portal/cxml).
CXML_IDENTITY = "NORTHWIND"
CXML_DOMAIN = "NetworkID"
JOBS_SQLITE_PATH = None
# "sqlite", "redis" or (tests) "memory"; None chooses from REDIS_URL.
JOBS_BACKEND = None
# The hour (UTC) at which the daily digest e-mails are written.
DIGEST_HOUR_UTC = 6
