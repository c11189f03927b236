"""Actions that change accounts. Views, the allauth adapter, the admin and seed_demo all go through these."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from accounts.models import Profile, User


def profile_ensure(*, user: User) -> Profile:
    """Every user has exactly one profile; this makes it if it is missing."""
    profile, _ = Profile.objects.get_or_create(user=user, defaults={"display_name": user.username})
    return profile


@transaction.atomic
def user_create(
    *,
    email: str,
    username: str,
    password: str,
    display_name: str = "",
    bio: str = "",
    language: str = "",
    is_staff: bool = False,
    email_verified: bool = False,
) -> User:
    """Create an account with its profile and its (primary) e-mail address record."""
    email = email.strip().lower()
    user = User(email=email, username=username, language=language, is_staff=is_staff, is_superuser=is_staff)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    Profile.objects.create(user=user, display_name=display_name or username, bio=bio)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
