from decimal import Decimal

from accounts.tests.factories import UserFactory
from projects.models import Category, Project, Skill
from projects.services import project_create


def make_project(*, owner=None, title="Build an online shop", description=None, skills=None, publish=True, **extra):
    """A project made through the service, with the catalogue's first category and skills by default."""
    category = extra.pop("category", None) or Category.objects.order_by("position").first()
    fields = {
        "currency": "IRT",
        "budget_min": Decimal("1000000"),
        "budget_max": Decimal("2000000"),
        "kind": Project.Kind.SINGLE,
        "duration_days": 30,
    }
    fields.update(extra)
    return project_create(
        owner=owner or UserFactory(),
        title=title,
        description=description or f"{title}: the details of the work, written at some length.",
        category=category,
        skills=skills if skills is not None else list(category.skills.all()[:2]),
        publish=publish,
        **fields,
    )


def skill(slug: str) -> Skill:
    return Skill.objects.get(slug=slug)
