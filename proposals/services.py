"""Proposals and the chat between an employer and a bidder. Each action checks who acts and the state."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from invitations.services import invitation_mark_answered
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.mail import mail_build
from marketplace.status import set_status
from marketplace.uploads import atomic_with_file_cleanup, clean_attachment
from notifications.models import Notification
from notifications.services import email_wanted, notify
from projects.models import Project
from proposals import live, poll
from proposals.models import Conversation, Message, Proposal, ProposalRevision

MAX_PROPOSAL_AMOUNT = Decimal("100000000000")  # 100 billion in any currency: a typo, not a bid
MAX_DELIVERY_DAYS = 365
DIGEST_DELAY = timedelta(minutes=10)  # a message unread this long is mentioned in the next digest
NEVER = datetime(2000, 1, 1, tzinfo=UTC)  # "never", for comparisons with a nullable timestamp


class DuplicateProposal(DomainError):
    pass


def _check_terms(*, amount: Decimal, delivery_days: int, cover_letter: str) -> None:
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."))
    if amount > MAX_PROPOSAL_AMOUNT:
        raise DomainError(_("The amount is too large."))
    if not 1 <= delivery_days <= MAX_DELIVERY_DAYS:
        raise DomainError(_("The delivery time must be between 1 and 365 days."))
    if not cover_letter.strip():
        raise DomainError(_("Write a cover letter."))


def recount_proposals(project: Project) -> None:
    """The project's proposal count: the proposals not withdrawn."""
    project.proposal_count = project.proposals.exclude(status=Proposal.Status.WITHDRAWN).count()
    project.save(update_fields=["proposal_count"])


def _lock_project(project_id: int) -> Project:
    return Project.objects.select_for_update().get(pk=project_id)


def proposal_submit(
    *, project: Project, freelancer: User, amount: Decimal, delivery_days: int, cover_letter: str
) -> Proposal:
    """Send a proposal; opens (or reopens) the conversation with the employer."""
    _check_terms(amount=amount, delivery_days=delivery_days, cover_letter=cover_letter)
    try:
        with transaction.atomic():
            project = _lock_project(project.pk)
            if project.owner_id == freelancer.pk:
                raise NotAllowed(_("You cannot send a proposal on your own project."))
            if project.status != Project.Status.OPEN:
                raise InvalidTransition(_("This project is not open for proposals."))
            if project.proposals.filter(freelancer=freelancer, status__in=Proposal.LIVE).exists():
                raise DuplicateProposal(_("You have already sent a proposal on this project; edit it instead."))
            proposal = Proposal.objects.create(
                project=project,
                freelancer=freelancer,
                amount=amount,
                delivery_days=delivery_days,
                cover_letter=cover_letter.strip(),
            )
            ProposalRevision.objects.create(
                proposal=proposal, number=1, amount=amount, delivery_days=delivery_days, cover_letter=cover_letter
            )
            Conversation.objects.get_or_create(project=project, freelancer=freelancer)
            recount_proposals(project)
            invitation_mark_answered(project=project, freelancer=freelancer)
            notify(
                [project.owner], Notification.Kind.PROPOSAL_NEW, actor=freelancer,
                url=reverse("project_proposals", args=[project.pk]), project=project.title,
                amount=amount, currency=project.currency,
            )  # fmt: skip
            return proposal
    except IntegrityError as error:  # a second submission racing the first one
        raise DuplicateProposal(_("You have already sent a proposal on this project; edit it instead.")) from error


@transaction.atomic
def proposal_edit(*, proposal: Proposal, by: User, amount: Decimal, delivery_days: int, cover_letter: str) -> Proposal:
    """Change the terms; a new revision is kept when anything changed."""
    proposal = Proposal.objects.select_for_update().select_related("project").get(pk=proposal.pk)
    if proposal.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer who sent this proposal can edit it."))
    if not proposal.is_editable:
        raise InvalidTransition(_("This proposal can no longer be edited."))
    _check_terms(amount=amount, delivery_days=delivery_days, cover_letter=cover_letter)
    cover_letter = cover_letter.strip()
    if (proposal.amount, proposal.delivery_days, proposal.cover_letter) == (amount, delivery_days, cover_letter):
        return proposal
    proposal.amount, proposal.delivery_days, proposal.cover_letter = amount, delivery_days, cover_letter
    proposal.revision_count = F("revision_count") + 1
    proposal.save(update_fields=["amount", "delivery_days", "cover_letter", "revision_count", "updated_at"])
    proposal.refresh_from_db(fields=["revision_count"])
    ProposalRevision.objects.create(
        proposal=proposal,
        number=proposal.revision_count,
        amount=amount,
        delivery_days=delivery_days,
        cover_letter=cover_letter,
    )
    project = proposal.project
    notify(
        [project.owner], Notification.Kind.PROPOSAL_EDITED, actor=by,
        url=reverse("project_proposals", args=[project.pk]), project=project.title,
        amount=amount, currency=project.currency,
    )  # fmt: skip
    return proposal


def _transition(proposal: Proposal, status: str) -> None:
    refusal = _("A proposal that is %(current)s cannot become %(new)s.") % {
        "current": proposal.get_status_display(),
        "new": Proposal.Status(status).label,
    }
    set_status(proposal, status, refusal=refusal)
    proposal.save(update_fields=["status", "updated_at"])


def proposal_mark_selected(*, proposal: Proposal) -> None:
    """The employer made a contract of it (workspace.services, holding the project's and proposal's locks)."""
    _transition(proposal, Proposal.Status.SELECTED)


def proposal_set_aside(*, proposal: Proposal) -> None:
    """It leaves the live proposals without the freelancer withdrawing it by hand: the contract made of it was
    declined or cancelled, or its phasing offer was rejected (workspace.services, holding the locks)."""
    _transition(proposal, Proposal.Status.WITHDRAWN)
    recount_proposals(proposal.project)


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, by: User) -> Proposal:
    project = _lock_project(proposal.project_id)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer who sent this proposal can withdraw it."))
    proposal.project = project
    proposal_set_aside(proposal=proposal)
    return proposal


@transaction.atomic
def proposal_review(*, proposal: Proposal, by: User, status: str) -> Proposal:
    """The employer shortlists, un-shortlists (back to sent) or declines a proposal."""
    if status not in (Proposal.Status.SHORTLISTED, Proposal.Status.SENT, Proposal.Status.DECLINED):
        raise InvalidTransition(_("Unknown action."))
    proposal = Proposal.objects.select_for_update().select_related("project").get(pk=proposal.pk)
    if proposal.project.owner_id != by.pk:
        raise NotAllowed(_("Only the employer of this project can do this."))
    _transition(proposal, status)
    return proposal


# --- chat ----------------------------------------------------------------------------------------------


def conversation_can_read(*, conversation: Conversation, user: User) -> bool:
    """The two parties, and staff (who read a conversation when a dispute needs it)."""
    return user.is_authenticated and (user.is_staff or conversation.side_of(user) is not None)


def conversation_can_write(*, conversation: Conversation, user: User) -> bool:
    """Only the two parties: staff read a private conversation, they never speak in it."""
    return user.is_authenticated and conversation.side_of(user) is not None


def message_send(*, conversation: Conversation, sender: User, body: str, attachment=None) -> Message:
    """Post a message (text, an attachment, or both) to a conversation the sender belongs to."""
    if not conversation_can_write(conversation=conversation, user=sender):
        raise NotAllowed(_("You are not part of this conversation."))
    body = body.strip()
    if not body and attachment is None:
        raise DomainError(_("Write a message or attach a file."))
    if len(body) > Message.MAX_LENGTH:
        raise DomainError(_("A message can be at most 5000 characters long."))
    content = clean_attachment(attachment) if attachment is not None else None

    def send(saved):
        message = Message(conversation=conversation, sender=sender, body=body)
        if content is not None:
            message.attachment.save(content.name, content, save=False)
            saved.append(message.attachment)
            message.attachment_name = attachment.name[:200]
            message.attachment_size = attachment.size
        message.save()
        updates = {"last_message_at": message.created_at}
        side = conversation.side_of(sender)
        if side:
            updates[f"{side}_read_at"] = message.created_at
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
        poll.message_posted(message)
        live.message_posted(message)
        return message

    return atomic_with_file_cleanup(send)


def conversation_mark_read(*, conversation: Conversation, user: User) -> None:
    """The party has read the thread up to now; the other party's open pages show "seen" on what they sent."""
    side = conversation.side_of(user)
    if side:
        Conversation.objects.filter(pk=conversation.pk).update(**{f"{side}_read_at": timezone.now()})
        live.conversation_read(conversation, user)


def conversation_typing(*, conversation: Conversation, user: User) -> None:
    """Tell the other party's open thread that this party is typing: at most once every third of
    CHAT_TYPING_SECONDS per person and conversation, however often the page reports it."""
    if not conversation_can_write(conversation=conversation, user=user):
        raise NotAllowed(_("You are not part of this conversation."))
    if cache.add(f"chat:typing:{conversation.pk}:{user.pk}", 1, timeout=max(1, settings.CHAT_TYPING_SECONDS // 3)):
        live.typing(conversation, user)


# --- the unread-messages digest (a Celery beat task) ------------------------------------------------------


def _seen_until(side: str):
    return Greatest(
        Coalesce(f"{side}_read_at", Value(NEVER), output_field=DateTimeField()),
        Coalesce(f"{side}_notified_at", Value(NEVER), output_field=DateTimeField()),
    )


def unread_digest_send(*, now: datetime | None = None) -> int:
    """E-mail each participant once about messages that have waited unread for DIGEST_DELAY and that no
    earlier digest mentioned. Returns how many e-mails were queued."""
    now = now or timezone.now()
    cutoff = now - DIGEST_DELAY
    pending: dict[int, list[tuple[Conversation, int]]] = {}
    for side, from_the_other_side in (
        ("employer", Q(messages__sender=F("freelancer"))),
        ("freelancer", Q(messages__sender=F("project__owner"))),
    ):
        conversations = (
            Conversation.objects.filter(last_message_at__lte=now)
            .annotate(seen_until=_seen_until(side))
            .annotate(
                unread=Count(
                    "messages",
                    filter=from_the_other_side
                    & Q(messages__created_at__gt=F("seen_until"))
                    & Q(messages__created_at__lte=cutoff),
                )
            )
            .filter(unread__gt=0)
            .select_related("project", "project__owner", "freelancer")
        )
        for conversation in conversations:
            recipient = conversation.project.owner if side == "employer" else conversation.freelancer
            pending.setdefault(recipient.pk, []).append((conversation, conversation.unread, side, recipient))
    sent = 0
    wanted = email_wanted(users=[entries[0][3] for entries in pending.values()], kind=Notification.Kind.MESSAGES_UNREAD)
    for entries in pending.values():
        recipient = entries[0][3]
        with transaction.atomic(), translation.override(recipient.language or settings.LANGUAGE_CODE):
            for conversation, _count, side, _recipient in entries:
                other = conversation.freelancer if side == "employer" else conversation.project.owner
                notify(
                    [recipient], Notification.Kind.MESSAGES_UNREAD, actor=other, email=False,
                    url=reverse("conversation_detail", args=[conversation.pk]), project=conversation.project.title,
                )  # fmt: skip
                Conversation.objects.filter(pk=conversation.pk).update(**{f"{side}_notified_at": now})
            if recipient.pk not in wanted:
                continue
            body = render_to_string(
                "proposals/email/unread_digest.txt",
                {
                    "user": recipient,
                    "entries": [(c, n) for c, n, _side, _r in entries],
                    "site_url": settings.SITE_URL,
                    "SITE_NAME": settings.SITE_NAME,
                },
            )
            mail_build(subject=_("You have unread messages"), text=body, to=[recipient.email]).send()
        sent += 1
    return sent
