"""Real image bytes for upload tests, made with Pillow."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def jpeg_with_exif(name="photo.jpg", size=(640, 480), color=(200, 80, 40)) -> SimpleUploadedFile:
    picture = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png(name="picture.png", size=(300, 200)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 110, 255)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def gif(name="picture.gif", size=(300, 200)) -> SimpleUploadedFile:
    """A real, readable GIF: an image, but not a format we keep."""
    buffer = io.BytesIO()
    Image.new("P", size, 3).save(buffer, "GIF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/gif")


def fake_image(name="virus.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ\x90\x00 this is not an image at all", content_type="image/png")
