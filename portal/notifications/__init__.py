"""In-app notifications: a bell in the header, a list page, and optional e-mail.

Other areas call `service.notify(...)` inside the transaction of the change it
reports; the rows and the e-mails exist only if that transaction commits.
"""
