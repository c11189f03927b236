from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Usernames appear in profile URLs: plain ASCII letters, digits, dot, dash and underscore.
username_validators = [
    RegexValidator(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{2,29}$",
        _("Use 3 to 30 English letters, digits, dots, dashes or underscores, starting with a letter or digit."),
        code="invalid_username",
    )
]
