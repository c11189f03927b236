from django.db.models import Prefetch

from accounts.models import PortfolioImage, PortfolioItem, Profile, User


def profile_public(*, username: str) -> User | None:
    """Everything the public profile page shows, in a fixed number of queries."""
    return (
        User.objects.filter(username=username, is_active=True)
        .select_related("profile")
        .prefetch_related(
            "profile__skills",  # in the catalogue's order: by category, then name
            "profile__experiences",
            "profile__educations",
            Prefetch(
                "profile__portfolio_items",
                queryset=PortfolioItem.objects.prefetch_related(
                    Prefetch("images", queryset=PortfolioImage.objects.order_by("position", "id"))
                ),
            ),
        )
        .first()
    )


def profile_for_editing(*, user: User) -> Profile:
    return (
        Profile.objects.select_related("user")
        .prefetch_related("skills", "experiences", "educations", "portfolio_items__images")
        .get(user=user)
    )
