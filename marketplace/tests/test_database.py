"""How the site talks to PostgreSQL."""

from django.db import connection

from accounts.models import User


def test_a_query_the_connection_has_run_twice_is_prepared(require_postgres):
    """Parameters bound by the server and statements prepared (settings, DATABASE_PREPARED_STATEMENTS): PostgreSQL
    plans a page's query once per connection, not on every request."""
    for pk in (1, 2, 3):  # different values, one statement
        list(User.objects.select_related("profile").filter(pk=pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "accounts_user"' in sql and '"accounts_profile"' in sql and "$1" in sql for sql in prepared)
