import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path, reverse

from accounts.services import user_create


def _get(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "direction", "menu"),
    [("en", 'dir="ltr"', "Active projects"), ("fa", 'dir="rtl"', "پروژه‌های فعال")],
)
def test_home_page_in_both_languages(client, language, direction, menu):
    response = _get(client, "/", language)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'lang="{language}"' in html
    assert direction in html
    assert menu in html


@pytest.mark.django_db
def test_persian_home_page_shows_persian_digits(client):
    html = _get(client, "/", "fa").content.decode()
    assert "۵۰٪" in html  # the upfront share
    assert "۱۰٪" in html  # the commission


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("en", "Page not found"), ("fa", "صفحه پیدا نشد")])
def test_unknown_url_gets_the_translated_404_page(client, language, title):
    response = _get(client, "/no-such-page/", language)
    assert response.status_code == 404
    assert title in response.content.decode()


def _boom(request):
    raise RuntimeError("deliberate failure")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("language", "title"), [("en", "Something went wrong"), ("fa", "مشکلی پیش آمد")])
def test_a_crash_gets_the_translated_500_page(client, language, title):
    client.raise_request_exception = False
    response = _get(client, "/boom/", language)
    assert response.status_code == 500
    html = response.content.decode()
    assert title in html
    assert f'lang="{language}"' in html


@pytest.mark.django_db
def test_member_pages_send_anonymous_visitors_to_log_in(client):
    for name in ("project_create", "my_activities", "notification_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_language_switch_remembers_the_choice_in_a_cookie(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/projects/"})
    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert 'lang="en"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_language_switch_saves_the_choice_on_the_account_for_other_devices(client):
    user = user_create(email="u@example.com", username="u1", password="x-Strong-pass-1", email_verified=True)
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"

    other_device = type(client)()
    other_device.force_login(user)
    assert 'lang="en"' in other_device.get("/").content.decode()


@pytest.mark.django_db
def test_language_switch_refuses_an_unsafe_redirect(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_language_switch_ignores_an_unknown_language(client):
    user = user_create(email="u@example.com", username="u1", password="x-Strong-pass-1", email_verified=True)
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.django_db
def test_language_switch_needs_post(client):
    assert client.get(reverse("set_language")).status_code == 405


@pytest.mark.django_db
def test_forms_require_a_csrf_token():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    response = csrf_client.post(reverse("set_language"), {"language": "en"})
    assert response.status_code == 403
    assert "مهلت این فرم تمام شده است" in response.content.decode()


@pytest.mark.django_db
def test_home_page_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    user = user_create(email="u@example.com", username="u1", password="x-Strong-pass-1", email_verified=True)
    client.force_login(user)
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200
