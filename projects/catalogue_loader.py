"""Load projects/catalogue.py into the database; idempotent. Used by the data migration (with historical
models) and by tests whose database was emptied (with the real ones)."""

from projects.catalogue import CATALOGUE


def load_catalogue(category_model, skill_model) -> None:
    for position, (slug, name_en, name_fa, skills) in enumerate(CATALOGUE):
        category, _ = category_model.objects.update_or_create(
            slug=slug, defaults={"name_en": name_en, "name_fa": name_fa, "position": position}
        )
        for skill_slug, skill_en, skill_fa in skills:
            skill_model.objects.update_or_create(
                slug=skill_slug, defaults={"name_en": skill_en, "name_fa": skill_fa, "category": category}
            )
