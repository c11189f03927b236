"""Django's and allauth's authentication backends, loading the signed-in user with their profile: every page
shows the name from the profile in the top menu, so one query instead of two on each request."""

from allauth.account import auth_backends
from django.contrib.auth import backends

from accounts.models import User


class _WithProfile:
    def get_user(self, user_id):
        try:  # get(), not first(): no ORDER BY to compile on every request
            user = User._default_manager.select_related("profile").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_WithProfile, backends.ModelBackend):
    pass


class AuthenticationBackend(_WithProfile, auth_backends.AuthenticationBackend):
    pass
