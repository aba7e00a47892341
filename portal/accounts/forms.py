"""Forms for signing in, passwords, accounts, addresses and users.

A form lists exactly the fields a person may set. Anything else posted (a
role, an account, an active flag) is never read: that is the guard against
mass assignment, together with service functions that take named arguments.
"""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PortalForm

from .passwords import MAX_LENGTH


class EmailAddress:
    """A syntactically valid e-mail address (no DNS look-up).

    `test_environment` lets the reserved `.test` domain through, which the demo
    logins use; every other special-use domain is still refused.
    """

    def __call__(self, form, field) -> None:
        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError as error:
            raise ValidationError(f"Invalid email address: {error}") from None


class LoginForm(PortalForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(message=_l("This field is required.")), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    # No length limit here beyond the policy's maximum: a sign-in must not
    # reveal the policy, and a password is never truncated.
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("This field is required.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("This field is required."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("This field is required."))],
        description=_l("At least 12 characters; a phrase of several words works well."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class AccountForm(PortalForm):
    number = StringField(
        _l("Account number"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9-]+$", message=_l("Use letters, digits and dashes.")),
        ],
        description=_l("As in the vendor's ERP, e.g. C-10042."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("active", _l("Active")),
            SelectChoice("on_hold", _l("On hold")),
            SelectChoice("closed", _l("Closed")),
        ],
    )
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    currency = SelectField(
        _l("Currency"),
        validators=[DataRequired()],
        description=_l(
            "Its list prices, contract prices and orders are in this currency. Contract "
            "prices agreed in another currency stop applying when it changes."
        ),
    )
    default_language = SelectField(
        _l("Language of new users"),
        validators=[Optional()],
        description=_l("For its users who have not chosen one. Empty: their browser's."),
    )
    account_manager_id = SelectField(
        _l("Account manager"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    handover_reason = StringField(
        _l("Why the manager changes"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "Needed when the account goes from one manager to another; kept with "
            "the account's history."
        ),
    )
    promise_basis = SelectField(
        _l("Promises are kept when goods are"),
        choices=[
            SelectChoice("delivery", _l("Delivered by the promised date")),
            SelectChoice("shipment", _l("Shipped by the promised date")),
        ],
        default="delivery",
        description=_l("As the account's terms say; the promise ledger measures against it."),
    )


class AddressForm(PortalForm):
    kind = SelectField(
        _l("Use"),
        choices=[SelectChoice("shipping", _l("Ship to")), SelectChoice("billing", _l("Bill to"))],
    )
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("How buyers pick it, e.g. “Plant 2, goods receiving”."),
    )
    recipient = StringField(_l("Recipient"), validators=[Optional(), Length(max=200)])
    line1 = StringField(_l("Street and number"), validators=[DataRequired(), Length(max=200)])
    line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(), Length(max=20)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    country = StringField(
        _l("Country"),
        validators=[
            DataRequired(),
            Regexp(r"^[A-Za-z]{2}$", message=_l("Use the two-letter code, e.g. DE.")),
        ],
        description=_l("Two-letter ISO code."),
    )
    is_default = BooleanField(_l("Default for this use"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254), EmailAddress()])
    roles = MultiCheckboxField(
        _l("Roles"),
        description=_l(
            "Customer users take Buyer, Approver or Customer admin; "
            "vendor staff take the other roles."
        ),
    )
    timezone = SelectField(
        _l("Time zone"),
        validators=[Optional()],
        description=_l(
            "Times are shown in this zone. Empty: the account's zone "
            "(for vendor staff, the vendor's)."
        ),
    )


class NewUserForm(UserForm):
    # Only on creation, and only for vendor admins: which side the user is on.
    account_id = SelectField(
        _l("Customer account"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH + 1)],
        description=_l("At least 12 characters. Tell it to the user; they can change it."),
        render_kw={"autocomplete": "new-password"},
    )


class ApprovalLimitForm(PortalForm):
    approval_limit = DecimalField(
        _l("Approval limit"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=10**9)],
        description=_l(
            "Orders above this total wait for one of your approvers. Empty: no approval needed."
        ),
    )


class PreferencesForm(PortalForm):
    """A person's own language and time zone (their profile)."""

    language = SelectField(
        _l("Language"),
        validators=[Optional()],
        description=_l("Empty: your account's language, else your browser's."),
    )
    timezone = SelectField(
        _l("Time zone"),
        validators=[Optional()],
        description=_l("Times and days are shown in this zone. Empty: your account's zone."),
    )


class AccountPreferencesForm(PortalForm):
    """The account's default language for its users, and its time zone (customer admin)."""

    default_language = SelectField(
        _l("Language of new users"),
        validators=[Optional()],
        description=_l("For users who have not chosen one. Empty: their browser's."),
    )
    timezone = SelectField(
        _l("Time zone of the account"),
        validators=[DataRequired(message=_l("This field is required."))],
        description=_l("Its users see times in it unless they chose their own."),
    )
