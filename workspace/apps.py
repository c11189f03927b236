from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("Workspace")

    def ready(self):
        # escrow knows nothing above it; workspace tells it what a paid shortfall and the ledger check are for.
        from escrow.checks import register_check
        from escrow.models import Payment
        from escrow.signals import payment_credited
        from workspace.checks import escrow_matches_milestones
        from workspace.services.funding import fund_from_payment

        payment_credited.connect(fund_from_payment, sender=Payment, dispatch_uid="workspace.fund_from_payment")
        register_check(escrow_matches_milestones)
