from django.core.management.base import BaseCommand

from workspace.services.delivery import release_due_escrow


class Command(BaseCommand):
    help = "Release the escrow of every delivered milestone whose review time is up (the beat task, by hand)."

    def handle(self, *args, **options):
        self.stdout.write(f"{release_due_escrow()} milestone(s) released.")
