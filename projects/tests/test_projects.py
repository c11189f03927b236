import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import files_under
from projects.models import Category, Project, Skill
from projects.tests.factories import make_project, project_form_data


@pytest.fixture
def employer(client):
    user = UserFactory()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


@pytest.mark.django_db
def test_employer_publishes_a_project_with_persian_digits_in_the_budget(client, employer):
    response = client.post(
        reverse("project_create"), project_form_data(budget_min="۱۵٬۰۰۰٬۰۰۰", budget_max="٢٥٬٠٠٠٬٠٠٠")
    )
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("project_detail", args=[project.pk])
    assert project.owner == employer
    assert project.status == Project.Status.OPEN
    assert project.published_at is not None
    assert (project.budget_min, project.budget_max) == (15_000_000, 25_000_000)
    assert project.skills.count() == 3
    assert "online shop" in project.search_document


@pytest.mark.django_db
def test_a_draft_is_saved_unpublished_and_hidden_from_others(client, employer):
    client.post(reverse("project_create"), project_form_data(action="draft"))
    project = Project.objects.get()
    assert project.status == Project.Status.DRAFT
    assert client.get(reverse("project_detail", args=[project.pk])).status_code == 200

    stranger = type(client)()
    stranger.force_login(UserFactory())
    assert stranger.get(reverse("project_detail", args=[project.pk])).status_code == 404
    assert project.title not in stranger.get(reverse("project_list")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"description": "too short"}, "description", "at least 20 characters"),
        ({"budget_min": "30000000", "budget_max": "1000000"}, "budget_max", "cannot be less than the minimum"),
        ({"budget_min": "-5"}, "budget_min", "greater than or equal to 1"),
        ({"budget_min": "abc"}, "budget_min", "Enter a number."),
        ({"skills": []}, "skills", "This field is required."),
        ({"duration_days": ""}, "duration_days", "Give a deadline or a duration"),
        ({"duration_days": "400"}, "duration_days", "less than or equal to 365"),
        ({"deadline": "1400/01/01", "duration_days": ""}, "deadline", "must be in the future"),
        ({"deadline": "1405/13/40", "duration_days": ""}, "deadline", "Enter a valid date"),
        ({"category": "999999"}, "category", "Select a valid choice."),
        ({"kind": "weird"}, "kind", "Select a valid choice."),
    ],
)
def test_bad_project_input_says_what_is_wrong_and_saves_nothing(client, employer, overrides, field, message):
    response = client.post(reverse("project_create"), project_form_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_more_than_ten_skills_are_refused(client, employer):
    eleven = list(Skill.objects.values_list("pk", flat=True)[:11])
    response = client.post(reverse("project_create"), project_form_data(skills=eleven))
    assert response.context["form"].errors["skills"] == ["Choose at most 10 skills."]
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_a_jalali_deadline_is_stored_as_its_gregorian_date(client, employer):
    client.post(reverse("project_create"), project_form_data(deadline="۱۴۱۰/۰۱/۰۱", duration_days=""))
    assert str(Project.objects.get().deadline) == "2031-03-21"


@pytest.mark.django_db
def test_attachments_are_stored_privately_and_served_to_members_only(client, employer, media_dirs):
    pdf = SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n...\n%%EOF\n", content_type="application/pdf")
    client.post(reverse("project_create"), {**project_form_data(), "attachments": [pdf]})
    project = Project.objects.get()
    attachment = project.attachments.get()
    assert attachment.name == "brief.pdf"
    assert files_under(media_dirs / "private") == [attachment.file.name]
    assert files_under(media_dirs / "media") == []

    url = reverse("project_attachment", args=[project.pk, attachment.pk])
    assert b"".join(client.get(url).streaming_content).startswith(b"%PDF-1.4")
    anonymous = type(client)()
    assert anonymous.get(url).status_code == 302


@pytest.mark.django_db
def test_a_forbidden_attachment_type_is_refused_and_nothing_is_saved(client, employer, media_dirs):
    page = SimpleUploadedFile("evil.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.post(reverse("project_create"), {**project_form_data(), "attachments": [page]})
    assert response.status_code == 200
    assert "Allowed file types" in response.content.decode()
    assert not Project.objects.exists()
    assert files_under(media_dirs) == []


@pytest.mark.django_db
def test_only_the_owner_edits_closes_or_cancels(client, employer):
    project = make_project()
    for response in (
        client.get(reverse("project_edit", args=[project.pk])),
        client.post(reverse("project_edit", args=[project.pk]), project_form_data()),
        client.post(reverse("project_status", args=[project.pk]), {"action": "cancel"}),
    ):
        assert response.status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.OPEN
    assert project.title == "Build an online shop"


@pytest.mark.django_db
def test_owner_edits_then_closes_reopens_and_cancels(client, employer):
    project = make_project(owner=employer)
    response = client.post(reverse("project_edit", args=[project.pk]), project_form_data(title="A better title here"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "A better title here"
    assert "better title" in project.search_document

    for action, status in (("close", "closed"), ("reopen", "open"), ("cancel", "cancelled")):
        client.post(reverse("project_status", args=[project.pk]), {"action": action})
        project.refresh_from_db()
        assert project.status == status

    response = client.post(reverse("project_status", args=[project.pk]), {"action": "reopen"}, follow=True)
    assert "cannot become" in response.content.decode()
    project.refresh_from_db()
    assert project.status == Project.Status.CANCELLED
    assert client.get(reverse("project_edit", args=[project.pk])).status_code == 302


@pytest.mark.django_db
def test_description_markdown_is_rendered_and_sanitised(client, employer):
    project = make_project(
        owner=employer,
        description="**bold** text <script>alert(1)</script> [link](javascript:alert(1)) [ok](https://example.com)",
    )
    html = client.get(reverse("project_detail", args=[project.pk])).content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "javascript:alert" not in html
    assert 'href="https://example.com"' in html


@pytest.mark.django_db
def test_my_activities_lists_the_employers_projects(client, employer):
    mine = make_project(owner=employer, title="My own project")
    make_project(title="Somebody else's project")
    html = client.get(reverse("my_activities")).content.decode()
    assert mine.title in html
    assert "Somebody else" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 40])
def test_my_activities_runs_a_bounded_number_of_queries(client, employer, django_assert_max_num_queries, count):
    web = Category.objects.get(slug="web-development")
    for n in range(count):
        make_project(owner=employer, title=f"Project number {n}", skills=list(web.skills.all()[:3]))
    client.get(reverse("home"))
    with django_assert_max_num_queries(6):
        html = client.get(reverse("my_activities")).content.decode()
    assert html.count("Project number") == count


@pytest.mark.django_db
def test_a_freelancer_sees_the_call_to_action_and_a_visitor_the_login(client, employer):
    project = make_project()
    assert 'data-testid="send-proposal"' in client.get(reverse("project_detail", args=[project.pk])).content.decode()
    visitor = type(client)()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Log in to send a proposal" in visitor.get(reverse("project_detail", args=[project.pk])).content.decode()
