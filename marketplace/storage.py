"""Where uploaded files live, and how a private one reaches the browser after a view's permission check.

Two storages (settings.STORAGES): "default" for public files (avatars, portfolio images) and "private" for files
only a view may hand out (résumés, attachments, deliverables, dispute files). On one machine both are folders;
with `S3_BUCKET` set both are prefixes of one S3-compatible bucket: public files under `public/` (the bucket
policy, or a CDN at `S3_PUBLIC_URL`, lets browsers read that prefix), private files under `private/`, which only
short-lived presigned URLs open.
"""

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.functional import LazyObject, cached_property, empty
from storages.backends.s3 import S3Storage


class PrivateFileSystemStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, which no URL serves: views hand them out after a permission check.

    Like FileSystemStorage with MEDIA_ROOT, it follows the setting when it changes (tests use a temporary one).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("base_url", "/private-not-served/")
        super().__init__(**kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


class PublicS3Storage(S3Storage):
    """Avatars and portfolio images: plain URLs (no signature), so pages and browsers can cache them."""

    location = "public"
    querystring_auth = False
    file_overwrite = False


class PrivateS3Storage(S3Storage):
    """Private files: every URL is presigned and expires after PRIVATE_FILE_URL_SECONDS."""

    location = "private"
    querystring_auth = True
    file_overwrite = False
    custom_domain = None  # a CDN in front of the public prefix must never serve these

    def get_default_settings(self):
        defaults = super().get_default_settings()
        defaults["querystring_expire"] = settings.PRIVATE_FILE_URL_SECONDS
        return defaults


class _PrivateStorage(LazyObject):
    """settings.STORAGES["private"], looked up when first used, like Django's default_storage; so a model field
    follows the setting (tests switch it to object storage and back)."""

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs) -> None:
    if setting == "STORAGES":
        _private._wrapped = empty


def private_storage():
    """For FileField(storage=...): the 'private' storage of settings.STORAGES."""
    return _private


def private_file_response(field_file, *, filename: str, content_type: str = "application/octet-stream"):
    """Hand a private file to a browser whose right to it the view has just checked.

    On object storage: a redirect to a presigned URL that expires in minutes and makes the browser save the file
    under `filename`. Behind nginx on one machine (PRIVATE_FILES_X_ACCEL_PREFIX): nginx sends the bytes from an
    `internal` location. Otherwise (development) Django streams the file.
    """
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    storage = field_file.storage
    if isinstance(storage, S3Storage):
        url = storage.url(  # expires after PRIVATE_FILE_URL_SECONDS (PrivateS3Storage)
            field_file.name,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
        )
        response = HttpResponseRedirect(url)
    elif settings.PRIVATE_FILES_X_ACCEL_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{settings.PRIVATE_FILES_X_ACCEL_PREFIX}{quote(field_file.name)}"
        response["Content-Disposition"] = disposition
    else:
        response = FileResponse(field_file.open("rb"), as_attachment=True, filename=filename)
        response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
