from django.core.management.base import BaseCommand

from escrow.reconciliation import payments_reconcile


class Command(BaseCommand):
    help = (
        "Ask the gateways about payments nobody came back for and credit the paid ones once, expire the unpaid, "
        "and report disagreements to staff (the beat task, by hand)."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(payments_reconcile()))
