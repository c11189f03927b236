from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.choices import ChoiceLabels

RATING = [MinValueValidator(1), MaxValueValidator(5)]


class Review(ChoiceLabels, models.Model):
    """One party's review of the other after a contract. Double-blind: `published_at` stays empty until both
    have written or the review window has closed; then both are published together."""

    class Role(models.TextChoices):
        OF_FREELANCER = "of_freelancer", _("The employer's review of the freelancer")
        OF_EMPLOYER = "of_employer", _("The freelancer's review of the employer")

    contract = models.ForeignKey("workspace.Contract", on_delete=models.PROTECT, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_written")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_received")
    role = models.CharField(max_length=14, choices=Role)
    rating = models.PositiveSmallIntegerField(_("overall rating"), validators=RATING)
    # Sub-ratings: of a freelancer (quality, communication, on time); of an employer (clarity, payment).
    quality = models.PositiveSmallIntegerField(_("quality of work"), validators=RATING, null=True, blank=True)
    communication = models.PositiveSmallIntegerField(_("communication"), validators=RATING, null=True, blank=True)
    on_time = models.PositiveSmallIntegerField(_("on time"), validators=RATING, null=True, blank=True)
    clarity = models.PositiveSmallIntegerField(_("clear requirements"), validators=RATING, null=True, blank=True)
    payment = models.PositiveSmallIntegerField(_("prompt payment"), validators=RATING, null=True, blank=True)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    reply = models.TextField(_("reply"), max_length=2000, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "author"], name="one_review_per_party"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_range"),
        ]

    def __str__(self) -> str:
        return f"{self.author} → {self.subject}: {self.rating}"
