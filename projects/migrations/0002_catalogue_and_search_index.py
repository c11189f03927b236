"""The skill catalogue (projects/catalogue.py), and the full-text index on PostgreSQL."""

from django.db import migrations

INDEX = "projects_project_search_gin"


def load_catalogue(apps, schema_editor):
    from projects.catalogue import CATALOGUE

    Category = apps.get_model("projects", "Category")
    Skill = apps.get_model("projects", "Skill")
    for position, (slug, name_en, name_fa, skills) in enumerate(CATALOGUE):
        category, _ = Category.objects.update_or_create(
            slug=slug, defaults={"name_en": name_en, "name_fa": name_fa, "position": position}
        )
        for skill_slug, skill_en, skill_fa in skills:
            Skill.objects.update_or_create(
                slug=skill_slug, defaults={"name_en": skill_en, "name_fa": skill_fa, "category": category}
            )


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON projects_project "
            "USING gin (to_tsvector('simple'::regconfig, search_document))"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
