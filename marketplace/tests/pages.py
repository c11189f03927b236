"""Every URL of the site, and how a test reaches it: the page walk (test_every_page.py) visits each page as the
people who see it, and a URL with no entry here fails the inventory test, so a new page cannot escape the walk.

Each entry is either a function of the seeded world (marketplace seed_demo) that returns the visits — (who, path)
with who a username or None for a visitor — or one of the reasons a URL is not a page of its own."""

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve

from accounts.models import User
from accounts.services import user_create
from accounts.views import TABS
from escrow.services import payment_start
from projects.models import Project
from projects.views import HELP_PAGES
from proposals.models import Conversation, Proposal
from workspace.models import Contract

# Not a page of its own. ACTION: POST only (a GET answers 405, which the inventory test checks); the others answer
# with a file, a fragment or a redirect into a page that is in the walk.
ACTION = "action"
FILE = "file"
FRAGMENT = "fragment"
REDIRECT = "redirect"
GATEWAY = "gateway"  # the payment gateway's return and webhook: a redirect to payment settings, or JSON

PEOPLE = ("sara", "david", "reza", "mina", "alex")  # seed_demo's employers and freelancers
MEMBERS = ("sara", "reza", "david")  # a Persian employer, a Persian freelancer, an English employer
STAFF = "admin"


def url_names() -> list[str]:
    """Every URL of the site, named as PAGES names it: its URL name, or the pattern itself when it has none."""
    names = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) != "admin/":  # the admin's own pages: admin_pages()
                    walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.callback is not serve:  # uploads, when DEBUG
                names.append(pattern.name or prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    return names


def _one(queryset):
    found = queryset.first()
    assert found is not None, f"seed_demo made no {queryset.model.__name__} for the page walk ({queryset.query})"
    return found


def _as(username, name, *args):
    return (username, reverse(name, args=args))


def _everyone(name, *args):
    return [(None, reverse(name, args=args)), *(_as(who, name, *args) for who in PEOPLE[:3])]


def _projects(world):
    """Each kind of project in each status it is in, as a visitor and as its owner; an open one as a bidder and
    as a freelancer who has not bid."""
    visits, seen = [], set()
    for project in Project.objects.exclude(status=Project.Status.DRAFT).select_related("owner").order_by("pk"):
        if (project.kind, project.status) not in seen:
            seen.add((project.kind, project.status))
            visits += [
                _as(None, "project_detail", project.pk),
                _as(project.owner.username, "project_detail", project.pk),
            ]
    bid_on = _one(Project.objects.filter(status=Project.Status.OPEN, proposals__freelancer__username="reza"))
    visits.append(_as("reza", "project_detail", bid_on.pk))
    fresh = _one(Project.objects.filter(status=Project.Status.OPEN).exclude(proposals__freelancer__username="alex"))
    visits.append(_as("alex", "project_detail", fresh.pk))
    return visits


def _contracts(world):
    """Every contract of the demo (one in each state, and the phased ones) as each of its two sides."""
    visits = []
    for contract in Contract.objects.select_related("employer", "freelancer").order_by("pk"):
        visits += [
            _as(contract.employer.username, "workspace", contract.pk),
            _as(contract.freelancer.username, "workspace", contract.pk),
        ]
    return visits


def _conversations(world):
    """The conversations with messages as both sides, and an empty one."""
    talked = (
        Conversation.objects.filter(messages__isnull=False).distinct().select_related("project__owner", "freelancer")
    )
    visits = []
    for conversation in talked.order_by("pk"):
        visits += [
            _as(conversation.project.owner.username, "conversation_detail", conversation.pk),
            _as(conversation.freelancer.username, "conversation_detail", conversation.pk),
        ]
    empty = _one(Conversation.objects.filter(messages__isnull=True).select_related("freelancer"))
    return [*visits, _as(empty.freelancer.username, "conversation_detail", empty.pk)]


def _open_project_of(username):
    return _one(Project.objects.filter(owner__username=username, status=Project.Status.OPEN, contracts__isnull=True))


def _proposal_lists(world):
    owners = Project.objects.filter(proposals__isnull=False).distinct().select_related("owner").order_by("pk")
    return [_as(project.owner.username, "project_proposals", project.pk) for project in owners]


def _phasing(world):
    proposal = _one(Proposal.objects.filter(project__kind=Project.Kind.PHASED).select_related("project__owner"))
    return [_as(proposal.project.owner.username, "phasing_offer", proposal.pk)]


def _confirm_email(world):
    user = user_create(email="new.person@example.com", username="newperson", password="a long pass phrase 1")
    key = EmailConfirmationHMAC(EmailAddress.objects.get(user=user)).key
    return [(None, reverse("account_confirm_email", args=[key]))]


def _reset_from_key(world):
    reza = User.objects.get(username="reza")
    uidb36, key = user_pk_to_url_str(reza), default_token_generator.make_token(reza)
    return [(None, reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key}))]


def _sandbox_bank(world):
    sara = User.objects.get(username="sara")
    _payment, url = payment_start(user=sara, amount=2_000_000, site_url=world["site"], next_url="/settings/payments/")
    return [("sara", url.removeprefix(world["site"]))]


PAGES = {
    "home": lambda world: [(None, "/"), ("sara", "/"), ("reza", "/")],
    "set_language": ACTION,
    "live_events": FRAGMENT,  # the live stream (204 from Django; tests: proposals/tests/test_live.py)
    # allauth
    "account_login": lambda world: [(None, reverse("account_login"))],
    "account_logout": lambda world: [_as("sara", "account_logout")],
    "account_inactive": lambda world: [_as(None, "account_inactive")],
    "account_signup": lambda world: [_as(None, "account_signup")],
    "account_reauthenticate": lambda world: [_as("sara", "account_reauthenticate")],
    "account_email": lambda world: [_as("sara", "account_email")],
    "account_email_verification_sent": lambda world: [_as(None, "account_email_verification_sent")],
    "account_change_password": lambda world: [_as("sara", "account_change_password")],
    "account_set_password": REDIRECT,  # every account has a password: to Change password
    "account_reset_password": lambda world: [_as(None, "account_reset_password")],
    "account_confirm_login_code": REDIRECT,  # signing in by a code is off: to Log in
    "account_confirm_email": _confirm_email,
    "account_reset_password_from_key_done": lambda world: [_as(None, "account_reset_password_from_key_done")],
    "account_reset_password_from_key": _reset_from_key,
    "account_reset_password_done": lambda world: [_as(None, "account_reset_password_done")],
    "^admin/escrow/(?P<model>contract|dispute)/(?P<rest>.*)$": REDIRECT,
    # projects
    "project_list": lambda world: [*_everyone("project_list"), (None, reverse("project_list") + "?q=django")],
    "project_create": lambda world: [_as("sara", "project_create")],
    "project_detail": _projects,
    "project_edit": lambda world: [_as("sara", "project_edit", _open_project_of("sara").pk)],
    "project_status": ACTION,
    "project_attachment": FILE,
    "project_attachment_delete": ACTION,
    "my_activities": lambda world: [_as(who, "my_activities") for who in MEMBERS],
    "help": lambda world: [_as(None, "help")],
    "help_page": lambda world: [_as(None, "help_page", slug) for slug in HELP_PAGES],
    # accounts
    "freelancer_directory": lambda world: [
        *_everyone("freelancer_directory"),
        (None, reverse("freelancer_directory") + "?q=django&sort=rating"),
    ],
    "profile_edit": lambda world: [_as("reza", "profile_edit")],
    "profile_edit_tab": lambda world: [_as("reza", "profile_edit_tab", tab) for tab in TABS],
    "experience_delete": ACTION,
    "education_delete": ACTION,
    "portfolio_delete": ACTION,
    "profile_public": lambda world: [
        *(_as(None, "profile_public", who) for who in MEMBERS),
        _as("reza", "profile_public", "reza"),
    ],
    "profile_resume": FILE,
    # proposals and chat
    "project_proposals": _proposal_lists,
    "proposal_create": ACTION,
    "proposal_update": ACTION,
    "proposal_withdraw": ACTION,
    "proposal_review": ACTION,
    "project_chat": REDIRECT,  # the freelancer's conversation about a project
    "phasing_offer": _phasing,
    "phasing_answer": ACTION,
    "conversation_list": lambda world: [_as(who, "conversation_list") for who in MEMBERS],
    "conversation_detail": _conversations,
    "conversation_poll": FRAGMENT,
    "message_create": ACTION,
    "conversation_read": ACTION,
    "conversation_typing": ACTION,
    "message_attachment": FILE,
    # money
    "payment_settings": lambda world: [_as(who, "payment_settings") for who in MEMBERS],
    "top_up": ACTION,
    "withdraw": ACTION,
    "payment_callback": GATEWAY,
    "payment_webhook": ACTION,
    "sandbox_bank": _sandbox_bank,
    # reviews and the workspace
    "review_create": ACTION,
    "review_reply": ACTION,
    "workspace": _contracts,
    "workspace_fund": ACTION,
    "workspace_upload": ACTION,
    "workspace_dispute": ACTION,
    "workspace_revise": ACTION,
    "dispute_action": ACTION,
    "workspace_cancel_late": ACTION,
    "workspace_offer": ACTION,
    "offer_action": ACTION,
    "workspace_release_part": ACTION,
    "workspace_bonus": ACTION,
    "workspace_change": ACTION,
    "change_action": ACTION,
    "deliverable_download": FILE,
    "workspace_operate": ACTION,
    "proposal_select": ACTION,
    # notifications
    "notification_list": lambda world: [_as(who, "notification_list") for who in MEMBERS],
    "notification_open": ACTION,
    "notification_read_all": ACTION,
    "notification_settings": lambda world: [_as("sara", "notification_settings")],
    # job alerts
    "alert_list": lambda world: [_as(who, "alert_list") for who in MEMBERS],
    "saved_search_create": ACTION,
    "alert_settings": ACTION,
    "saved_search_update": ACTION,
    "saved_search_delete": ACTION,
    # invitations: Sara (an employer with open projects) inviting Reza; a visitor is sent to log in
    "invitation_send": lambda world: [_as("sara", "invitation_send", "reza")],
    "invitation_decline": ACTION,
}

# The admin's main pages, as staff see them: the index, the lists staff work from, and the case pages (a dispute,
# a contract, a payment, a withdrawal). The other lists are Django's own pages on the same stylesheet.
ADMIN_LISTS = (
    "workspace.dispute", "workspace.contract", "escrow.payment", "escrow.withdrawal", "escrow.payoutbatch",
    "escrow.transaction", "accounts.user", "projects.project", "projects.category",
)  # fmt: skip
ADMIN_CASES = ("workspace.dispute", "workspace.contract", "escrow.payment", "escrow.withdrawal")


def admin_pages() -> list:
    visits = [(STAFF, reverse("admin:index"))]
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        opts = model._meta
        if opts.label_lower in ADMIN_LISTS:
            visits.append((STAFF, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")))
        if opts.label_lower in ADMIN_CASES:
            row = model.objects.order_by("pk").first()
            if row is not None:
                visits.append((STAFF, reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])))
    return visits


def visits(world) -> list:
    """Every page of the walk, as (who, path), in URL order, the admin's last."""
    found = []
    for name in url_names():
        entry = PAGES[name]
        if callable(entry):
            found += entry(world)
    return found + admin_pages()
