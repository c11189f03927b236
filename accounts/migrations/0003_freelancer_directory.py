"""The freelancer directory's figures on the profile, filled for the profiles that exist, and its search index.

On PostgreSQL the table gets a stored, generated tsvector column (not a model field, as for projects 0002): the
first line of `search_document` (name, headline, skills) weighted A, the second (bio, portfolio titles) B, so a
match in what a freelancer says they are ranks above a mention in their bio; a GIN index over listed profiles.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models
from django.db.models import Avg, Count

INDEX = "accounts_profile_search_gin"
BATCH = 2000


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE accounts_profile ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple'::regconfig, split_part(search_document, E'\\n', 1)), 'A') || "
            "setweight(to_tsvector('simple'::regconfig, split_part(search_document, E'\\n', 2)), 'B')) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {INDEX} ON accounts_profile USING gin (search_vector) WHERE listed")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute("ALTER TABLE accounts_profile DROP COLUMN IF EXISTS search_vector")


def fill_directory_figures(apps, schema_editor):
    """What accounts.services, reviews.services and workspace.services keep from now on, for every profile."""
    from accounts.services import profile_search_document

    Profile = apps.get_model("accounts", "Profile")
    Review = apps.get_model("reviews", "Review")
    Contract = apps.get_model("workspace", "Contract")
    ratings = {
        row["subject_id"]: row
        for row in Review.objects.filter(published_at__isnull=False)
        .order_by()
        .values("subject_id")
        .annotate(average=Avg("rating"), count=Count("id"))
    }
    completed = dict(
        Contract.objects.filter(milestones__status="completed")
        .order_by()
        .values("freelancer_id")
        .annotate(count=Count("project_id", distinct=True))
        .values_list("freelancer_id", "count")
    )
    fields = ["search_document", "listed", "rating_average", "rating_count", "completed_projects"]
    batch = []
    profiles = Profile.objects.select_related("user").prefetch_related("skills", "portfolio_items").order_by("pk")
    for profile in profiles.iterator(chunk_size=BATCH):
        skills = list(profile.skills.all())
        items = sorted(profile.portfolio_items.all(), key=lambda item: (item.created_at, item.pk), reverse=True)
        profile.search_document = profile_search_document(profile, skills, [item.title for item in items])
        rating = ratings.get(profile.user_id, {"average": 0, "count": 0})
        profile.rating_average = Decimal(str(rating["average"] or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        profile.rating_count = rating["count"]
        profile.completed_projects = completed.get(profile.user_id, 0)
        profile.listed = profile.user.is_active and (bool(skills) or profile.completed_projects > 0)
        batch.append(profile)
        if len(batch) == BATCH:
            Profile.objects.bulk_update(batch, fields)
            batch = []
    if batch:
        Profile.objects.bulk_update(batch, fields)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_profile_avatar_thumbnail_profile_bank_account_holder_and_more'),
        ('projects', '0004_listing_order_indexes'),
        ('reviews', '0002_contract_moved_to_workspace'),
        ('workspace', '0005_dispute_paused_clock'),
    ]

    operations = [
        migrations.AddField(
            model_name='profile',
            name='completed_projects',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='completed projects'),
        ),
        migrations.AddField(
            model_name='profile',
            name='listed',
            field=models.BooleanField(default=False, editable=False, verbose_name='in the freelancer directory'),
        ),
        migrations.AddField(
            model_name='profile',
            name='rating_average',
            field=models.DecimalField(decimal_places=2, default=0, editable=False, max_digits=3, verbose_name='average rating'),
        ),
        migrations.AddField(
            model_name='profile',
            name='rating_count',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='ratings'),
        ),
        migrations.AddField(
            model_name='profile',
            name='search_document',
            field=models.TextField(default='', editable=False),
        ),
        migrations.AddIndex(
            model_name='profile',
            index=models.Index(condition=models.Q(('listed', True)), fields=['-rating_average', '-rating_count', '-id'], name='profile_directory_rating_idx'),
        ),
        migrations.AddIndex(
            model_name='profile',
            index=models.Index(condition=models.Q(('listed', True)), fields=['-completed_projects', '-rating_average', '-id'], name='profile_directory_done_idx'),
        ),
        migrations.RunPython(create_search_index, drop_search_index),
        migrations.RunPython(fill_directory_figures, migrations.RunPython.noop),
    ]
