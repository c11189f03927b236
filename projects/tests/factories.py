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


def project_form_data(**overrides) -> dict:
    """What the Post a project form sends for a published project in web development, with `overrides`."""
    category = Category.objects.get(slug="web-development")
    data = {
        "title": "Online shop for handmade rugs",
        "description": "We need an online shop with a catalogue, a basket and online payment.",
        "category": category.pk,
        "skills": [s.pk for s in category.skills.all()[:3]],
        "currency": "IRT",
        "budget_min": "15,000,000",
        "budget_max": "25,000,000",
        "duration_days": "45",
        "kind": "single",
        "action": "publish",
    }
    data.update(overrides)
    return data
