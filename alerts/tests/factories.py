from accounts.services import profile_set_skills
from accounts.tests.factories import UserFactory
from alerts.models import Frequency
from alerts.services import saved_search_create
from projects.selectors import ProjectFilters


def freelancer(*, skills=(), **extra):
    """A user whose profile lists `skills` (through the profile service)."""
    user = UserFactory(**extra)
    if skills:
        profile_set_skills(user=user, skills=list(skills))
    return user


def save_search(user, *, frequency: str = Frequency.INSTANT, **filters):
    """A saved search made through the service, from the filters Active projects would read."""
    return saved_search_create(user=user, filters=ProjectFilters(**filters), frequency=frequency)
