import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Profile, User
from accounts.tests.factories import UserFactory
from marketplace.management.commands.seed_demo import DEMO_PROJECTS
from projects.models import Project


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_credentials(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    count = User.objects.count()
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert count == 6
    assert User.objects.count() == count
    assert Profile.objects.count() == count
    assert "admin@example.com" in first and "demo-pass-1234" in first
    assert "(0 accounts and 0 projects created)" in second
    assert Project.objects.filter(title__in=[row[1] for row in DEMO_PROJECTS]).count() == len(DEMO_PROJECTS)
    from workspace.models import Milestone

    statuses = set(Milestone.objects.values_list("status", flat=True))
    assert {"pending", "funded", "delivered", "disputed", "completed", "cancelled"} <= statuses
    staff = User.objects.get(email="admin@example.com")
    assert staff.is_staff and staff.is_superuser
    call_command("check_ledger")  # the demo balances went through the ledger: the books are clean
    from notifications.models import Notification
    from reviews.models import Review

    assert Review.objects.filter(published_at__isnull=False).count() == 2  # both sides of the completed contract
    alex = set(Notification.objects.filter(recipient__username="alex").values_list("kind", flat=True))
    assert {"proposal_selected", "upfront_paid", "remainder_paid", "released", "review_published"} <= alex


@pytest.mark.django_db
def test_demo_accounts_can_log_in(client):
    call_command("seed_demo")
    response = client.post(reverse("account_login"), {"login": "sara@example.com", "password": "demo-pass-1234"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_admin_sends_anonymous_visitors_to_the_site_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_admin_refuses_a_signed_in_non_staff_user_with_the_403_page(client):
    client.force_login(UserFactory())
    client.cookies["django_language"] = "en"
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "You do not have permission to do this." in response.content.decode()


@pytest.mark.django_db
def test_staff_reach_the_admin_and_adding_a_user_there_gives_a_profile(client):
    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "added@example.com",
            "username": "added",
            "password1": "Sturdy-pass-2026",
            "password2": "Sturdy-pass-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Profile.objects.filter(user__email="added@example.com").exists()
    user = User.objects.get(email="added@example.com")
    assert client.get(reverse("admin:accounts_user_change", args=[user.pk])).status_code == 200


@pytest.mark.django_db
def test_staff_manage_the_skill_catalogue_in_the_admin(client):
    from projects.models import Category, Skill

    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    category = Category.objects.get(slug="web-development")
    for url in (
        "admin:projects_category_changelist",
        "admin:projects_skill_changelist",
        "admin:projects_project_changelist",
    ):
        assert client.get(reverse(url)).status_code == 200
    response = client.post(
        reverse("admin:projects_skill_add"),
        {"slug": "htmx", "name_en": "htmx", "name_fa": "اچ‌تی‌ام‌اکس", "category": category.pk},
    )
    assert response.status_code == 302
    assert Skill.objects.get(slug="htmx").category == category


@pytest.mark.django_db
def test_staff_made_by_createsuperuser_sign_in_and_open_the_admin_at_once(client, monkeypatch, settings):
    """E-mail verification is mandatory (as in production): the address typed to createsuperuser counts as
    verified, so the new staff member signs in through the site's form and opens /admin/ without a mail round."""
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-staff-pass-9876")
    call_command("createsuperuser", interactive=False, email="Boss@Example.com", username="boss", verbosity=0)
    response = client.post(
        reverse("account_login"), {"login": "boss@example.com", "password": "a-long-staff-pass-9876"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session, response.get("Location")
    assert client.get("/admin/").status_code == 200
