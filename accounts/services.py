"""Actions that change accounts. Views, the allauth adapter, the admin and seed_demo all go through these."""

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import PortfolioImage, PortfolioItem, Profile, User
from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.uploads import CleanImage, atomic_with_file_cleanup, delete_file_on_commit
from projects.search import normalize  # a function of text only: the same words as project search, no model

# --- the freelancer directory's figures on the profile (Profile.search_document, listed, rating_*, ...) ------


def profile_search_document(profile: Profile, skills, portfolio_titles) -> str:
    """The words the directory finds a profile by, as project search normalises them: what the profile says it
    is (name, headline, skills in both languages) on the first line, what it tells about it (bio, portfolio
    titles) on the second; PostgreSQL ranks a match in the first line above one in the second (migration 0003)."""
    skill_names = " ".join(f"{skill.name_en} {skill.name_fa}" for skill in skills)
    first = normalize(f"{profile.display_name} {profile.headline} {skill_names}")
    second = normalize(" ".join([profile.bio, *portfolio_titles]))
    return f"{first}\n{second}"


def _listed(profile: Profile, has_skills: bool) -> bool:
    """Who the directory lists: an active account whose profile names a skill, or that has completed work as a
    freelancer (a deactivated account drops out when the admin saves it: UserAdmin.save_related)."""
    return profile.user.is_active and (has_skills or profile.completed_projects > 0)


def _refresh_directory_entry(profile: Profile) -> None:
    """Rebuild the profile's search document and directory flag from its rows (two queries); the caller holds
    the profile's lock (_lock_profile) and saves it."""
    skills = list(profile.skills.all())
    titles = list(profile.portfolio_items.order_by("-created_at", "-id").values_list("title", flat=True))
    profile.search_document = profile_search_document(profile, skills, titles)
    profile.listed = _listed(profile, bool(skills))


def _lock_profile(**lookup) -> Profile:
    """The profile's row, locked, with its user (read, not locked)."""
    return Profile.objects.select_for_update(of=("self",)).select_related("user").get(**lookup)


DIRECTORY_FIELDS = ["search_document", "listed", "updated_at"]


@transaction.atomic
def profile_refresh_stats(
    *,
    user_ids: Iterable[int],
    reputations: Callable[..., dict] | None = None,
    completed_projects: Callable[..., dict] | None = None,
) -> None:
    """Store the ratings and the count of completed projects the directory filters and sorts by. The apps that
    own them (reviews, workspace) sit above accounts and pass their selectors: `reputations(user_ids=...)` →
    {user id: {"average", "count"}}, `completed_projects(user_ids=...)` → {user id: count}. They are called once
    the profiles are locked (in id order, after whatever the caller locked): a second update at the same time
    waits, then counts this one's rows as well, so neither's figures are lost."""
    user_ids = sorted(set(user_ids))
    profiles = Profile.objects.select_for_update(of=("self",)).select_related("user").filter(user_id__in=user_ids)
    profiles = list(profiles.order_by("pk"))
    ratings = reputations(user_ids=user_ids) if reputations else None
    completed = completed_projects(user_ids=user_ids) if completed_projects else None
    for profile in profiles:
        fields = []
        if ratings is not None:
            rating = ratings.get(profile.user_id) or {"average": None, "count": 0}
            average = Decimal(str(rating["average"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            profile.rating_average, profile.rating_count = average, rating["count"]
            fields += ["rating_average", "rating_count"]
        if completed is not None:
            profile.completed_projects = completed.get(profile.user_id, 0)
            profile.listed = _listed(profile, profile.skills.exists())
            fields += ["completed_projects", "listed"]
        if fields:
            profile.save(update_fields=fields)


def profile_ensure(*, user: User) -> Profile:
    """Every user has exactly one profile; this makes it if it is missing."""
    profile, _ = Profile.objects.get_or_create(
        user=user, defaults={"display_name": user.username, "search_document": normalize(user.username)}
    )
    return profile


@transaction.atomic
def profile_refresh_search(*, user: User) -> Profile:
    """Rebuild the directory's words for the profile from what it now says (after a change made outside these
    services: the admin's profile form)."""
    profile = _lock_profile(user=user)
    _refresh_directory_entry(profile)
    profile.save(update_fields=DIRECTORY_FIELDS)
    return profile


@transaction.atomic
def user_create(
    *,
    email: str,
    username: str,
    password: str,
    display_name: str = "",
    bio: str = "",
    language: str = "",
    is_staff: bool = False,
    email_verified: bool = False,
) -> User:
    """Create an account with its profile and its (primary) e-mail address record."""
    email = email.strip().lower()
    user = User(email=email, username=username, language=language, is_staff=is_staff, is_superuser=is_staff)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    profile = Profile(user=user, display_name=display_name or username, bio=bio)
    profile.search_document = profile_search_document(profile, skills=[], portfolio_titles=[])
    profile.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


# --- the profile, edited only by its owner -------------------------------------------------------------


def _replace_file(field_file, content, saved: list) -> None:
    """Write a new file into a FileField, remembering it for cleanup; the old file goes once committed."""
    old_name = field_file.name
    field_file.save(content.name, content, save=False)
    saved.append(field_file)
    delete_file_on_commit(field_file.storage, old_name)


def _delete_file_on_commit(field_file) -> None:
    delete_file_on_commit(field_file.storage, field_file.name)


def profile_update_basic(
    *,
    user: User,
    display_name: str,
    headline: str,
    bio: str,
    city: str,
    avatar: CleanImage | None = None,
    remove_avatar: bool = False,
) -> Profile:
    def update(saved):
        profile = _lock_profile(user=user)
        profile.display_name, profile.headline, profile.bio, profile.city = display_name, headline, bio, city
        if avatar is not None:
            _replace_file(profile.avatar, avatar.image, saved)
            _replace_file(profile.avatar_thumbnail, avatar.thumbnail, saved)
        elif remove_avatar:
            _delete_file_on_commit(profile.avatar)
            _delete_file_on_commit(profile.avatar_thumbnail)
            profile.avatar = profile.avatar_thumbnail = ""
        _refresh_directory_entry(profile)
        profile.save()
        return profile

    return atomic_with_file_cleanup(update)


@transaction.atomic
def profile_set_skills(*, user: User, skills) -> None:
    profile = _lock_profile(user=user)
    profile.skills.set(skills)
    _refresh_directory_entry(profile)
    profile.save(update_fields=DIRECTORY_FIELDS)


def profile_set_resume(*, user: User, resume=None, remove: bool = False) -> Profile:
    def update(saved):
        profile = Profile.objects.select_for_update().get(user=user)
        if resume is not None:
            _replace_file(profile.resume, resume, saved)
        elif remove:
            _delete_file_on_commit(profile.resume)
            profile.resume = ""
        profile.save(update_fields=["resume", "updated_at"])
        return profile

    return atomic_with_file_cleanup(update)


@transaction.atomic
def profile_set_bank_details(*, user: User, card_number: str, sheba: str, account_holder: str) -> None:
    Profile.objects.filter(user=user).update(
        bank_card_number=card_number, bank_sheba=sheba, bank_account_holder=account_holder
    )


def _own(entry, user: User):
    if entry.profile.user_id != user.pk:
        raise NotAllowed(_("This is not your profile."))
    return entry


@transaction.atomic
def resume_entry_add(*, user: User, model, **fields):
    """Add a work experience or education entry to the user's own profile."""
    entry = model(profile=user.profile, **fields)
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def resume_entry_delete(*, user: User, entry) -> None:
    _own(entry, user).delete()


def portfolio_item_create(*, user: User, title: str, description: str, link: str, images: list[CleanImage]):
    if len(images) > PortfolioItem.MAX_IMAGES:
        raise InvalidTransition(_("A portfolio item can have at most 8 images."))

    def create(saved):
        profile = _lock_profile(user=user)  # its search words change with the titles
        item = PortfolioItem.objects.create(profile=profile, title=title, description=description, link=link)
        for position, clean in enumerate(images):
            picture = PortfolioImage(item=item, position=position)
            picture.image.save(clean.image.name, clean.image, save=False)
            saved.append(picture.image)
            picture.thumbnail.save(clean.thumbnail.name, clean.thumbnail, save=False)
            saved.append(picture.thumbnail)
            picture.save()
        _refresh_directory_entry(profile)
        profile.save(update_fields=DIRECTORY_FIELDS)
        return item

    return atomic_with_file_cleanup(create)


@transaction.atomic
def portfolio_item_delete(*, user: User, item: PortfolioItem) -> None:
    _own(item, user)
    profile = _lock_profile(pk=item.profile_id)
    for picture in item.images.all():
        _delete_file_on_commit(picture.image)
        _delete_file_on_commit(picture.thumbnail)
    item.delete()
    _refresh_directory_entry(profile)
    profile.save(update_fields=DIRECTORY_FIELDS)
