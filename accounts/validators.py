from django.contrib.auth.password_validation import MinimumLengthValidator as DjangoMinimumLengthValidator
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from marketplace.l10n import localize_digits, to_ascii_digits

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


def normalize_account_number(value: str) -> str:
    """Digits as typed on any keyboard, without spaces or dashes; letters upper-case."""
    return "".join(ch for ch in to_ascii_digits(value or "") if ch not in " -_\u200c\u00a0").upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_card_number(value: str) -> None:
    if not (value.isdigit() and len(value) == 16 and luhn_valid(value)):
        raise ValidationError(_("Enter a valid 16-digit bank card number."), code="invalid_card")


def iban_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, the number mod 97 is 1."""
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:].isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def validate_sheba(value: str) -> None:
    """An Iranian Sheba number: IR and 24 digits, with valid check digits."""
    if not (len(value) == 26 and value.startswith("IR") and value[2:].isdigit() and iban_valid(value)):
        raise ValidationError(_("Enter a valid Sheba number: IR followed by 24 digits."), code="invalid_sheba")
