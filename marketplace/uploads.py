"""Checks for uploaded files, made before anything reaches the disk.

Images are opened with Pillow (a real image of an allowed format, within size and pixel limits), turned upright,
stripped of EXIF and every other metadata by re-encoding, scaled down if huge, and get a thumbnail. Documents
are checked by content, not by name.
"""

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


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
    """Refuse an upload over `limit` bytes; `message` names the limit in MB as %(size)s."""
    if upload.size > limit:
        raise ValidationError(message % {"size": limit // (1024 * 1024)}, code="too_large")


def clean_image(upload) -> CleanImage:
    """Validate an uploaded image and return it re-encoded (no metadata) with a thumbnail.

    Raises ValidationError with a message for the user on anything that is not an acceptable image.
    """
    _check_size(upload, settings.UPLOAD_IMAGE_MAX_BYTES, _("The image is larger than %(size)s MB."))
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


def clean_pdf(upload) -> ContentFile:
    """A real PDF (by its header and trailer), within the size limit, under a name of our own."""
    _check_size(upload, settings.UPLOAD_DOCUMENT_MAX_BYTES, _("The file is larger than %(size)s MB."))
    upload.seek(0)
    data = upload.read()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise ValidationError(_("This file is not a PDF document."), code="not_a_pdf")
    return ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")


def clean_attachment(upload) -> ContentFile:
    """A project attachment: size-limited, and not something a browser would run (HTML, SVG, scripts)."""
    _check_size(upload, settings.UPLOAD_DOCUMENT_MAX_BYTES, _("The file is larger than %(size)s MB."))
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in ATTACHMENT_EXTENSIONS:
        raise ValidationError(
            _("Allowed file types: %(types)s.") % {"types": ", ".join(sorted(ATTACHMENT_EXTENSIONS))}, code="type"
        )
    upload.seek(0)
    return ContentFile(upload.read(), name=f"{uuid.uuid4().hex}.{extension}")


ATTACHMENT_EXTENSIONS = {"pdf", "png", "jpg", "jpeg", "webp", "zip", "txt", "docx", "xlsx", "pptx", "odt"}


def atomic_with_file_cleanup(action):
    """Run `action(saved)` in a transaction; the caller appends each FieldFile it writes to `saved`.

    Files written before a failure would stay on disk after the rollback: they are removed.
    """
    from django.db import transaction

    saved: list = []
    try:
        with transaction.atomic():
            return action(saved)
    except Exception:
        for field_file in saved:
            field_file.storage.delete(field_file.name)
        raise


@dataclass
class ZipReport:
    content: ContentFile
    sha256: str
    size: int
    entries: list  # [[name, uncompressed size], ...]


def inspect_zip(upload) -> ZipReport:
    """Accept a delivery only if it is really a zip whose entries are few and safe enough.

    Refuses: not a zip; too large a file; too many entries; too much uncompressed data or too high a
    compression ratio (zip bombs); absolute paths, `..` components, drive letters; symbolic links.
    """
    import hashlib
    import stat
    import zipfile

    _check_size(upload, settings.DELIVERABLE_MAX_BYTES, _("The file is larger than %(size)s MB."))
    upload.seek(0)
    data = upload.read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
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
    return ZipReport(
        content=ContentFile(data, name=f"{uuid.uuid4().hex}.zip"),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        entries=entries,
    )
