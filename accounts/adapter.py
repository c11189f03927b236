from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.utils.translation import get_language

from accounts.services import profile_ensure


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # The language the visitor signed up in is the language of their e-mail and notifications.
        user.language = (get_language() or "").split("-")[0]
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                profile_ensure(user=user)
        return user
