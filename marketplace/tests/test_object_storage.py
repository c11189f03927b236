"""Uploaded files on an S3-protocol server (moto's standalone server on 127.0.0.1, real HTTP): what is stored,
who may get it back, and that a private file reaches a browser only through a short-lived presigned URL."""

import hashlib
import os
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from accounts.services import profile_update_basic
from accounts.tests.factories import UserFactory
from accounts.tests.images import png
from marketplace.servers import free_port
from marketplace.uploads import clean_image
from workspace.models import Deliverable
from workspace.services import delivery, funding
from workspace.tests.factories import contract_in, zip_file

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


# A 1,000,000-toman proposal chosen on "Rug shop", the employer with 2,000,000 in the wallet.
RUG_SHOP = {"title": "Rug shop", "amount": "1000000", "wallet": "2000000"}


def _fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 — a URL of our own local server
        return answer.read(), answer.headers


def test_a_deliverable_goes_to_the_bucket_and_comes_back_through_a_presigned_url(s3_storage):
    server, bucket = s3_storage
    deal = contract_in("in_progress", **RUG_SHOP)  # accepted: the freelancer may upload
    contract, milestone, employer, freelancer = deal.contract, deal.milestone, deal.employer, deal.freelancer
    upload = zip_file(files={"index.html": "<h1>Rug shop</h1>", "img/logo.txt": os.urandom(3000).hex()})
    sent = upload.read()
    upload.seek(0)

    response = _client(freelancer).post(reverse("workspace_upload", args=[contract.pk]), {"file": upload})
    assert response.status_code == 302
    deliverable = Deliverable.objects.get(milestone=milestone)
    # Inspected and hashed as on a disk: the entries listed, the SHA-256 of the bytes sent.
    assert deliverable.sha256 == hashlib.sha256(sent).hexdigest()
    assert sorted(name for name, _size in deliverable.entries) == ["img/logo.txt", "index.html"]
    assert server.keys(bucket) == [f"private/{deliverable.file.name}"]

    # Not fully funded yet: no link at all.
    url = reverse("deliverable_download", args=[contract.pk, deliverable.pk])
    assert _client(employer).get(url).status_code == 403
    delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)
    funding.milestone_fund_next(milestone=milestone, by=employer)

    response = _client(employer).get(url)
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    link = urlparse(response["Location"])
    query = parse_qs(link.query)
    assert link.netloc == urlparse(server.url).netloc
    assert query["X-Amz-Expires"] == [str(settings.PRIVATE_FILE_URL_SECONDS)]
    assert "X-Amz-Signature" in query
    body, headers = _fetch(response["Location"])
    assert hashlib.sha256(body).hexdigest() == deliverable.sha256
    # The same object without the signature is refused: private files are never public.
    with pytest.raises(urllib.error.HTTPError) as refused:
        _fetch(f"{server.url}/{bucket}/private/{deliverable.file.name}")
    assert refused.value.code == 403
    assert headers["Content-Disposition"].startswith("attachment;")
    assert f"{contract.project_id}-v1.zip" in headers["Content-Disposition"]


def test_others_get_no_link_to_a_private_file(s3_storage):
    deal = contract_in("review", **RUG_SHOP)  # delivered and paid in full: the parties may download
    deliverable = Deliverable.objects.get(milestone=deal.milestone)
    url = reverse("deliverable_download", args=[deal.contract.pk, deliverable.pk])

    stranger = _client(UserFactory()).get(url)
    assert stranger.status_code in (403, 404)
    assert "Location" not in stranger
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_replaced_avatar_leaves_the_bucket_and_the_new_one_is_public(s3_storage, django_capture_on_commit_callbacks):
    server, bucket = s3_storage
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        profile_update_basic(user=user, display_name="Mina", headline="", bio="", city="", avatar=clean_image(png()))
    first = Profile.objects.get(user=user)
    first_keys = server.keys(bucket)
    assert first_keys == sorted([f"public/{first.avatar.name}", f"public/{first.avatar_thumbnail.name}"])

    with django_capture_on_commit_callbacks(execute=True):
        profile_update_basic(
            user=user, display_name="Mina", headline="", bio="", city="", avatar=clean_image(png(size=(200, 100)))
        )
    second = Profile.objects.get(user=user)
    assert server.keys(bucket) == sorted([f"public/{second.avatar.name}", f"public/{second.avatar_thumbnail.name}"])
    # A public file has a plain URL (no signature) that a browser can load and cache.
    assert "X-Amz-Signature" not in second.avatar.url
    body, _headers = _fetch(second.avatar.url)
    assert body.startswith(b"\x89PNG")


def test_when_the_object_store_is_down_an_upload_is_refused_and_nothing_is_half_written(settings, s3_server):
    settings.STORAGES = s3_server.storages_setting("hamkar-down")
    for alias in ("default", "private"):
        settings.STORAGES[alias]["OPTIONS"] = {
            **settings.STORAGES[alias]["OPTIONS"],
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
        }
    settings.FILE_STORAGE = "s3"
    deal = contract_in("in_progress", **RUG_SHOP)

    response = _client(deal.freelancer).post(
        reverse("workspace_upload", args=[deal.contract.pk]), {"file": zip_file()}, follow=True
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "The file could not be stored right now" in text
    assert not Deliverable.objects.filter(milestone=deal.milestone).exists()


def test_a_resume_on_object_storage_is_a_presigned_pdf(s3_storage, django_capture_on_commit_callbacks):
    from accounts.services import profile_set_resume

    user = UserFactory(username="reza")
    pdf = SimpleUploadedFile("cv.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    from marketplace.uploads import clean_pdf

    profile_set_resume(user=user, resume=clean_pdf(pdf))
    response = Client().get(reverse("profile_resume", args=["reza"]))
    assert response.status_code == 302
    body, headers = _fetch(response["Location"])
    assert body.startswith(b"%PDF-1.4")
    assert headers["Content-Type"] == "application/pdf"


def test_when_removing_the_old_file_fails_the_new_one_stays_and_the_action_stands(
    s3_storage, django_capture_on_commit_callbacks, monkeypatch
):
    """The old résumé's removal runs after the commit; if the store fails then, the saved row keeps its new file
    and the user is not told that nothing was saved."""
    from botocore.exceptions import EndpointConnectionError
    from django.core.files.storage import storages

    from accounts.services import profile_set_resume
    from marketplace.uploads import clean_pdf

    server, bucket = s3_storage
    user = UserFactory(username="reza")

    def pdf():
        return clean_pdf(SimpleUploadedFile("cv.pdf", b"%PDF-1.4\n" + os.urandom(64) + b"\n%%EOF\n"))

    with django_capture_on_commit_callbacks(execute=True):
        profile_set_resume(user=user, resume=pdf())
    first = Profile.objects.get(user=user).resume.name

    def unreachable(name):  # the object store, down at the moment of the removal
        raise EndpointConnectionError(endpoint_url=server.url)

    monkeypatch.setattr(storages["private"], "delete", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        profile = profile_set_resume(user=user, resume=pdf())
    assert profile.resume.name != first
    assert Profile.objects.get(user=user).resume.name == profile.resume.name
    assert sorted(server.keys(bucket)) == sorted([f"private/{first}", f"private/{profile.resume.name}"])
