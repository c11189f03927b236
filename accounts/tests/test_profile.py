from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Education, PortfolioImage, PortfolioItem, Profile, WorkExperience
from accounts.tests.factories import UserFactory
from accounts.tests.images import fake_image, gif, jpeg_with_exif, png
from accounts.validators import iban_valid, luhn_valid
from marketplace.testing import files_under
from projects.models import Skill

VALID_CARD = "6037997599999993"
VALID_SHEBA = "IR820540102680020817909002"


@pytest.fixture
def member(client):
    user = UserFactory(username="reza")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


def _edit(client, tab, form, **data):
    return client.post(reverse("profile_edit_tab", args=[tab]), {"form": form, **data})


def _basic(**extra):
    return {"display_name": "Reza Karimi", "headline": "Django developer", "city": "Tehran", "bio": "Hello", **extra}


@pytest.mark.django_db
def test_avatar_is_re_encoded_without_exif_turned_upright_and_thumbnailed(client, member, media_dirs):
    response = _edit(client, "basic", "basic", **_basic(avatar=jpeg_with_exif(size=(640, 480))))
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.display_name == "Reza Karimi"
    with Image.open(profile.avatar.path) as stored:
        assert stored.size == (480, 640)  # the EXIF orientation was applied, then dropped
        assert not stored.getexif()
        assert b"SecretCameraMaker" not in Path(profile.avatar.path).read_bytes()
    with Image.open(profile.avatar_thumbnail.path) as thumb:
        assert max(thumb.size) <= settings.UPLOAD_THUMBNAIL_SIDE
    assert len(files_under(media_dirs / "media")) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (fake_image(), "This file is not an image we can read."),
        (gif(), "Upload a JPEG, PNG or WebP image."),
        (png(size=(10, 10)), "The image is too small."),
    ],
)
def test_a_bad_avatar_is_refused_and_nothing_reaches_the_disk(client, member, media_dirs, upload, message):
    response = _edit(client, "basic", "basic", **_basic(display_name="Changed", avatar=upload))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Profile.objects.get(user=member).display_name != "Changed"
    assert files_under(media_dirs) == []


@pytest.mark.django_db
def test_an_oversized_or_overlarge_image_is_refused(client, member, media_dirs, settings):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 100 * 100
    response = _edit(client, "basic", "basic", **_basic(avatar=png(size=(200, 200))))
    assert "too many pixels" in response.content.decode()
    settings.UPLOAD_IMAGE_MAX_BYTES = 100
    response = _edit(client, "basic", "basic", **_basic(avatar=png(size=(60, 60))))
    assert "larger than" in response.content.decode()
    assert files_under(media_dirs) == []


@pytest.mark.django_db
def test_a_new_avatar_replaces_the_old_file(client, member, media_dirs, django_capture_on_commit_callbacks):
    _edit(client, "basic", "basic", **_basic(avatar=png()))
    with django_capture_on_commit_callbacks(execute=True):
        _edit(client, "basic", "basic", **_basic(avatar=png(size=(400, 300))))
    assert len(files_under(media_dirs / "media")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        _edit(client, "basic", "basic", **_basic(remove_avatar="on"))
    assert files_under(media_dirs) == []
    assert not Profile.objects.get(user=member).avatar


@pytest.mark.django_db
def test_ticked_skills_are_saved_and_shown_on_the_public_profile(client, member):
    chosen = list(Skill.objects.filter(slug__in=["django", "python"]))
    assert _edit(client, "skills", "skills", skills=[s.pk for s in chosen]).status_code == 302
    html = client.get(reverse("profile_public", args=["reza"])).content.decode()
    assert "Django" in html and "Python" in html


@pytest.mark.django_db
def test_more_than_twenty_skills_are_refused(client, member):
    response = _edit(client, "skills", "skills", skills=list(Skill.objects.values_list("pk", flat=True)[:21]))
    assert "Choose at most 20 skills." in response.content.decode()
    assert not member.profile.skills.exists()


@pytest.mark.django_db
def test_resume_pdf_is_checked_by_content(client, member, media_dirs):
    fake = SimpleUploadedFile("cv.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = _edit(client, "resume", "resume_file", resume=fake)
    assert "This file is not a PDF document." in response.content.decode()
    assert files_under(media_dirs) == []

    content = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
    real = SimpleUploadedFile("cv.pdf", content, content_type="application/pdf")
    assert _edit(client, "resume", "resume_file", resume=real).status_code == 302
    assert len(files_under(media_dirs / "private")) == 1
    assert files_under(media_dirs / "media") == []
    download = client.get(reverse("profile_resume", args=["reza"]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == content


@pytest.mark.django_db
def test_work_experience_and_education_entries(client, member):
    response = _edit(
        client,
        "resume",
        "experience",
        **{"experience-title": "Backend developer", "experience-organization": "Digikala",
           "experience-start_year": "۱۳۹۸", "experience-end_year": "", "experience-description": "APIs"},
    )  # fmt: skip
    assert response.status_code == 302
    assert WorkExperience.objects.get().start_year == 2019  # typed as the Jalali year 1398
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    assert "۱۳۹۸ – تاکنون" in client.get(reverse("profile_public", args=["reza"])).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = _edit(
        client,
        "resume",
        "education",
        **{"education-degree": "BSc", "education-field": "Computer engineering", "education-institution": "Sharif",
           "education-start_year": "2015", "education-end_year": "2012"},
    )  # fmt: skip
    assert "cannot be before the start year" in response.content.decode()
    assert not Education.objects.exists()


@pytest.mark.django_db
def test_portfolio_item_with_images_shows_on_the_public_profile(client, member, media_dirs):
    response = _edit(
        client,
        "portfolio",
        "portfolio",
        title="Rug shop",
        description="An online shop",
        link="rugs.example",
        images=[jpeg_with_exif(), png()],
    )
    assert response.status_code == 302
    item = PortfolioItem.objects.get()
    assert item.link == "https://rugs.example"
    assert item.images.count() == 2
    assert len(files_under(media_dirs / "media")) == 4  # two images and two thumbnails
    html = client.get(reverse("profile_public", args=["reza"])).content.decode()
    assert "Rug shop" in html
    assert item.images.first().thumbnail.url in html


@pytest.mark.django_db
def test_more_than_eight_images_or_a_fake_one_saves_nothing(client, member, media_dirs):
    response = _edit(client, "portfolio", "portfolio", title="Too many", images=[png() for _ in range(9)])
    assert "Choose at most" in response.content.decode()
    response = _edit(client, "portfolio", "portfolio", title="Fake", images=[png(), fake_image()])
    assert "not an image" in response.content.decode()
    assert not PortfolioItem.objects.exists()
    assert files_under(media_dirs) == []


def test_luhn_and_iban_checks():
    assert luhn_valid("4111111111111111") and luhn_valid(VALID_CARD)
    assert not luhn_valid("6037997599999990")
    assert iban_valid(VALID_SHEBA) and iban_valid("GB82WEST12345698765432")
    assert not iban_valid("IR820540102680020817909003")


@pytest.mark.django_db
def test_bank_details_accept_persian_digits_and_spaces(client, member):
    response = _edit(
        client, "bank", "bank", card_number="۶۰۳۷-۹۹۷۵ ۹۹۹۹ ۹۹۹۳", sheba="ir82 0540 1026 8002 0817 9090 02",
        account_holder="Reza Karimi",
    )  # fmt: skip
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert (profile.bank_card_number, profile.bank_sheba) == (VALID_CARD, VALID_SHEBA)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"card_number": "6037997599999990"}, "valid 16-digit bank card number"),
        ({"card_number": "1234"}, "valid 16-digit bank card number"),
        ({"sheba": "IR820540102680020817909003"}, "valid Sheba number"),
        ({"sheba": "GB82WEST12345698765432"}, "valid Sheba number"),
        ({"card_number": VALID_CARD, "account_holder": ""}, "name of the account holder"),
    ],
)
def test_wrong_bank_details_are_refused_and_nothing_is_saved(client, member, data, message):
    response = _edit(client, "bank", "bank", **{"account_holder": "Reza", **data})
    assert message in response.content.decode()
    profile = Profile.objects.get(user=member)
    assert profile.bank_card_number == profile.bank_sheba == ""


@pytest.mark.django_db
def test_bank_details_are_shown_to_nobody_but_the_owner(client, member):
    Profile.objects.filter(user=member).update(bank_card_number=VALID_CARD, bank_sheba=VALID_SHEBA)
    assert VALID_CARD in client.get(reverse("profile_edit_tab", args=["bank"])).content.decode()
    for viewer in (None, UserFactory()):
        other = type(client)()
        if viewer:
            other.force_login(viewer)
        html = other.get(reverse("profile_public", args=["reza"])).content.decode()
        assert VALID_CARD not in html and VALID_SHEBA not in html
    assert VALID_CARD not in client.get(reverse("profile_public", args=["reza"])).content.decode()


@pytest.mark.django_db
def test_only_the_owner_deletes_resume_and_portfolio_entries(client, member):
    stranger = UserFactory()
    entry = WorkExperience.objects.create(profile=stranger.profile, title="X", organization="Y", start_year=2020)
    item = PortfolioItem.objects.create(profile=stranger.profile, title="Theirs")
    assert client.post(reverse("experience_delete", args=[entry.pk])).status_code == 403
    assert client.post(reverse("portfolio_delete", args=[item.pk])).status_code == 403
    assert WorkExperience.objects.filter(pk=entry.pk).exists() and PortfolioItem.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
def test_profile_editing_needs_login_and_a_known_form(client):
    assert client.get(reverse("profile_edit")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("profile_edit_tab", args=["nope"])).status_code == 404
    assert client.post(reverse("profile_edit_tab", args=["basic"]), {"form": "nope"}).status_code == 404


@pytest.mark.django_db
def test_unknown_username_is_a_404(client):
    assert client.get(reverse("profile_public", args=["nobody"])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 200])
def test_public_profile_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count, member):
    profile = member.profile
    profile.skills.set(Skill.objects.all()[:count])
    for number in range(count):
        item = PortfolioItem.objects.create(profile=profile, title=f"Item {number}")
        PortfolioImage.objects.bulk_create(
            [PortfolioImage(item=item, image="p/x.png", thumbnail="p/x-t.png", width=800, height=600)]
        )
        WorkExperience.objects.create(profile=profile, title="Dev", organization=f"Org {number}", start_year=2020)
    with django_assert_max_num_queries(15):  # the feedback of the member as a freelancer and as an employer
        assert client.get(reverse("profile_public", args=["reza"])).status_code == 200
