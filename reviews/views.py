from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError, NotAllowed
from reviews.forms import EmployerReviewForm, FreelancerReviewForm, ReplyForm
from reviews.models import Review
from reviews.services import review_reply, review_submit
from workspace.models import Contract


@login_required
@require_POST
def review_create(request, pk: int):
    contract = get_object_or_404(Contract, pk=pk)
    party = contract.party(request.user)
    if party is None:
        raise PermissionDenied
    form = (FreelancerReviewForm if party == "employer" else EmployerReviewForm)(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("workspace", pk=pk)
    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        review = review_submit(contract=contract, by=request.user, rating=data.pop("rating"), **data)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if review.published_at:
            messages.success(request, _("Both reviews are written and now published."))
        else:
            messages.success(
                request,
                _(
                    "Your review is saved. It is published when the other side has written theirs, or when the review period ends."  # noqa: E501
                ),
            )
    return redirect("workspace", pk=pk)


@login_required
@require_POST
def reply_create(request, pk: int):
    review = get_object_or_404(Review, pk=pk)
    form = ReplyForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Write your reply."))
        review_reply(review=review, by=request.user, text=form.cleaned_data["text"])
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your reply is published."))
    return redirect("profile_public", username=review.subject.username)
