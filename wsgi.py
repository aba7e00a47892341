"""Entry point for gunicorn (`gunicorn wsgi:app`) and `flask --app wsgi`."""

import gc

from portal import create_app

app = create_app()

# What start-up built (1,900 URL rules, the ORM's mappers, the API's document, the form
# macros) lives as long as the process. Left to the collector, every full collection
# walked it again: ~140 ms, about once in 300 requests, on a page that takes 40 ms
# (bench/relationship.py's p95). Frozen, those collections walk only what requests made.
gc.freeze()
