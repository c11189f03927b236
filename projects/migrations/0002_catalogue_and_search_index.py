"""The skill catalogue (projects/catalogue.py), and the full-text index on PostgreSQL."""

from django.db import migrations

INDEX = "projects_project_search_gin"


def load_catalogue(apps, schema_editor):
    from projects.catalogue_loader import load_catalogue as load

    load(apps.get_model("projects", "Category"), apps.get_model("projects", "Skill"))


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
