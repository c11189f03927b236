"""Demo accounts for a fresh machine. Idempotent: running it again changes nothing and prints the same list."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 — demo data for local machines only; printed on purpose

DEMO_USERS = [
    # email, username, display name, language, staff, bio
    ("admin@example.com", "admin", "Site admin", "en", True, ""),
    ("sara@example.com", "sara", "سارا احمدی", "fa", False, "کارفرما، مدیر محصول یک استارتاپ آموزشی."),
    ("david@example.com", "david", "David Miller", "en", False, "Employer: runs a small online shop."),
    ("reza@example.com", "reza", "رضا کریمی", "fa", False, "توسعه‌دهنده جنگو و پایتون با هشت سال تجربه."),
    ("mina@example.com", "mina", "مینا رضایی", "fa", False, "طراح رابط و تجربه کاربری، مترجم انگلیسی به فارسی."),
    ("alex@example.com", "alex", "Alex Chen", "en", False, "Full-stack developer and technical writer."),
]


class Command(BaseCommand):
    help = "Create the demo accounts (employers, freelancers and one staff account) if they do not exist."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for email, username, name, language, staff, bio in DEMO_USERS:
            if User.objects.filter(email__iexact=email).exists():
                continue
            user_create(
                email=email,
                username=username,
                password=DEMO_PASSWORD,
                display_name=name,
                bio=bio,
                language=language,
                is_staff=staff,
                email_verified=True,
            )
            created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} accounts created)."))
        self.stdout.write(f"Every demo account's password: {DEMO_PASSWORD}")
        for email, username, _name, _language, staff, _bio in DEMO_USERS:
            role = "staff, /admin/" if staff else "employer and freelancer"
            self.stdout.write(f"  {email:<22} {username:<8} ({role})")
