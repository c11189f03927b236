from django.core.management.base import BaseCommand

from workspace.services.clocks import enforce_deadlines


class Command(BaseCommand):
    help = (
        "Enforce every contract deadline now (the beat task, by hand): releases whose review time is up, the "
        "remainder clock's warnings and lapses, and the stages of disputes. Safe to run at any time and repeatedly."
    )

    def handle(self, *args, **options):
        done = enforce_deadlines()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in done.items()))
