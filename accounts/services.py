"""Actions that change accounts. Views, the allauth adapter, the admin and seed_demo all go through these."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import PortfolioImage, PortfolioItem, Profile, User
from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.uploads import CleanImage, atomic_with_file_cleanup, delete_file_on_commit


def profile_ensure(*, user: User) -> Profile:
    """Every user has exactly one profile; this makes it if it is missing."""
    profile, _ = Profile.objects.get_or_create(user=user, defaults={"display_name": user.username})
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
    Profile.objects.create(user=user, display_name=display_name or username, bio=bio)
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
        profile = Profile.objects.select_for_update().get(user=user)
        profile.display_name, profile.headline, profile.bio, profile.city = display_name, headline, bio, city
        if avatar is not None:
            _replace_file(profile.avatar, avatar.image, saved)
            _replace_file(profile.avatar_thumbnail, avatar.thumbnail, saved)
        elif remove_avatar:
            _delete_file_on_commit(profile.avatar)
            _delete_file_on_commit(profile.avatar_thumbnail)
            profile.avatar = profile.avatar_thumbnail = ""
        profile.save()
        return profile

    return atomic_with_file_cleanup(update)


@transaction.atomic
def profile_set_skills(*, user: User, skills) -> None:
    profile = Profile.objects.select_for_update().get(user=user)
    profile.skills.set(skills)


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
        item = PortfolioItem.objects.create(profile=user.profile, title=title, description=description, link=link)
        for position, clean in enumerate(images):
            picture = PortfolioImage(item=item, position=position)
            picture.image.save(clean.image.name, clean.image, save=False)
            saved.append(picture.image)
            picture.thumbnail.save(clean.thumbnail.name, clean.thumbnail, save=False)
            saved.append(picture.thumbnail)
            picture.save()
        return item

    return atomic_with_file_cleanup(create)


@transaction.atomic
def portfolio_item_delete(*, user: User, item: PortfolioItem) -> None:
    _own(item, user)
    for picture in item.images.all():
        _delete_file_on_commit(picture.image)
        _delete_file_on_commit(picture.thumbnail)
    item.delete()
