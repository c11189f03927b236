import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Profile, User
from accounts.services import profile_ensure, user_create, user_set_language


@pytest.mark.django_db
def test_user_create_makes_the_user_its_profile_and_its_address():
    user = user_create(
        email=" Mixed@Example.COM ", username="mixed", password="Sturdy-pass-2026", display_name="Mixed Case"
    )
    assert user.email == "mixed@example.com"
    assert user.check_password("Sturdy-pass-2026")
    assert user.profile.display_name == "Mixed Case"
    assert EmailAddress.objects.get(user=user).primary


@pytest.mark.django_db
def test_user_create_refuses_an_address_that_differs_only_in_case():
    user_create(email="one@example.com", username="one", password="Sturdy-pass-2026")
    with pytest.raises(ValidationError):
        user_create(email="ONE@example.com", username="two", password="Sturdy-pass-2026")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_database_refuses_addresses_that_differ_only_in_case():
    User.objects.create(email="one@example.com", username="one")
    with pytest.raises(IntegrityError):
        User.objects.create(email="One@Example.com", username="two")


@pytest.mark.django_db
def test_profile_ensure_makes_one_profile_and_keeps_it():
    user = User.objects.create_superuser(email="root@example.com", username="root", password="Sturdy-pass-2026")
    assert not Profile.objects.filter(user=user).exists()
    first = profile_ensure(user=user)
    assert profile_ensure(user=user) == first
    assert Profile.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_user_set_language_refuses_an_unknown_language():
    user = user_create(email="one@example.com", username="one", password="Sturdy-pass-2026")
    with pytest.raises(ValueError):
        user_set_language(user=user, language="xx")
    user_set_language(user=user, language="en")
    user.refresh_from_db()
    assert user.language == "en"


@pytest.mark.django_db
def test_display_name_falls_back_to_the_username():
    user = User.objects.create_user(email="bare@example.com", username="bare", password="Sturdy-pass-2026")
    assert user.display_name == "bare"
