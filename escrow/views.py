import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from escrow.forms import SandboxCardForm, TopUpForm, WithdrawalForm
from escrow.gateways import CallbackRejected, get_gateway
from escrow.models import Payment, SandboxBankTransaction
from escrow.selectors import movements_of, wallet_summary, withdrawals_of
from escrow.services import (
    EscrowError,
    InsufficientFunds,
    payment_callback,
    payment_start,
    payment_webhook,
    sandbox_bank_answer,
    withdrawal_request,
)
from marketplace.currency import totals_by_currency
from workspace.selectors import escrow_held

logger = logging.getLogger(__name__)


@login_required
def payment_settings(request):
    """The seeds' "Settings → Payment settings": the user's money at a glance (available, in escrow as employer,
    held in escrow for their work, awaiting payout), every movement, top-up and withdrawal. The escrow figures are
    each contract's workspace budget figure (workspace.selectors.escrow_held)."""
    page = Paginator(movements_of(user=request.user), 25).get_page(request.GET.get("page"))
    summary = wallet_summary(user=request.user)
    escrow = escrow_held(user=request.user)
    paid_in, held_for_me = escrow.as_employer, escrow.as_freelancer
    currency = summary["wallet"].currency
    return render(
        request,
        "escrow/payment_settings.html",
        {
            **summary,
            "paid_in": paid_in,
            "paid_in_totals": totals_by_currency((held.amount for held in paid_in), if_none_in=currency),
            "held_for_me": held_for_me,
            "held_for_me_totals": totals_by_currency((held.amount for held in held_for_me), if_none_in=currency),
            "page": page,
            "withdrawals": withdrawals_of(user=request.user)[:10],
            "top_up_form": TopUpForm(),
            "withdrawal_form": WithdrawalForm(),
            "has_bank_details": bool(request.user.profile.bank_sheba),
        },
    )


@login_required
@require_POST
def top_up(request):
    form = TopUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["amount"]))
        return redirect("payment_settings")
    try:
        _payment, url = payment_start(
            user=request.user, amount=form.cleaned_data["amount"], site_url=request.build_absolute_uri("/"),
            next_url=reverse("payment_settings"),
        )  # fmt: skip
    except (EscrowError, LookupError) as error:
        messages.error(request, getattr(error, "message", str(error)))
        return redirect("payment_settings")
    return redirect(url)


@login_required
@require_POST
def withdraw(request):
    form = WithdrawalForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["amount"]))
        return redirect("payment_settings")
    try:
        withdrawal_request(user=request.user, amount=form.cleaned_data["amount"])
    except InsufficientFunds:
        messages.error(request, _("You cannot withdraw more than your available balance."))
    except EscrowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your withdrawal request is registered. It is paid to your bank account soon."))
    return redirect("payment_settings")


@csrf_exempt  # the gateway's redirect carries no CSRF token; the gateway itself is asked before anything moves
@require_http_methods(["GET", "POST"])
def callback(request, gateway: str):
    params = request.POST if request.method == "POST" else request.GET
    try:
        payment = payment_callback(gateway_name=gateway, params=params)
    except (CallbackRejected, LookupError, KeyError):
        return render(request, "400.html", status=400)
    if payment.status == Payment.Status.PAID and getattr(payment, "outcome", "") != "credited":
        # A reload, the Back button, or the webhook was first: nothing was added by this visit.
        messages.info(request, _("This payment was already confirmed and added to your balance."))
    elif payment.status == Payment.Status.PAID:
        messages.success(request, _("Your payment is confirmed and added to your balance."))
    elif payment.status == Payment.Status.CANCELLED or payment.events.filter(event="cancelled_by_payer").exists():
        messages.warning(request, _("The payment was cancelled; nothing was charged."))
    elif payment.status == Payment.Status.PENDING:
        minutes = int(settings.PAYMENT_RECONCILE_AFTER.total_seconds() // 60)
        messages.info(
            request,
            _(
                "We are still checking your payment with the bank. If you paid, it is added to your balance "
                "within %(minutes)s minutes, and you are told."
            )
            % {"minutes": minutes},
        )
    else:
        messages.error(request, _("The bank did not confirm the payment; nothing was added."))
    target = payment.next_url if url_has_allowed_host_and_scheme(payment.next_url, allowed_hosts=None) else "/"
    return redirect(target or "payment_settings")


@csrf_exempt  # signed by the gateway (Stripe-Signature), checked before anything is read
@require_POST
def webhook(request, gateway: str):
    try:
        payment_webhook(
            gateway_name=gateway, payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except (CallbackRejected, LookupError) as error:
        logger.warning("Refused a %s webhook: %s", gateway, error)
        return HttpResponse(status=400)
    return HttpResponse(status=200)


@require_http_methods(["GET", "POST"])
def sandbox_bank(request, reference: str):
    """The sandbox gateway's "bank": shows the amount and pays or cancels, then calls back, signed."""
    if not settings.SANDBOX_GATEWAY_ENABLED:
        raise Http404
    record = SandboxBankTransaction.objects.filter(reference=reference).first()
    callback_url = request.GET.get("callback", "")
    if record is None or not url_has_allowed_host_and_scheme(callback_url, allowed_hosts={request.get_host()}):
        raise Http404
    form = SandboxCardForm(request.POST or None)
    if request.method == "POST" and record.status == SandboxBankTransaction.Status.PENDING:
        action = request.POST.get("action")
        if action == "pay" and form.is_valid():
            record = sandbox_bank_answer(record=record, paid=True, card_number=form.cleaned_data["card_number"])
        elif action == "cancel":
            record = sandbox_bank_answer(record=record, paid=False)
    if record.status != SandboxBankTransaction.Status.PENDING:
        query = get_gateway("sandbox").callback_query(
            reference=record.reference, amount=record.amount, status=record.status
        )
        return redirect(f"{callback_url}{'&' if '?' in callback_url else '?'}{query}")
    return render(request, "escrow/sandbox_bank.html", {"record": record, "form": form})
