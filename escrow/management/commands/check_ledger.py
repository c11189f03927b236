from django.core.management.base import BaseCommand, CommandError

from escrow.checks import ledger_check


class Command(BaseCommand):
    help = "Recompute every ledger invariant; print a summary; exit non-zero on any breach."

    def handle(self, *args, **options):
        report = ledger_check()
        self.stdout.write(
            f"{report.accounts} accounts, {report.transactions} transactions, {report.entries} entries checked."
        )
        if report.clean:
            self.stdout.write(self.style.SUCCESS("Ledger is consistent."))
            return
        for breach in report.breaches:
            self.stderr.write(self.style.ERROR(breach))
        raise CommandError(f"{len(report.breaches)} ledger breach(es).")
