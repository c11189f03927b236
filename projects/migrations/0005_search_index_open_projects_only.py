"""The GIN index of project search (migration 0002) over open projects only, the only ones a search reads
(projects.selectors.project_list_open), and two more over samples of them, for counting a search's matches
(projects.selectors.project_list_open_subsets): one open project in 8 by id, and one in 64.

With the whole table indexed, PostgreSQL answered a search by ANDing the words' bitmap with a bitmap of every open
project read from the status index: 85,000 entries at 100,000 projects, 850,000 at a million, built for each search
(bench/load_bench.py, the crawler's searches). The partial index answers `status = 'open'` by itself, and it is
smaller. A sample's index holds an eighth (a sixty-fourth) of the entries, and so has as many fewer matches to
gather before the first is counted. At a million projects, filled row by row (bench/dataset.py), the three take
82, 17 and 6 MB (the whole-table index took 93 MB).
"""

from django.db import migrations

INDEX = "projects_project_search_gin"
SAMPLES = {8: "projects_project_search_sample8_gin", 64: "projects_project_search_sample64_gin"}


def index_open_projects(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"CREATE INDEX {INDEX} ON projects_project USING gin (search_vector) WHERE status = 'open'")
    for size, name in SAMPLES.items():
        # The condition as projects.selectors._in_sample writes it, so that the planner sees the one imply the other.
        schema_editor.execute(
            f"CREATE INDEX {name} ON projects_project USING gin (search_vector) "
            f"WHERE status = 'open' AND id % {size} = 0",
            params=None,  # no parameters: the % is the operator
        )


def index_every_project(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SAMPLES.values():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"CREATE INDEX {INDEX} ON projects_project USING gin (search_vector)")


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_listing_order_indexes")]
    operations = [migrations.RunPython(index_open_projects, index_every_project)]
