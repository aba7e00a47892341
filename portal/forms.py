"""The portal's form base: WTForms' own messages in the reader's language.

A validator without a message of its own ("This field is required.", "Not a valid
date value.") says what WTForms says. Flask-WTF translates those from WTForms' own
catalogues only, and WTForms ships none in Indonesian, so an Indonesian buyer would read
English under a field. `PortalForm` asks Flask-Babel instead, from the portal's
catalogue, where `WTFORMS_MESSAGES` below puts WTForms' messages (extracted like any
other text, translated in portal/translations/id). Every form of the portal derives from
it; tests/test_i18n.py checks that none derives from FlaskForm directly.
"""

from __future__ import annotations

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

# WTForms' messages (wtforms/locale/wtforms.pot) as the portal's catalogue holds them: the
# msgids must stay exactly WTForms'. Developer errors ("Choices cannot be None.") are left out.
WTFORMS_MESSAGES = (
    _l("Field must be equal to %(other_name)s."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    lazy_ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    ),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)


class _BabelTranslations:
    """What WTForms asks for its messages, answered from the portal's catalogue. The
    message comes back unformatted: WTForms fills in its %(min)d itself."""

    # Flask-Babel's own ngettext formats with `num`, which would break "%(min)d"; the
    # catalogue is asked directly.
    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _BabelTranslations()


class PortalForm(FlaskForm):
    """FlaskForm (CSRF and all) whose built-in validation messages are translated."""

    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS
