"""Checks for uploaded files, made before anything reaches the disk.

Images are opened with Pillow (a real image of an allowed format, within size and pixel limits), turned upright,
stripped of EXIF and every other metadata by re-encoding, scaled down if huge, and get a thumbnail. Documents
are checked by content, not by name.

Memory stays bounded whatever the size of a document or a deliverable: Django spools an upload larger than
FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file, the checks read only the bytes they look at (or read in chunks),
and what they return wraps that same file, which storage then copies in chunks (S3: a multipart upload). Only
images, limited to UPLOAD_IMAGE_MAX_BYTES, are read whole, to be re-encoded.
"""

import hashlib
import io
import logging
import os
import stat
import uuid
import zipfile
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import StorageUnavailable
from marketplace.l10n import format_file_size

logger = logging.getLogger(__name__)

ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
READ_CHUNK_BYTES = 1024 * 1024
PDF_TRAILER_BYTES = 2048  # "%%EOF" must be within the last 2 KiB


@dataclass
class CleanImage:
    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int


def _encode(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        picture.convert("RGB").save(buffer, "JPEG", quality=86, optimize=True, progressive=True)
    elif fmt == "WEBP":
        picture.save(buffer, "WEBP", quality=86)
    else:
        picture.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _check_size(upload, limit: int, message: str) -> None:
    """Refuse an upload over `limit` bytes; `message` names the limit as %(size)s ('10 MB', '۱۰ مگابایت')."""
    if upload.size > limit:
        raise ValidationError(message % {"size": format_file_size(limit)}, code="too_large")


def with_size_limit(message, setting: str):
    """A form's help text naming an upload limit, `message` % {"size": settings.<setting>}, written when the form
    is shown, in the reader's language and digits: the limit shown is always the one enforced."""
    return lazy(lambda: str(message) % {"size": format_file_size(getattr(settings, setting))}, str)()


def clean_image(upload) -> CleanImage:
    """Validate an uploaded image and return it re-encoded (no metadata) with a thumbnail.

    Raises ValidationError with a message for the user on anything that is not an acceptable image.
    """
    _check_size(upload, settings.UPLOAD_IMAGE_MAX_BYTES, _("The image is larger than %(size)s."))
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()  # catches truncated and corrupt files
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(_("This file is not an image we can read."), code="not_an_image") from error
    if fmt not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(_("Upload a JPEG, PNG or WebP image."), code="format")
    if width * height > settings.UPLOAD_IMAGE_MAX_PIXELS:
        raise ValidationError(_("The image has too many pixels."), code="too_many_pixels")
    if min(width, height) < 32:
        raise ValidationError(_("The image is too small."), code="too_small")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            picture = ImageOps.exif_transpose(picture)
            if picture.mode not in ("RGB", "RGBA", "L", "LA"):
                picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
            side = settings.UPLOAD_IMAGE_MAX_SIDE
            picture.thumbnail((side, side), Image.Resampling.LANCZOS)
            image_bytes = _encode(picture, fmt)
            thumb = picture.copy()
            thumb.thumbnail((settings.UPLOAD_THUMBNAIL_SIDE,) * 2, Image.Resampling.LANCZOS)
            thumb_bytes = _encode(thumb, fmt)
            size = picture.size
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(_("This file is not an image we can read."), code="not_an_image") from error
    stem = uuid.uuid4().hex
    extension = ALLOWED_IMAGE_FORMATS[fmt]
    return CleanImage(
        image=ContentFile(image_bytes, name=f"{stem}.{extension}"),
        thumbnail=ContentFile(thumb_bytes, name=f"{stem}-thumb.{extension}"),
        width=size[0],
        height=size[1],
    )


def _stored_as(upload, extension: str) -> File:
    """The upload itself, rewound, under a name of our own, for FieldFile.save to stream.

    It lives as long as the upload: Django deletes a spooled upload at the end of the request, so the service saves
    it before then. Wrapped in a plain File rather than handed over as is, so the client's file name and content type
    stay behind (S3 storage would keep that content type and serve it back).
    """
    upload.seek(0)
    return File(upload, name=f"{uuid.uuid4().hex}.{extension}")


def clean_pdf(upload) -> File:
    """A real PDF (by its header and trailer), within the size limit, under a name of our own."""
    _check_size(upload, settings.UPLOAD_DOCUMENT_MAX_BYTES, _("The file is larger than %(size)s."))
    upload.seek(0)
    header = upload.read(5)
    upload.seek(0, os.SEEK_END)
    upload.seek(max(upload.tell() - PDF_TRAILER_BYTES, 0))
    trailer = upload.read(PDF_TRAILER_BYTES)
    if header != b"%PDF-" or b"%%EOF" not in trailer:
        raise ValidationError(_("This file is not a PDF document."), code="not_a_pdf")
    return _stored_as(upload, "pdf")


def clean_attachment(upload) -> File:
    """A project attachment: size-limited, and not something a browser would run (HTML, SVG, scripts)."""
    _check_size(upload, settings.UPLOAD_DOCUMENT_MAX_BYTES, _("The file is larger than %(size)s."))
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in ATTACHMENT_EXTENSIONS:
        raise ValidationError(
            _("Allowed file types: %(types)s.") % {"types": ", ".join(sorted(ATTACHMENT_EXTENSIONS))}, code="type"
        )
    return _stored_as(upload, extension)


ATTACHMENT_EXTENSIONS = {"pdf", "png", "jpg", "jpeg", "webp", "zip", "txt", "docx", "xlsx", "pptx", "odt"}


def delete_file_on_commit(storage, name: str) -> None:
    """Remove a file once the transaction that stopped pointing at it has committed. If the store fails then,
    the failure is logged and the file left behind (a little space; every row is already right): `robust`, so
    it neither reaches the user's action, which is done, nor skips the other files' removal."""
    if name:
        transaction.on_commit(lambda: storage.delete(name), robust=True)


def atomic_with_file_cleanup(action):
    """Run `action(saved)` in a transaction; the caller appends each FieldFile it writes to `saved`.

    Files written before a failure would stay on disk after the rollback: they are removed.
    """
    saved: list = []
    try:
        with transaction.atomic():
            return action(saved)
    except Exception as error:
        for field_file in saved:
            try:
                field_file.storage.delete(field_file.name)
            except (OSError, BotoCoreError, ClientError):
                logger.exception("Could not remove %s after a failed action", field_file.name)
        if isinstance(error, OSError | BotoCoreError | ClientError):
            # The disk is full or the object store does not answer: the user hears it, nothing was saved.
            logger.exception("The file store refused an upload")
            raise StorageUnavailable(
                _("The file could not be stored right now. Nothing was saved; please try again in a few minutes.")
            ) from error
        raise


@dataclass
class ZipReport:
    content: File  # the upload itself, to be streamed to storage within the request
    sha256: str
    size: int
    entries: list  # [[name, uncompressed size], ...]


def inspect_zip(upload) -> ZipReport:
    """Accept a delivery only if it is really a zip whose entries are few and safe enough.

    Refuses: not a zip; too large a file; too many entries; too much uncompressed data or too high a
    compression ratio (zip bombs); absolute paths, `..` components, drive letters; symbolic links.
    """
    _check_size(upload, settings.DELIVERABLE_MAX_BYTES, _("The file is larger than %(size)s."))
    upload.seek(0)
    try:
        # On the file itself: zipfile reads the end record and the central directory, not the members.
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValidationError(_("This file is not a zip archive."), code="not_a_zip") from error
    if not infos:
        raise ValidationError(_("The zip archive is empty."), code="empty")
    if len(infos) > settings.ZIP_MAX_ENTRIES:
        raise ValidationError(_("The zip archive has too many files."), code="too_many_entries")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if total > settings.ZIP_MAX_UNCOMPRESSED_BYTES or total / packed > settings.ZIP_MAX_RATIO:
        raise ValidationError(_("The zip archive expands to too much data."), code="zip_bomb")
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise ValidationError(_("The zip archive contains an unsafe path: %(name)s") % {"name": name[:100]})
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValidationError(_("The zip archive contains a symbolic link: %(name)s") % {"name": name[:100]})
    entries = [[info.filename, info.file_size] for info in infos if not info.is_dir()]
    # The hash and the size describe the bytes storage will copy: the same file, read again from the start.
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks(READ_CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return ZipReport(content=_stored_as(upload, "zip"), sha256=digest.hexdigest(), size=size, entries=entries)
