"""Attachments: files that customers and vendor staff attach to things in the portal.

Another area stores an upload with `service.store(...)`, links it to its own row
with `service.attach(...)` and lists it with `service.for_owner(...)`; the
`attachments.download` route serves it to whoever may see it. The type of a
file is decided by its content, never by its name or the browser's word, and
only a short list of harmless kinds is accepted (see `service.ACCEPTED`).
"""
