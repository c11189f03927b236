from django.contrib.auth.password_validation import MinimumLengthValidator as DjangoMinimumLengthValidator
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from marketplace.l10n import localize_digits

# Usernames appear in profile URLs: plain ASCII letters, digits, dot, dash and underscore.
username_validators = [
    RegexValidator(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{2,29}$",
        _("Use 3 to 30 English letters, digits, dots, dashes or underscores, starting with a letter or digit."),
        code="invalid_username",
    )
]


class MinimumLengthValidator(DjangoMinimumLengthValidator):
    """Django's, with the number in the page's digits (Persian pages otherwise say '8' in a Persian sentence)."""

    def get_help_text(self):
        return localize_digits(super().get_help_text())

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            message = self.get_error_message() % {"min_length": self.min_length}
            raise ValidationError(localize_digits(message), code="password_too_short")
