from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage


def deliverable_path(deliverable: "Deliverable", filename: str) -> str:
    return f"deliverables/{deliverable.milestone_id}/{filename}"


class Deliverable(models.Model):
    """One uploaded zip of a milestone's work. Stored privately under a generated name; served only by
    workspace.views.deliverable_download to the parties (and staff) once the milestone is fully funded."""

    milestone = models.ForeignKey("escrow.Milestone", on_delete=models.PROTECT, related_name="deliverables")
    version = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=deliverable_path, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    entries = models.JSONField(_("contents"), default=list)  # [[name, uncompressed size], ...]
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["milestone", "version"], name="deliverable_version")]

    def __str__(self) -> str:
        return f"{self.milestone_id} v{self.version} {self.original_name}"
