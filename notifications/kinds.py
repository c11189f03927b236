"""What each kind of notification says, and how the e-mail settings group them.

A notification stores its kind and plain parameters (names, titles, amounts); the sentence is made here when it
is read, in the reader's language. A text may differ by the reader's side of the contract (`params["role"]`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from marketplace import l10n
from marketplace.templatetags.l10n_fa import money
from notifications.models import Notification

Kind = Notification.Kind


@dataclass(frozen=True)
class Spec:
    group: str
    text: object  # a lazy string, or {role: lazy string}


GROUPS = {
    "proposals": _("Proposals and messages"),
    "alerts": _("Job alerts"),
    "contracts": _("Contracts and phases"),
    "payments": _("Payments and withdrawals"),
    "disputes": _("Disputes"),
    "reviews": _("Reviews"),
}

SPECS: dict[str, Spec] = {
    Kind.PROPOSAL_NEW: Spec("proposals", _("%(name)s sent a proposal of %(amount)s on “%(project)s”.")),
    Kind.PROPOSAL_EDITED: Spec("proposals", _("%(name)s changed their proposal on “%(project)s”: now %(amount)s.")),
    Kind.MESSAGES_UNREAD: Spec("proposals", _("%(name)s wrote to you about “%(project)s”; the messages are unread.")),
    Kind.PROPOSAL_SELECTED: Spec(
        "proposals",
        _("%(name)s chose your proposal on “%(project)s”. You can accept the work once the upfront share is paid."),
    ),
    Kind.PROPOSAL_NOT_SELECTED: Spec("proposals", _("Another freelancer was chosen for “%(project)s”.")),
    Kind.INVITATION: Spec(
        "proposals", _("%(name)s invited you to send a proposal on “%(project)s”. Answer with a proposal or decline.")
    ),
    Kind.INVITATION_DECLINED: Spec("proposals", _("%(name)s declined your invitation to “%(project)s”. %(note)s")),
    Kind.WORK_ACCEPTED: Spec("contracts", _("%(name)s accepted the work on “%(project)s” and can start.")),
    Kind.WORK_DECLINED: Spec(
        "contracts",
        _("%(name)s declined the work on “%(project)s”. What you paid is back in your wallet; the project is open."),
    ),
    Kind.CONTRACT_CANCELLED: Spec(
        "contracts", _("%(name)s cancelled the contract on “%(project)s”, which was waiting for your answer.")
    ),
    Kind.PHASING_OFFERED: Spec(
        "contracts", _("%(name)s offered you a phasing of “%(project)s”, %(amount)s in all. Accept or reject it.")
    ),
    Kind.PHASING_REVISED: Spec(
        "contracts", _("%(name)s revised the phasing of “%(project)s”, now %(amount)s in all. Read the new version.")
    ),
    Kind.PHASING_ACCEPTED: Spec(
        "contracts", _("%(name)s accepted your phasing of “%(project)s”. Pay the first phase so the work can start.")
    ),
    Kind.PHASING_REJECTED: Spec("contracts", _("%(name)s rejected your phasing of “%(project)s”.")),
    Kind.PHASES_REASSIGNED: Spec(
        "contracts",
        _(
            "Phases %(phases)s of “%(project)s” were given to another freelancer; the rest of your contract is "
            "unchanged, and what you were paid stays yours."
        ),
    ),
    Kind.DELIVERED: Spec("contracts", _("%(name)s delivered %(work)s. Review it in the workspace.")),
    Kind.UPFRONT_PAID: Spec(
        "payments",
        _("%(name)s paid %(amount)s upfront into secure payment for “%(project)s”. Accept the work to start."),
    ),
    Kind.PHASE_FUNDED: Spec(
        "payments",
        _("%(name)s paid the phase %(work)s (%(amount)s): the contract is final, you may start."),
    ),
    Kind.REMAINDER_PAID: Spec("payments", _("%(name)s paid the rest, %(amount)s, into secure payment for %(work)s.")),
    Kind.RELEASED: Spec("payments", _("The payment for %(work)s is released: %(amount)s is in your wallet.")),
    Kind.AUTO_RELEASE_SOON: Spec(
        "payments",
        _(
            "The payment for %(work)s will be released to the freelancer on %(when)s, "
            "unless you approve the work or open a dispute before then."
        ),
    ),
    Kind.AUTO_RELEASED: Spec(
        "payments",
        {
            "freelancer": _("The review period of %(work)s ended: %(amount)s is released to your wallet."),
            "employer": _("The review period of %(work)s ended: the payment was released to the freelancer."),
        },
    ),
    Kind.WITHDRAWAL_PAID: Spec(
        "payments", _("Your withdrawal of %(amount)s is paid to your bank account. Bank reference: %(reference)s.")
    ),
    Kind.PAYMENT_CONFIRMED: Spec(
        "payments", _("The bank confirmed your payment of %(amount)s; it is added to your balance.")
    ),
    Kind.WITHDRAWAL_REJECTED: Spec(
        "payments", _("Your withdrawal of %(amount)s could not be paid and is back in your wallet. %(note)s")
    ),
    Kind.REMAINDER_DUE_SOON: Spec(
        "payments",
        _(
            "Pay the rest of %(work)s (%(amount)s) by %(when)s, or open a dispute; after that the freelancer may "
            "open a dispute for non-payment."
        ),
    ),
    Kind.REMAINDER_LAPSED: Spec(
        "payments",
        {
            "freelancer": _(
                "The employer did not pay the rest of %(work)s (%(amount)s) in time. You may open a dispute for "
                "non-payment in the workspace."
            ),
            "employer": _(
                "The time to pay the rest of %(work)s (%(amount)s) ran out; the freelancer may now open a dispute "
                "for non-payment. You can still pay it."
            ),
        },
    ),
    Kind.PARTIAL_RELEASED: Spec(
        "payments", _("%(name)s released part of %(work)s early: %(amount)s is in your wallet.")
    ),
    Kind.BONUS_PAID: Spec("payments", _("%(name)s paid you a bonus on “%(project)s”: %(amount)s is in your wallet.")),
    Kind.CHANGE_PROPOSED: Spec(
        "contracts", _("%(name)s proposes a change to the contract on “%(project)s”. Accept or decline it.")
    ),
    Kind.CHANGE_ACCEPTED: Spec("contracts", _("%(name)s accepted your change to “%(project)s”; it applies now.")),
    Kind.CHANGE_DECLINED: Spec("contracts", _("%(name)s declined your change to “%(project)s”.")),
    Kind.CHANGES_REQUESTED: Spec(
        "contracts", _("%(name)s asks for changes to %(work)s: %(note)s Upload the new version, then mark it done.")
    ),
    Kind.DISPUTE_OPENED: Spec(
        "disputes",
        _(
            "%(name)s opened a dispute on %(work)s. Answer it in the workspace by %(when)s; without an answer, "
            "their claim stands."
        ),
    ),
    Kind.DISPUTE_ANSWERED: Spec(
        "disputes",
        _(
            "%(name)s answered the dispute on %(work)s. Settle it by an offer before %(when)s, or it goes to "
            "the platform."
        ),
    ),
    Kind.DISPUTE_DEADLINE_ESCALATED: Spec(
        "disputes",
        _(
            "The negotiation on %(work)s ended without an agreement: the dispute is with the platform, and our team "
            "will decide."
        ),
    ),
    Kind.DISPUTE_ANSWER_SOON: Spec(
        "disputes",
        _("Answer the dispute on %(work)s by %(when)s; without an answer, the other side's claim stands."),
    ),
    Kind.NEGOTIATION_ENDS_SOON: Spec(
        "disputes",
        _("The negotiation on %(work)s ends on %(when)s; without an agreement, the platform will decide."),
    ),
    Kind.DISPUTE_DEFAULTED: Spec(
        "disputes",
        _(
            "The dispute on %(work)s was not answered in time and is decided by its deadline: %(amount)s to the "
            "freelancer, the rest of the secure payment back to the employer."
        ),
    ),
    Kind.DISPUTE_WITHDRAWN: Spec("disputes", _("%(name)s withdrew the dispute on %(work)s; the work goes on.")),
    Kind.OFFER_MADE: Spec(
        "disputes",
        _(
            "%(name)s offers to settle %(work)s: %(amount)s to the freelancer, the rest back to the employer. "
            "Accept, decline or make a counter-offer in the workspace."
        ),
    ),
    Kind.OFFER_ACCEPTED: Spec(
        "disputes",
        _("The offer on %(work)s is accepted and carried out: %(amount)s to the freelancer, the rest to the employer."),
    ),
    Kind.OFFER_DECLINED: Spec("disputes", _("%(name)s declined your offer on %(work)s.")),
    Kind.DISPUTE_ESCALATED: Spec(
        "disputes", _("%(name)s sent the dispute on “%(project)s” to the platform; our team will decide.")
    ),
    Kind.DISPUTE_RESOLVED: Spec(
        "disputes", _("The platform settled the dispute on “%(project)s”. The outcome is in the workspace.")
    ),
    Kind.REVIEW_PUBLISHED: Spec(
        "reviews", _("%(name)s's review of you on “%(project)s” is published: %(rating)s out of 5.")
    ),
    Kind.JOB_ALERT: Spec(
        "alerts", _("A new project matches your job alerts: “%(project)s”, with a budget of up to %(amount)s.")
    ),
}


class _Params(dict):
    """The parameters as the sentence shows them; a missing one reads as empty rather than failing."""

    def __missing__(self, key):
        return ""


def _amount(params: dict) -> str:
    try:
        return money(Money(Decimal(params["amount"]), params.get("currency") or "IRT"))
    except (KeyError, InvalidOperation, TypeError, ValueError):
        return ""


def _when(value) -> str:
    try:
        return l10n.format_date(datetime.fromisoformat(value), with_time=True)
    except (TypeError, ValueError):
        return ""


# What people wrote (names, titles, notes) keeps its own direction inside the sentence; a bank reference is a code,
# read left to right.
VERBATIM = ("name", "project", "phase", "note")
CODES = ("reference",)


def describe(kind: str, params: dict, *, html: bool = False) -> str:
    """The sentence of a notification in the active language. With `html`, it is escaped and each thing people
    wrote, each amount and date is isolated in <bdi> (a code in <bdi dir="ltr">), so a Persian title reads right in
    an English sentence and the other way round."""
    spec = SPECS.get(kind)
    if spec is None:
        return ""
    text = spec.text
    if isinstance(text, dict):
        text = text.get(params.get("role"), next(iter(text.values())))

    plain = (lambda value: escape(str(value))) if html else str

    def own(value) -> str:
        return format_html("<bdi>{}</bdi>", value) if html else str(value)

    def code(value) -> str:
        return format_html('<bdi dir="ltr">{}</bdi>', value) if html else str(value)

    shown = _Params({key: plain(l10n.localize_digits(str(value))) for key, value in params.items()})
    shown.update({key: own(params[key]) for key in VERBATIM if key in params})
    shown.update({key: code(params[key]) for key in CODES if key in params})
    amount, when = _amount(params), _when(params.get("when"))
    shown.update(amount=own(amount) if amount else "", when=own(when) if when else "")
    phase, project = params.get("phase", ""), params.get("project", "")
    if phase and phase != project:
        shown["work"] = plain(_("“%(phase)s” of “%(project)s”")) % {"phase": own(phase), "project": own(project)}
    else:
        shown["work"] = plain(_("“%(project)s”")) % {"project": own(project)}
    sentence = plain(text) % shown
    return mark_safe(sentence) if html else sentence  # noqa: S308 — with html, every part is escaped above


def grouped_kinds() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds for the settings page: [(group label, [(kind, label), …]), …]."""
    groups: dict[str, list[tuple[str, str]]] = {key: [] for key in GROUPS}
    for kind in Kind:
        groups[SPECS[kind].group].append((kind.value, kind.label))
    return [(GROUPS[key], kinds) for key, kinds in groups.items()]
