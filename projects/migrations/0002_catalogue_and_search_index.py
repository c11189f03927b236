"""The skill catalogue (projects/catalogue.py), and full-text search on PostgreSQL.

On PostgreSQL the table gets a stored, generated tsvector column (not a model field, so SQLite needs nothing)
with a GIN index. Storing it matters: computing to_tsvector() per row at query time made a search for a common
word take seconds at 100,000 projects (bench/search_bench.py).
"""

from django.db import migrations

INDEX = "projects_project_search_gin"


def load_catalogue(apps, schema_editor):
    from projects.catalogue_loader import load_catalogue as load

    load(apps.get_model("projects", "Category"), apps.get_model("projects", "Skill"))


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE projects_project ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_document)) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {INDEX} ON projects_project USING gin (search_vector)")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute("ALTER TABLE projects_project DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
