"""Demo accounts, projects and contracts in every state for a fresh machine (it uses every app, so it lives in
marketplace, the project itself). Idempotent: running it again changes nothing and prints the same list."""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_set_skills, user_create
from escrow.ledger import post_deposit
from projects.models import Category, Project, Skill
from projects.services import project_create
from proposals.models import Conversation, Proposal
from proposals.services import message_send, proposal_submit
from reviews.services import review_submit
from workspace.services import funding
from workspace.services.phasing import PhaseInput, phasing_offer_accept, phasing_offer_send
from workspace.tests.factories import contract_in, phase_to

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


DEMO_SKILLS = {
    "reza": ["django", "python", "sql", "api-development"],
    "mina": ["ui-design", "figma", "english-to-persian-translation"],
    "alex": ["react", "node-js", "technical-writing"],
}

# owner, title, description, category, skills, budget (min, max), duration in days, kind
DEMO_PROJECTS = [
    (
        "sara",
        "طراحی و پیاده‌سازی فروشگاه اینترنتی فرش دستباف",
        "یک فروشگاه اینترنتی برای فروش فرش دستباف می‌خواهیم: فهرست محصولات با عکس، سبد خرید، پرداخت آنلاین "
        "و پنل مدیریت سفارش‌ها. طراحی باید واکنش‌گرا و راست‌چین باشد.",
        "web-development",
        ["django", "python", "sql"],
        (15_000_000, 25_000_000),
        45,
        "single",
    ),
    (
        "sara",
        "ترجمه کتابچه راهنمای نرم‌افزار آموزشی از انگلیسی به فارسی",
        "کتابچه راهنمای حدوداً ۴۰ صفحه‌ای نرم‌افزار آموزشی ما باید روان و دقیق به فارسی ترجمه شود. "
        "اصطلاحات فنی باید یکدست باشند.",
        "translation",
        ["english-to-persian-translation"],
        (3_000_000, 5_000_000),
        14,
        "single",
    ),
    (
        "sara",
        "امکان‌سنجی و پیاده‌سازی اپلیکیشن موبایل کلاس آنلاین",
        "پروژه در سه فاز: مطالعه امکان‌سنجی و طراحی اولیه، پیاده‌سازی نسخه اول اپلیکیشن، و انتشار و پشتیبانی. "
        "هر فاز پیش از شروع پرداخت امن می‌شود.",
        "mobile-development",
        ["flutter", "ui-design"],
        (18_000_000, 20_000_000),
        90,
        "phased",
    ),
    (
        "david",
        "Landing page redesign for an online tea shop",
        "We sell loose-leaf tea online and need a faster, cleaner landing page. Figma design first, then a "
        "responsive build. Must score well on Core Web Vitals.",
        "ui-ux-design",
        ["figma", "ui-design"],
        (4_000_000, 7_000_000),
        21,
        "single",
    ),
    (
        "david",
        "REST API for inventory sync between two stores",
        "Build a small REST API that keeps stock levels in sync between our Shopify store and our own Django "
        "back office. Clear documentation and tests are part of the job.",
        "web-development",
        ["django", "api-development", "python"],
        (9_000_000, 12_000_000),
        30,
        "single",
    ),
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
        projects_created = self._seed_projects()
        self._seed_proposals()
        self._seed_money()
        self._seed_contracts()
        self._seed_phased()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} accounts and {projects_created} projects created).")
        )
        self.stdout.write(f"Every demo account's password: {DEMO_PASSWORD}")
        for email, username, _name, _language, staff, _bio in DEMO_USERS:
            role = "staff, /admin/" if staff else "employer and freelancer"
            self.stdout.write(f"  {email:<22} {username:<8} ({role})")

    def _seed_projects(self) -> int:
        skills = {skill.slug: skill for skill in Skill.objects.all()}
        categories = {category.slug: category for category in Category.objects.all()}
        for username, slugs in DEMO_SKILLS.items():
            user = User.objects.get(username=username)
            if not user.profile.skills.exists():
                profile_set_skills(user=user, skills=[skills[slug] for slug in slugs if slug in skills])
        created = 0
        for username, title, description, category, skill_slugs, budget, days, kind in DEMO_PROJECTS:
            owner = User.objects.get(username=username)
            if Project.objects.filter(owner=owner, title=title).exists() or category not in categories:
                continue
            project_create(
                owner=owner,
                title=title,
                description=description,
                category=categories[category],
                skills=[skills[slug] for slug in skill_slugs if slug in skills],
                currency="IRT",
                budget_min=Decimal(budget[0]),
                budget_max=Decimal(budget[1]),
                duration_days=days,
                kind=kind,
                publish=True,
            )
            created += 1
        return created

    def _seed_proposals(self) -> None:
        """Two bids on Sara's rug shop, and a short chat, so proposals and messages have something to show."""
        project = Project.objects.filter(owner__username="sara", title__startswith="طراحی و پیاده‌سازی").first()
        if project is None or Proposal.objects.filter(project=project).exists():
            return
        bids = [
            ("reza", "18000000", 40, "سلام، پیش‌تر دو فروشگاه اینترنتی با جنگو ساخته‌ام. نمونه‌کارها در پروفایلم هست."),
            ("alex", "21000000", 35, "Hi! I build Django shops with Persian RTL themes; happy to show earlier work."),
        ]
        for username, amount, days, letter in bids:
            freelancer = User.objects.get(username=username)
            proposal_submit(
                project=project, freelancer=freelancer, amount=Decimal(amount), delivery_days=days, cover_letter=letter
            )
        conversation = Conversation.objects.get(project=project, freelancer__username="reza")
        message_send(conversation=conversation, sender=project.owner, body="سلام، درگاه پرداخت را هم پیاده می‌کنید؟")
        message_send(conversation=conversation, sender=conversation.freelancer, body="بله، زرین‌پال یا هر درگاه دیگری.")

    def _seed_money(self) -> None:
        """Demo balances, through the ledger like any top-up (idempotent by their keys)."""
        for username, amount in (("sara", 60_000_000), ("david", 40_000_000)):
            user = User.objects.get(username=username)
            post_deposit(user=user, amount=Decimal(amount), currency="IRT", gateway="sandbox", key=f"demo:{username}")

    def _seed_contracts(self) -> None:
        """One single-delivery contract in each state, walked there by contract_in (the real services and the
        ledger, as in the tests). The employers pay from their demo balances (wallet="0": no deposit of its own)."""
        states = [
            ("david", "mina", "Brand identity for a coffee roaster", "6000000", "awaiting"),
            ("sara", "alex", "پیاده‌سازی API پرداخت برای اپلیکیشن آموزشی", "9000000", "in_progress"),
            # Delivered and the rest paid: the employer's review time is running.
            ("david", "reza", "Django admin dashboard for orders", "7000000", "review"),
            ("sara", "mina", "ترجمه و بومی‌سازی رابط کاربری اپلیکیشن", "4000000", "disputed"),
            ("david", "alex", "Landing page copywriting", "3000000", "completed"),
        ]
        web = Category.objects.get(slug="web-development")
        for owner_name, freelancer_name, title, amount, state in states:
            owner = User.objects.get(username=owner_name)
            if Project.objects.filter(owner=owner, title=title).exists():
                continue
            deal = contract_in(
                state, employer=owner, freelancer=User.objects.get(username=freelancer_name), title=title,
                amount=amount, category=web, wallet="0", upload=self._zip(title),
            )  # fmt: skip
            if state == "completed":
                review_submit(
                    contract=deal.contract, by=deal.employer, rating=5, quality=5, communication=5, on_time=4,
                    comment="Sharp, persuasive copy delivered a day early. Would hire again.",
                )  # fmt: skip
                review_submit(
                    contract=deal.contract, by=deal.freelancer, rating=5, clarity=5, payment=5,
                    comment="Clear brief, quick answers and prompt payment.",
                )  # fmt: skip

    def _seed_phased(self) -> None:
        """Seed 002: Sara's class app split into three phases with Reza (phase 1 paid out, phase 2 in progress,
        a revision in the history), and David's MVP whose later phases went from Alex to Mina."""
        today = timezone.localdate()

        def phases(*rows):
            return [
                PhaseInput(title=title, amount=Decimal(millions) * 1_000_000, due_date=today + timedelta(days=days))
                for title, millions, days in rows
            ]

        def finish(milestone):
            """Paid, delivered and approved, by the contract's own employer and freelancer."""
            phase_to(milestone, "completed", upload=self._zip(milestone.title))

        project = Project.objects.filter(
            owner__username="sara", kind=Project.Kind.PHASED, contracts__isnull=True
        ).first()
        if project is not None and project.status == Project.Status.OPEN:
            sara, reza = project.owner, User.objects.get(username="reza")
            proposal = proposal_submit(
                project=project, freelancer=reza, amount=Decimal(20_000_000), delivery_days=90,
                cover_letter="این پروژه را در سه فاز پیشنهاد می‌کنم؛ در گفتگو جزئیات را هماهنگ کنیم.",
            )  # fmt: skip
            phasing_offer_send(
                proposal=proposal, by=sara,
                phases=phases(("امکان‌سنجی و مطالعه اولیه", 5, 20), ("پیاده‌سازی", 9, 60), ("انتشار و پشتیبانی", 5, 90)),
            )  # fmt: skip
            offer = phasing_offer_send(
                proposal=proposal, by=sara, note="مبلغ فاز دوم را مطابق گفتگو اصلاح کردم.",
                phases=phases(("امکان‌سنجی و مطالعه اولیه", 5, 20), ("پیاده‌سازی", 10, 60), ("انتشار و پشتیبانی", 5, 90)),
            )  # fmt: skip
            contract = phasing_offer_accept(offer=offer, by=reza, version=offer.version)
            one, two, _three = contract.milestones.order_by("position")
            finish(one)
            funding.milestone_fund_next(milestone=two, by=sara)

        david = User.objects.get(username="david")
        title = "Mobile app MVP in three phases"
        if not Project.objects.filter(owner=david, title=title).exists():
            alex, mina = User.objects.get(username="alex"), User.objects.get(username="mina")
            web = Category.objects.get(slug="mobile-development")
            project = project_create(
                owner=david, title=title, description="Design, build and launch a small booking app, phase by phase.",
                category=web, skills=list(web.skills.all()[:2]), currency="IRT", budget_min=Decimal(9_000_000),
                budget_max=Decimal(12_000_000), duration_days=120, kind=Project.Kind.PHASED, publish=True,
            )  # fmt: skip
            first = proposal_submit(
                project=project, freelancer=alex, amount=Decimal(10_000_000), delivery_days=100,
                cover_letter="Happy to do the design phase and then see how it goes.",
            )  # fmt: skip
            second = proposal_submit(
                project=project, freelancer=mina, amount=Decimal(8_000_000), delivery_days=80,
                cover_letter="I can build and launch the app after the design is done.",
            )  # fmt: skip
            offer = phasing_offer_send(
                proposal=first, by=david, phases=phases(("Design", 3, 15), ("Build", 5, 60), ("Launch", 2, 90))
            )
            contract = phasing_offer_accept(offer=offer, by=alex, version=1)
            design, build, launch = contract.milestones.order_by("position")
            finish(design)
            offer = phasing_offer_send(
                proposal=second, by=david, phases=phases(("Build", 5, 60), ("Launch", 2, 90)), replaces=[build, launch]
            )
            contract_two = phasing_offer_accept(offer=offer, by=mina, version=1)
            funding.milestone_fund_next(milestone=contract_two.milestones.order_by("position").first(), by=david)

    @staticmethod
    def _zip(title: str):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", f"{title}\n")
        return SimpleUploadedFile("delivery.zip", buffer.getvalue(), content_type="application/zip")
