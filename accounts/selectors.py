from django.db.models import Prefetch

from accounts.models import PortfolioImage, PortfolioItem, Profile, User
from projects.models import Skill


def profile_public(*, username: str) -> User | None:
    """Everything the public profile page shows, in a fixed number of queries."""
    return (
        User.objects.filter(username=username, is_active=True)
        .select_related("profile")
        .prefetch_related(
            Prefetch("profile__skills", queryset=Skill.objects.select_related("category").order_by("name_en")),
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


def completed_projects(*, user: User):
    """Projects in which the user, as freelancer, completed (was paid for) work, newest first."""
    from escrow.models import Milestone
    from projects.models import Project

    return (
        Project.objects.filter(contracts__freelancer=user, contracts__milestones__status=Milestone.Status.COMPLETED)
        .distinct()
        .select_related("owner__profile", "category")
        .order_by("-updated_at")
    )
