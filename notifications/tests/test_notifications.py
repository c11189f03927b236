"""Notifications: one per event of the earlier issues, written with the event, e-mailed unless turned off."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.ledger import post_deposit
from escrow.services import withdrawal_mark_paid, withdrawal_reject, withdrawal_request
from marketplace.testing import run_in_threads
from notifications.kinds import SPECS
from notifications.models import EmailPreference, Notification, OutgoingEmail
from notifications.services import email_preferences_save, notify
from projects.models import Project
from projects.tests.factories import make_project
from proposals.services import message_send, proposal_edit, unread_digest_send
from proposals.tests.factories import make_proposal
from reviews.services import review_submit, reviews_publish_due
from workspace.models import Milestone
from workspace.services import choosing, delivery, disputes, funding
from workspace.services.phasing import PhaseInput, phasing_offer_accept, phasing_offer_reject, phasing_offer_send
from workspace.tests.factories import contract_in, zip_file

K = Notification.Kind
M = Decimal(1_000_000)


def kinds_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("created_at", "pk").values_list("kind", flat=True))


def mailed_to(user) -> int:
    return sum(user.email in email.to for email in OutgoingEmail.objects.all())


def _staff():
    staff = UserFactory()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    return staff


# A 1,000,000-toman proposal on "Rug shop", the employer with 2,000,000 in the wallet.
RUG_SHOP = {"title": "Rug shop", "amount": "1000000", "wallet": "2000000"}


@pytest.fixture
def bid(db):
    """A 1,000,000-toman proposal on the employer's "Rug shop", not chosen yet."""
    return make_proposal(project=make_project(title="Rug shop"), amount="1000000")


# --- the service ---------------------------------------------------------------------------------------


def test_a_notification_and_its_email_exist_only_if_the_event_commits(db):
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify([user], K.PROPOSAL_NEW, project="Rug shop", amount="1000000", currency="IRT")
        raise RuntimeError("the event failed")
    assert Notification.objects.count() == 0
    assert OutgoingEmail.objects.count() == 0

    notify([user], K.PROPOSAL_NEW, project="Rug shop", amount="1000000", currency="IRT")
    assert kinds_of(user) == [K.PROPOSAL_NEW]
    assert mailed_to(user) == 1


def test_a_kind_turned_off_reaches_the_centre_but_not_the_inbox(db):
    muted, other = UserFactory(), UserFactory()
    email_preferences_save(user=muted, muted=[K.PROPOSAL_NEW, "no-such-kind"])
    assert EmailPreference.objects.get(user=muted).muted == [K.PROPOSAL_NEW]

    notify([muted, other], K.PROPOSAL_NEW, project="Rug shop", amount="5", currency="IRT")
    notify([muted], K.PROPOSAL_EDITED, project="Rug shop", amount="6", currency="IRT")
    assert kinds_of(muted) == [K.PROPOSAL_NEW, K.PROPOSAL_EDITED]
    assert mailed_to(muted) == 1  # only the edit
    assert mailed_to(other) == 1


def test_the_email_is_in_the_recipients_language_and_the_centre_in_the_readers(db):
    persian, english = UserFactory(), UserFactory()
    persian.language, english.language = "fa", "en"
    persian.save(update_fields=["language"])
    english.save(update_fields=["language"])
    actor = UserFactory()
    Profile.objects.filter(user=actor).update(display_name="Sara")
    actor.refresh_from_db()

    notify([persian, english], K.PROPOSAL_NEW, actor=actor, project="Rug shop", amount="1250000", currency="IRT")
    fa_mail = OutgoingEmail.objects.get(to=[persian.email])
    en_mail = OutgoingEmail.objects.get(to=[english.email])
    assert fa_mail.subject == "پیشنهاد جدید: Rug shop"
    assert "Sara برای «Rug shop» پیشنهادی به مبلغ ۱٬۲۵۰٬۰۰۰ تومان فرستاد." in fa_mail.body
    assert en_mail.subject == "New proposal: Rug shop"
    assert "Sara sent a proposal of 1,250,000 toman on “Rug shop”." in en_mail.body
    assert "/notifications/settings/" in en_mail.body

    notification = Notification.objects.get(recipient=persian)
    with translation.override("en"):
        assert notification.text == "Sara sent a proposal of 1,250,000 toman on “Rug shop”."


def test_every_kind_has_a_sentence_in_both_languages_showing_each_detail_it_names(db):
    """Each placeholder a sentence names (in English and in its Persian translation) shows its value."""
    params = {"name": "Sara", "project": "Rug shop", "phase": "Design", "amount": "500000", "currency": "IRT",
              "rating": "3", "when": "2026-11-22T10:00:00+00:00", "reference": "B-1", "note": "Closed",
              "phases": "2. Build"}  # fmt: skip
    shown = {
        "en": {"name": "Sara", "project": "Rug shop", "amount": "500,000 toman", "rating": "3", "reference": "B-1",
               "note": "Closed", "work": "“Design” of “Rug shop”", "when": "2026", "phases": "2. Build"},
        "fa": {"name": "Sara", "project": "Rug shop", "amount": "۵۰۰٬۰۰۰ تومان", "rating": "۳", "reference": "B-1",
               "note": "Closed", "work": "«Design» از «Rug shop»", "when": "۱۴۰۵", "phases": "۲. Build"},
    }  # fmt: skip
    for kind in K:
        texts = SPECS[kind].text if isinstance(SPECS[kind].text, dict) else {"": SPECS[kind].text}
        for role, template in texts.items():
            with translation.override("en"):
                named = set(re.findall(r"%\((\w+)\)s", str(template)))
            for language in ("en", "fa"):
                with translation.override(language):
                    assert set(re.findall(r"%\((\w+)\)s", str(template))) == named, (kind, language)
                    text = Notification(kind=kind, params={**params, "role": role}).text
                for key in named:
                    assert shown[language][key] in text, (kind, role, language, key, text)


# --- every event sends one ------------------------------------------------------------------------------


def test_the_single_delivery_story_notifies_each_side_of_each_step(bid):
    employer, freelancer, project = bid.project.owner, bid.freelancer, bid.project
    Profile.objects.filter(user=freelancer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="F")
    proposal_edit(proposal=bid, by=freelancer, amount=Decimal(1_000_000), delivery_days=9,
                  cover_letter="Now in nine days.")  # fmt: skip
    conversation = project.conversations.get()
    message_send(conversation=conversation, sender=employer, body="Can you start on Monday?")
    unread_digest_send(now=timezone.now() + timedelta(minutes=11))
    deal = contract_in("review", proposal=bid, wallet="2000000")  # chosen, accepted, delivered and paid in full
    contract, milestone = deal.contract, deal.milestone
    assert delivery.warn_before_auto_release(now=milestone.auto_release_at - timedelta(hours=1)) == 1
    assert delivery.warn_before_auto_release(now=milestone.auto_release_at - timedelta(minutes=30)) == 0
    delivery.milestone_approve(milestone=milestone, by=employer)
    contract.refresh_from_db()
    review_submit(contract=contract, by=employer, rating=5, comment="Great work", quality=5)
    assert Notification.objects.filter(kind=K.REVIEW_PUBLISHED).count() == 0  # blind until both have written
    review_submit(contract=contract, by=freelancer, rating=4, comment="Clear brief")
    staff = _staff()
    withdrawal_mark_paid(withdrawal=withdrawal_request(user=freelancer, amount=900_000), by=staff, bank_reference="B7")

    assert kinds_of(employer) == [
        K.PROPOSAL_NEW, K.PROPOSAL_EDITED, K.WORK_ACCEPTED, K.DELIVERED, K.AUTO_RELEASE_SOON, K.REVIEW_PUBLISHED
    ]  # fmt: skip
    assert kinds_of(freelancer) == [
        K.MESSAGES_UNREAD, K.PROPOSAL_SELECTED, K.UPFRONT_PAID, K.REMAINDER_PAID, K.RELEASED, K.REVIEW_PUBLISHED,
        K.WITHDRAWAL_PAID,
    ]  # fmt: skip
    # One e-mail per notification; the unread messages come as the digest e-mail.
    assert mailed_to(freelancer) == 7
    assert mailed_to(employer) == 6

    with translation.override("en"):
        texts = {n.kind: n.text for n in Notification.objects.filter(recipient=freelancer)}
    assert texts[K.UPFRONT_PAID].endswith(
        "paid 500,000 toman upfront into secure payment for “Rug shop”. Accept the work to start."
    )
    assert texts[K.RELEASED] == "The payment for “Rug shop” is released: 900,000 toman is in your wallet."
    assert texts[K.REVIEW_PUBLISHED].endswith("review of you on “Rug shop” is published: 5 out of 5.")
    assert texts[K.WITHDRAWAL_PAID] == (
        "Your withdrawal of 900,000 toman is paid to your bank account. Bank reference: B7."
    )
    links = dict(Notification.objects.filter(recipient=freelancer).values_list("kind", "url"))
    assert links[K.RELEASED] == f"/workspace/{contract.pk}/"
    assert links[K.REVIEW_PUBLISHED] == f"/u/{freelancer.username}/#feedback"


def test_declining_and_cancelling_tell_the_other_side(db):
    deal = contract_in("awaiting", **RUG_SHOP)  # the guarantee paid, no answer yet
    choosing.contract_decline(contract=deal.contract, by=deal.freelancer)
    assert kinds_of(deal.employer)[-1] == K.WORK_DECLINED

    Project.objects.filter(pk=deal.project.pk).update(status=Project.Status.OPEN)
    second = make_proposal(project=deal.project, amount="800000")
    contract = contract_in("unpaid", proposal=second).contract
    choosing.contract_cancel_unanswered(contract=contract, by=deal.employer, now=timezone.now() + timedelta(days=4))
    assert kinds_of(second.freelancer) == [K.PROPOSAL_SELECTED, K.CONTRACT_CANCELLED]


def test_the_clock_releases_and_tells_both_sides(db):
    deal = contract_in("review", **RUG_SHOP)
    assert delivery.release_due_escrow(now=deal.milestone.auto_release_at + timedelta(seconds=1)) == 1
    assert kinds_of(deal.employer)[-1] == K.AUTO_RELEASED
    assert kinds_of(deal.freelancer)[-1] == K.AUTO_RELEASED
    with translation.override("en"):
        employer_text = Notification.objects.get(recipient=deal.employer, kind=K.AUTO_RELEASED).text
        freelancer_text = Notification.objects.get(recipient=deal.freelancer, kind=K.AUTO_RELEASED).text
    assert employer_text.endswith("the payment was released to the freelancer.")
    assert freelancer_text.endswith("900,000 toman is released to your wallet.")


def test_the_release_warning_is_sent_once_per_delivery_and_not_during_a_dispute(db):
    deal = contract_in("review", **RUG_SHOP)
    milestone = deal.milestone
    too_early = milestone.auto_release_at - timedelta(hours=7)
    assert delivery.warn_before_auto_release(now=too_early) == 0
    soon = milestone.auto_release_at - timedelta(hours=5)
    assert delivery.warn_before_auto_release(now=soon) == 1
    assert delivery.warn_before_auto_release(now=soon) == 0

    # A dispute stops the clock; a fixed delivery starts a new one, which is warned about again.
    dispute = disputes.dispute_open(milestone=milestone, by=deal.employer, reason="quality", description="Fix it")
    delivery.deliverable_upload(milestone=milestone, by=deal.freelancer, upload=zip_file())
    disputes.dispute_answer(dispute=dispute, by=deal.freelancer, message="Fixed")
    assert delivery.warn_before_auto_release(now=soon) == 0  # still disputed: no clock
    Milestone.objects.filter(pk=milestone.pk).update(
        status=Milestone.Status.DELIVERED, auto_release_at=timezone.now() + timedelta(hours=2)
    )
    dispute.status = dispute.Status.RESOLVED
    dispute.save(update_fields=["status"])
    assert delivery.warn_before_auto_release() == 1
    assert kinds_of(deal.employer).count(K.AUTO_RELEASE_SOON) == 2


def test_each_step_of_a_dispute_tells_the_other_side_and_staff_hear_of_escalations(db):
    staff = _staff()
    deal = contract_in("review", **RUG_SHOP)
    employer, freelancer = deal.employer, deal.freelancer
    dispute = disputes.dispute_open(milestone=deal.milestone, by=employer, reason="quality", description="Fix it")
    disputes.dispute_answer(dispute=dispute, by=freelancer, message="Fixed the header")
    disputes.dispute_escalate(dispute=dispute, by=employer, note="Still broken")
    disputes.dispute_resolve(dispute=dispute, by=staff, outcome="split", to_freelancer=Decimal(400_000))

    assert kinds_of(freelancer)[-3:] == [K.DISPUTE_OPENED, K.DISPUTE_ESCALATED, K.DISPUTE_RESOLVED]
    assert kinds_of(employer)[-2:] == [K.DISPUTE_ANSWERED, K.DISPUTE_RESOLVED]
    escalated = Notification.objects.get(recipient=staff, kind=K.DISPUTE_ESCALATED)
    assert escalated.url == f"/admin/workspace/dispute/{dispute.pk}/change/"


def test_phasing_offers_answers_and_payments_reach_the_other_side(db):
    project = make_project(title="Online class app", kind=Project.Kind.PHASED)
    proposal, other = make_proposal(project=project, amount="20000000"), make_proposal(project=project)
    employer, freelancer = project.owner, proposal.freelancer
    post_deposit(user=employer, amount=30 * M, currency="IRT", gateway="sandbox", key="seed")
    due = timezone.localdate() + timedelta(days=10)
    phases = [PhaseInput(title="Feasibility", amount=5 * M, due_date=due),
              PhaseInput(title="Build", amount=15 * M, due_date=due + timedelta(days=30))]  # fmt: skip
    phasing_offer_send(proposal=proposal, by=employer, phases=phases)
    offer = phasing_offer_send(proposal=proposal, by=employer, phases=phases[:1])
    rejected = phasing_offer_send(proposal=other, by=employer, phases=phases)
    phasing_offer_reject(offer=rejected, by=other.freelancer)
    contract = phasing_offer_accept(offer=offer, by=freelancer, version=offer.version)
    funding.milestone_fund_next(milestone=contract.milestones.get(), by=employer)

    assert kinds_of(freelancer) == [K.PHASING_OFFERED, K.PHASING_REVISED, K.PHASE_FUNDED]
    assert kinds_of(employer) == [K.PROPOSAL_NEW, K.PROPOSAL_NEW, K.PHASING_REJECTED, K.PHASING_ACCEPTED]
    with translation.override("en"):
        funded = Notification.objects.get(recipient=freelancer, kind=K.PHASE_FUNDED).text
        revised = Notification.objects.get(recipient=freelancer, kind=K.PHASING_REVISED).text
    assert "paid the phase “Feasibility” of “Online class app” (5,000,000 toman)" in funded
    assert "now 5,000,000 toman in all" in revised


def test_a_returned_withdrawal_says_why(db):
    user, staff = UserFactory(), _staff()
    Profile.objects.filter(user=user).update(bank_sheba="IR820540102680020817909002", bank_account_holder="U")
    post_deposit(user=user, amount=M, currency="IRT", gateway="sandbox", key="w")
    withdrawal = withdrawal_request(user=user, amount=M)
    withdrawal_reject(withdrawal=withdrawal, by=staff, note="The Sheba number is closed.")
    with translation.override("en"):
        text = Notification.objects.get(recipient=user, kind=K.WITHDRAWAL_REJECTED).text
    assert text == (
        "Your withdrawal of 1,000,000 toman could not be paid and is back in your wallet. The Sheba number is closed."
    )


def test_a_lone_review_is_published_with_its_notification_when_the_window_closes(db):
    deal = contract_in("completed", **RUG_SHOP)  # approved by the employer
    contract = deal.contract
    review_submit(contract=contract, by=deal.employer, rating=3)
    assert reviews_publish_due(now=contract.closed_at + timedelta(days=15)) == 1
    assert kinds_of(deal.freelancer)[-1] == K.REVIEW_PUBLISHED
    assert K.REVIEW_PUBLISHED not in kinds_of(deal.employer)


def test_a_notice_mail_goes_out_only_after_the_event_commits(bid, django_capture_on_commit_callbacks):
    employer = bid.project.owner
    employer.language = "en"
    employer.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        proposal_edit(proposal=bid, by=bid.freelancer, amount=Decimal(900_000), delivery_days=8,
                      cover_letter="Cheaper now.")  # fmt: skip
    assert [m.subject for m in mail.outbox] == ["Proposal edited: Rug shop"]
    assert OutgoingEmail.objects.get(subject="Proposal edited: Rug shop").status == OutgoingEmail.Status.SENT


# --- races (PostgreSQL, real threads) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_warning_sweeps_warn_once(require_postgres):
    deal = contract_in("review", **RUG_SHOP)
    soon = deal.milestone.auto_release_at - timedelta(hours=1)
    results = run_in_threads(2, lambda: delivery.warn_before_auto_release(now=soon))
    assert sorted(results) == [0, 1]
    assert kinds_of(deal.employer).count(K.AUTO_RELEASE_SOON) == 1
