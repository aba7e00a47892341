"""The e-mail preferences form: one choice per kind of notification."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import RadioField, SelectChoice
from wtforms.validators import ValidationError

from portal.forms import PortalForm

from .preferences import DELIVERY_LABELS, KINDS

CHOICE_MESSAGE = "Choose e-mail at once, a daily digest or no e-mail."


class DeliveryField(RadioField):
    """A radio group whose refusal says what the choices are."""

    def pre_validate(self, form) -> None:
        if self.data not in DELIVERY_LABELS:
            raise ValidationError(CHOICE_MESSAGE)


class PreferencesForm(PortalForm):
    """Fields are added per kind by `preferences_form`."""

    def choices(self) -> dict[str, str]:
        return {kind: self[kind].data for kind in KINDS}


def preferences_form(current: Mapping[str, str]) -> PreferencesForm:
    """A form with a field per known kind, preset to the user's current choices."""

    class Form(PreferencesForm):
        pass

    for kind, (_topic, label) in KINDS.items():
        setattr(
            Form,
            kind,
            DeliveryField(
                label,
                choices=[SelectChoice(v, label) for v, label in DELIVERY_LABELS.items()],
                default=current[kind],
            ),
        )
    return Form()
