import hashlib
import os

import pytest
from django.core.exceptions import ValidationError

from marketplace.testing import peak_memory, spooled_upload
from marketplace.uploads import clean_attachment, clean_pdf

MEGABYTE = 1024 * 1024


def _spooled(name: str, megabytes: int, *, head: bytes = b"", tail: bytes = b""):
    def fill(file):
        file.write(head)
        for _ in range(megabytes):
            file.write(os.urandom(MEGABYTE))
        file.write(tail)

    return spooled_upload(name, "application/octet-stream", fill)


def _sha256(file) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def test_a_large_pdf_is_checked_by_its_first_and_last_bytes_and_kept_on_disk():
    with _spooled("report.pdf", 9, head=b"%PDF-1.7\n", tail=b"\n%%EOF\n") as upload:
        sent = _sha256(upload)
        cleaned, peak = peak_memory(lambda: clean_pdf(upload))
        assert peak < MEGABYTE
        assert cleaned.name.endswith(".pdf") and cleaned.name != upload.name
        assert (cleaned.size, _sha256(cleaned)) == (upload.size, sent)


def test_a_pdf_without_its_end_marker_in_the_last_bytes_is_refused():
    upload = _spooled("report.pdf", 1, head=b"%PDF-1.7\n", tail=b"\n%%EOF\n" + b" " * 4096)
    with upload, pytest.raises(ValidationError, match="not a PDF document"):
        clean_pdf(upload)


def test_a_large_attachment_is_kept_on_disk_under_a_name_of_our_own():
    with _spooled("brief.docx", 9) as upload:
        upload.content_type = "text/html"
        sent = _sha256(upload)
        cleaned, peak = peak_memory(lambda: clean_attachment(upload))
        assert peak < MEGABYTE
        assert cleaned.name.endswith(".docx") and cleaned.name != upload.name
        assert not hasattr(cleaned, "content_type")  # what the client claimed is not passed on to storage
        assert (cleaned.size, _sha256(cleaned)) == (upload.size, sent)
