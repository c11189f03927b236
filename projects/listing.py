"""What a searchable listing renders (Active projects, the freelancer directory): the question, its page of rows,
the skill filter and the keys its cached fragments are stored under (marketplace/pagecache.py). The rows, the
count and the categories are read only when the template renders the part that shows them, so a listing served
from its fragments reads nothing from the database."""

from django.utils.functional import SimpleLazyObject

from marketplace.pagecache import public_fragment_context
from projects.selectors import CappedPaginator, categories_with_skills


def listing_context(request, *, form, rows, page_size: int, cap: int, subsets=None) -> dict:
    """`form` is the listing's search form (bound to request.GET, with filters() naming the ticked skills);
    `rows(filters)` the selector of its rows; `subsets(filters)`, if given, the selector of queries for some of
    them that are cheaper to count (CappedPaginator's subsets)."""

    def page():
        filters = form.filters()
        paginator = CappedPaginator(rows(filters), page_size, cap=cap, subsets=subsets(filters) if subsets else ())
        return paginator.get_page(request.GET.get("page"))

    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": SimpleLazyObject(page),
        "categories": SimpleLazyObject(categories_with_skills),
        "selected_skills": SimpleLazyObject(lambda: {skill.slug for skill in form.filters().skills}),
        "query_string": query.urlencode(),
        "listing_key": request.get_full_path(),
        "skills_key": ",".join(sorted(request.GET.getlist("skills"))),
        "count_cap": cap,
        **public_fragment_context(),
    }
