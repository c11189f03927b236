import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import Profile, User
from accounts.tests.factories import PASSWORD, UserFactory
from notifications.models import OutgoingEmail


def _signup(client, language="en", **data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    payload = {"email": "new@example.com", "username": "newbie", "password1": PASSWORD, "password2": PASSWORD}
    payload.update(data)
    return client.post(reverse("account_signup"), payload)


def _confirmation_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)


@pytest.mark.django_db(transaction=True)
def test_signup_creates_user_profile_and_sends_verification_through_the_outbox(client):
    response = _signup(client, language="fa")

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.language == "fa"
    assert Profile.objects.get(user=user).display_name == "newbie"
    assert not EmailAddress.objects.get(user=user).verified
    queued = OutgoingEmail.objects.get()
    assert queued.to == ["new@example.com"]
    assert queued.status == OutgoingEmail.Status.SENT
    assert len(mail.outbox) == 1
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_login_is_refused_until_the_address_is_verified_then_allowed(client):
    _signup(client)
    link = _confirmation_link(mail.outbox[0])

    response = client.post(reverse("account_login"), {"login": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(email="new@example.com").verified

    response = client.post(reverse("account_login"), {"login": "NEW@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new@example.com").pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "taken@example.com"}, "email", "A user is already registered with this email address."),
        ({"email": "TAKEN@Example.com"}, "email", "A user is already registered with this email address."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"password1": "password", "password2": "password"}, "password1", "This password is too common."),
        ({"password1": "Ab1!", "password2": "Ab1!"}, "password1", "This password is too short."),
        ({"password2": "Different-pass-1"}, "password2", "You must type the same password each time."),
        ({"username": "taken"}, "username", "A user with that username already exists."),
        ({"username": "bad name!"}, "username", "Use 3 to 30 English letters"),
    ],
)
def test_bad_signup_says_what_is_wrong_and_makes_no_account(client, data, field, message):
    UserFactory(email="taken@example.com", username="taken")
    users_before = User.objects.count()

    response = _signup(client, **data)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert User.objects.count() == users_before
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db
def test_signup_errors_are_translated_in_persian(client):
    UserFactory(email="taken@example.com", username="taken")
    response = _signup(client, language="fa", email="not-an-address")
    assert "یک ایمیل آدرس معتبر وارد کنید" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="someone@example.com")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("account_login"), {"login": "someone@example.com", "password": "wrong-one"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_mail_goes_through_the_outbox(client, django_capture_on_commit_callbacks):
    UserFactory(email="forgot@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "forgot@example.com"})
    assert response.status_code == 302
    assert OutgoingEmail.objects.get().to == ["forgot@example.com"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


@pytest.mark.django_db
def test_password_length_rule_speaks_persian_digits_on_persian_pages(client):
    response = _signup(client, language="fa", password1="Ab1!", password2="Ab1!")
    html = response.content.decode()
    assert "حداقل از ۸ حرف" in html
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_password_reset_by_mail_sets_a_new_password(client):
    UserFactory(email="forgot@example.com")
    client.post(reverse("account_reset_password"), {"email": "forgot@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)  # allauth moves the key into the session, then shows the form
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0], {"password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"}
    )
    assert response.status_code == 302
    assert User.objects.get(email="forgot@example.com").check_password("Brand-new-pass-77")


@pytest.mark.django_db
def test_password_change_needs_the_old_password(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("account_change_password")
    wrong = client.post(
        url, {"oldpassword": "not-it", "password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"}
    )
    assert wrong.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    right = client.post(
        url, {"oldpassword": PASSWORD, "password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"}
    )
    assert right.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-pass-77")
