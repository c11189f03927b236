"""Read queries for proposals and conversations; each page runs a fixed number of them."""

from django.db.models import Count, DateTimeField, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from projects.models import Project, Skill
from proposals.models import Conversation, Message, Proposal, ProposalRevision
from proposals.services import NEVER

PROPOSAL_SORTS = {"date": ["-created_at", "-id"], "amount": ["amount", "-created_at"], "amount_desc": ["-amount"]}
MESSAGES_PER_PAGE = 50


def proposals_for_employer(*, project: Project, sort: str = "date") -> list[Proposal]:
    """Every proposal on the project with the bidder's profile, skills and the edit history, in a fixed number
    of queries; each carries `matched_skills`, the bidder's skills the project asks for."""
    proposals = list(
        project.proposals.exclude(status=Proposal.Status.WITHDRAWN)
        .select_related("freelancer__profile")
        .prefetch_related(
            Prefetch("freelancer__profile__skills", queryset=Skill.objects.order_by("name_en")),
            Prefetch("revisions", queryset=ProposalRevision.objects.order_by("-number")),
        )
        .order_by(*PROPOSAL_SORTS.get(sort, PROPOSAL_SORTS["date"]))
    )
    wanted = {skill.pk for skill in project.skills.all()}
    for proposal in proposals:
        proposal.matched_skills = [s for s in proposal.freelancer.profile.skills.all() if s.pk in wanted]
    return proposals


def proposal_of(*, project: Project, freelancer: User) -> Proposal | None:
    if not freelancer.is_authenticated:
        return None
    return (
        project.proposals.filter(freelancer=freelancer, status__in=Proposal.LIVE)
        .prefetch_related(
            Prefetch("revisions", queryset=ProposalRevision.objects.order_by("-number")),
            "phasing_offers__phases",  # newest version first (the offer's own ordering)
        )
        .first()
    )


def freelancer_proposals(*, user: User) -> list[Proposal]:
    """The user's proposals, newest change first, each with `conversation_id` (one query for all of them)."""
    proposals = list(
        Proposal.objects.filter(freelancer=user)
        .select_related("project")
        .annotate(open_phasing_offers=Count("phasing_offers", filter=Q(phasing_offers__status="sent")))
        .order_by("-updated_at")
    )
    conversations = conversation_ids(freelancer=user, project_ids=[p.project_id for p in proposals])
    for proposal in proposals:
        proposal.conversation_id = conversations.get((proposal.project_id, user.pk))
    return proposals


def conversation_ids(*, project_ids: list[int], freelancer: User | None = None) -> dict[tuple[int, int], int]:
    """{(project id, freelancer id): conversation id} for the given projects (and freelancer)."""
    conversations = Conversation.objects.filter(project_id__in=project_ids)
    if freelancer is not None:
        conversations = conversations.filter(freelancer=freelancer)
    return {(c.project_id, c.freelancer_id): c.pk for c in conversations.only("id", "project_id", "freelancer_id")}


def conversations_for(*, user: User) -> QuerySet:
    """The user's conversations, most recent first, each with `unread` (a count)."""
    return (
        Conversation.objects.filter(Q(freelancer=user) | Q(project__owner=user))
        .select_related("project", "project__owner__profile", "freelancer__profile")
        .annotate(
            unread=Count(
                "messages",
                filter=~Q(messages__sender=user)
                & (
                    Q(
                        freelancer=user,
                        messages__created_at__gt=Coalesce(
                            F("freelancer_read_at"), Value(NEVER), output_field=DateTimeField()
                        ),
                    )
                    | Q(
                        project__owner=user,
                        messages__created_at__gt=Coalesce(
                            F("employer_read_at"), Value(NEVER), output_field=DateTimeField()
                        ),
                    )
                ),
            )
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at")
    )


def conversation_detail(*, pk: int) -> Conversation | None:
    return Conversation.objects.select_related("project__owner__profile", "freelancer__profile").filter(pk=pk).first()


def messages_page(*, conversation: Conversation, before: int | None = None) -> tuple[list[Message], bool]:
    """The newest MESSAGES_PER_PAGE messages (or those before message `before`), oldest first, and whether
    older ones exist."""
    messages = conversation.messages.select_related("sender__profile").order_by("-created_at", "-id")
    if before:
        messages = messages.filter(id__lt=before)
    page = list(messages[: MESSAGES_PER_PAGE + 1])
    return list(reversed(page[:MESSAGES_PER_PAGE])), len(page) > MESSAGES_PER_PAGE


def messages_after(*, conversation: Conversation, after: int) -> list[Message]:
    return list(
        conversation.messages.select_related("sender__profile").filter(id__gt=after).order_by("created_at", "id")[:200]
    )
