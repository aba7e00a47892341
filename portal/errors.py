"""Domain errors raised by service functions and shown to people by routes."""


class DomainError(Exception):
    """A rule of the business refused the request. The message is for the user.

    `field` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def attach_to(self, form) -> None:
        """Show the message beside its field on a WTForms form, or above the form."""
        field = getattr(form, self.field, None) if self.field else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, self.message]
        else:
            form.form_errors.append(self.message)


class NotFound(DomainError):
    """The object does not exist, or the user may not know that it does."""

    def __init__(self, message: str = "Not found"):
        super().__init__(message)


class Forbidden(DomainError):
    """The user is known but lacks the role for this."""
