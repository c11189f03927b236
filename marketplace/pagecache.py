"""Pages that are the same for every visitor, rendered once and served from the cache.

A visitor (not signed in, nothing pending for them in the messages framework) sees the same home page, Active
projects listing, project page and public profile as every other visitor in their language. `visitor_cache`
stores the rendered page under the language, the full path and the current version of the public data, and serves
it from the cache until that version changes or PUBLIC_PAGE_CACHE_SECONDS pass. The version changes
(`public_data_changed`) when anything those pages show is saved or deleted: a project (its status follows its
contracts), its skills or attachments, a category or skill, a user, a profile and what it lists, a review (the
ratings). So a change shows at once, and the timeout bounds what no signal sees (the relative times, "3 minutes
ago").

The one part of such a page that is each visitor's own is the CSRF token of the language switch (and of htmx's
header). The page is rendered with a placeholder in its place (the `csrf_placeholder` context processor) and the
visitor's own token goes in when it is served, so the CSRF middleware sets its cookie as for any page.

Parts of pages that signed-in people share (the listing's results and its skill filter) use Django's `{% cache %}`
tag keyed by the same version (`public_version` in the context).
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token

VERSION_KEY = "public-pages:version"
CSRF_PLACEHOLDER = "csrf-token-of-this-visitor-0b5e1f"


def public_version() -> int:
    """The version of the public data; one cache read."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def public_data_changed(update_fields=None, action=None, **_kwargs) -> None:
    """Every cached public page and fragment is stale from now on, and again when the change commits: a page
    rendered from the old rows between the two is stored under a version nobody asks for any more."""
    if update_fields is not None and set(update_fields) <= UNSHOWN_FIELDS:
        return
    if action is not None and not action.startswith("post_"):  # m2m_changed: once the links have changed
        return
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set (or evicted): a value from the clock differs from every version in use
        cache.set(VERSION_KEY, int(time.time() * 1000), timeout=None)


def _cacheable(request) -> bool:
    if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
        return False
    # A flash message waiting for this visitor (a cookie, or their session) makes the page theirs alone.
    return CookieStorage.cookie_name not in request.COOKIES and settings.SESSION_COOKIE_NAME not in request.COOKIES


def _serve(request, content: bytes, content_type: str) -> HttpResponse:
    if CSRF_PLACEHOLDER.encode() in content:
        # The visitor's own token; get_token also has the CSRF middleware set its cookie, as {% csrf_token %} does.
        content = content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    return HttpResponse(content, content_type=content_type)


def visitor_cache(view):
    """Serve visitors the page from the cache (see the module's docstring); signed-in people get it rendered."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        key = f"public-page:{public_version()}:{request.LANGUAGE_CODE}:{path}"
        stored = cache.get(key)
        if stored is not None:
            return _serve(request, *stored)
        request.csrf_placeholder = True
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming or response.cookies:
            return response
        if hasattr(response, "render") and callable(response.render):
            response.render()
        stored = (response.content, response["Content-Type"])
        cache.set(key, stored, timeout=settings.PUBLIC_PAGE_CACHE_SECONDS)
        return _serve(request, *stored)

    return wrapped


def csrf_placeholder(request):
    """Context processor: the placeholder instead of the visitor's CSRF token, while a shared page renders."""
    if getattr(request, "csrf_placeholder", False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def public_fragment_context() -> dict:
    return {"public_version": public_version(), "public_fragment_seconds": settings.PUBLIC_PAGE_CACHE_SECONDS}


def connect_invalidation() -> None:
    """Connect `public_data_changed` to every model whose rows the cached pages show."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for label in PUBLIC_MODELS:
        model = apps.get_model(label)
        post_save.connect(public_data_changed, sender=model, dispatch_uid=f"public-pages:save:{label}")
        post_delete.connect(public_data_changed, sender=model, dispatch_uid=f"public-pages:delete:{label}")
    for label, field in PUBLIC_M2M:
        through = getattr(apps.get_model(label), field).through
        m2m_changed.connect(public_data_changed, sender=through, dispatch_uid=f"public-pages:m2m:{label}.{field}")


PUBLIC_MODELS = [
    "projects.Project",
    "projects.ProjectAttachment",
    "projects.Category",
    "projects.Skill",
    "accounts.User",
    "accounts.Profile",
    "accounts.WorkExperience",
    "accounts.Education",
    "accounts.PortfolioItem",
    "accounts.PortfolioImage",
    "reviews.Review",
]
PUBLIC_M2M = [("projects.Project", "skills"), ("accounts.Profile", "skills")]
# Saves that change nothing a public page shows (every sign-in saves last_login).
UNSHOWN_FIELDS = {"last_login"}
