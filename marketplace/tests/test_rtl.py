"""Right-to-left correctness: one digit script per page, and mixed-direction runs that lay out whole.

Which runs may show Latin digits on a Persian page (see marketplace/templatetags/l10n_fa.py): only codes shown as
typed and read left to right, marked `dir="ltr"` (file names, Sheba and card numbers, hashes, bank references,
user names, e-mail addresses). Everything the site writes (amounts, sizes, dates, counts) is in Persian digits.
What people typed is shown as typed, so the people and titles below are written without Latin digits.
"""

import io
import itertools
import random
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from PIL import Image

from accounts.services import portfolio_item_create, profile_set_bank_details, user_create
from accounts.tests.factories import PASSWORD
from escrow.services import withdrawal_mark_paid, withdrawal_request
from marketplace import l10n
from marketplace.testing import page_as
from marketplace.uploads import clean_image
from projects.models import Category, Project
from projects.services import project_create
from proposals.models import Conversation
from proposals.services import message_send
from workspace.tests.factories import contract_in, zip_file

SHEBA = "IR820540102680020817909002"
CARD = "6037997599999993"


# --- the size and isolation filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "english", "persian_number", "unit"),
    [
        (0, "0", "۰", "bytes"),
        (1, "1", "۱", "byte"),
        (593, "593", "۵۹۳", "bytes"),
        (1024, "1", "۱", "KB"),
        (20787, "20.3", "۲۰٫۳", "KB"),
        (5_872_000, "5.6", "۵٫۶", "MB"),
        (10 * 1024 * 1024, "10", "۱۰", "MB"),
        (3 * 1024**3, "3", "۳", "GB"),
    ],
)
def test_file_sizes_use_the_pages_digits_decimal_separator_and_unit_words(size, english, persian_number, unit):
    def expected(number):
        units = {"KB": lambda: gettext("%(size)s KB"), "MB": lambda: gettext("%(size)s MB"),
                 "GB": lambda: gettext("%(size)s GB")}  # fmt: skip
        label = units[unit]() if unit in units else ngettext("%(size)s byte", "%(size)s bytes", size)
        return (label % {"size": number}).replace(" ", "\u00a0")  # number and unit never part at a line break

    with translation.override("en"):
        assert l10n.format_file_size(size) == f"{english}\u00a0{unit}"
    with translation.override("fa"):
        persian = l10n.format_file_size(size)
        assert persian == expected(persian_number)
        assert not re.search(r"[0-9.]", persian)


def test_one_size_filter_and_isolating_filters_for_templates():
    template = Template(
        "{% load i18n %}{{ size|filesize }}|{% blocktranslate with amount=amount|number:0|bdi %}Pay {{ amount }}"
        "{% endblocktranslate %}|{{ name|bdi_ltr }}|{{ none|filesize }}"
    )
    context = {"size": 20787, "amount": 1250000, "name": "<b>work.zip</b>", "none": None}
    with translation.override("en"):
        assert template.render(Context(context)) == (
            '20.3\u00a0KB|Pay <bdi>1,250,000</bdi>|<bdi dir="ltr">&lt;b&gt;work.zip&lt;/b&gt;</bdi>|'
        )
    with translation.override("fa"):
        assert template.render(Context(context)).startswith(l10n.format_file_size(20787) + "|")


def test_upload_limits_are_named_in_the_readers_digits(settings):
    from django.core.exceptions import ValidationError

    from marketplace.uploads import clean_attachment, with_size_limit

    settings.UPLOAD_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    upload = SimpleUploadedFile("big.pdf", b"x" * (settings.UPLOAD_DOCUMENT_MAX_BYTES + 1))
    help_text = with_size_limit(gettext("The file is larger than %(size)s."), "UPLOAD_DOCUMENT_MAX_BYTES")
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            clean_attachment(upload)
        assert refused.value.messages == ["The file is larger than 10\u00a0MB."]
        assert str(help_text) == "The file is larger than 10\u00a0MB."
    with translation.override("fa"):
        with pytest.raises(ValidationError) as refused:
            clean_attachment(upload)
        assert "۱۰" in refused.value.messages[0]
        assert not re.search(r"[0-9]", refused.value.messages[0])
        assert "۱۰" in str(help_text)  # written when shown: the language of the reader, not of the import


# --- a marketplace with every kind of value on its pages ---------------------------------------------------


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "PNG")
    return SimpleUploadedFile("shot.png", buffer.getvalue(), content_type="image/png")


def _marketplace() -> dict:
    """Sara (employer) and Reza (freelancer), a completed contract with a delivered zip, a chat with an attachment,
    a paid withdrawal to Reza's Sheba number, a portfolio item, and another open project with an attachment."""
    sara = user_create(email="sara@example.com", username="sara", password=PASSWORD, display_name="سارا",
                       email_verified=True)  # fmt: skip
    reza = user_create(email="reza@example.com", username="reza", password=PASSWORD, display_name="رضا",
                       email_verified=True)  # fmt: skip
    staff = user_create(email="staff@example.com", username="staff", password=PASSWORD, is_staff=True)
    work = zip_file("work.zip", files={"index.html": random.Random(3).randbytes(20_700), "css/site.css": "body{}"})
    deal = contract_in("completed", employer=sara, freelancer=reza, title="فروشگاه فرش دستباف", amount="1250000",
                       upload=work)  # fmt: skip
    chat = Conversation.objects.get(project=deal.project, freelancer=reza)
    message_send(conversation=chat, sender=reza, body="نمونه طرح پیوست است",
                 attachment=SimpleUploadedFile("sample-v2.txt", b"x" * 593, content_type="text/plain"))  # fmt: skip
    profile_set_bank_details(user=reza, card_number=CARD, sheba=SHEBA, account_holder="رضا رضایی")
    withdrawal = withdrawal_request(user=reza, amount=Decimal("500000"))
    withdrawal_mark_paid(withdrawal=withdrawal, by=staff, bank_reference="B7")
    portfolio_item_create(user=reza, title="فروشگاه کتاب", description="طراحی و ساخت فروشگاه", link="",
                          images=[clean_image(_png())])  # fmt: skip
    category = Category.objects.order_by("position").first()
    logo = project_create(
        owner=sara, title="طراحی لوگو", description="لوگوی فروشگاه فرش، با رنگ‌های گرم و خوانا در اندازه کوچک.",
        category=category, skills=list(category.skills.all()[:2]), currency="IRT", budget_min=Decimal("800000"),
        budget_max=Decimal("1250000"), kind=Project.Kind.SINGLE, duration_days=10, publish=True,
        attachments=[SimpleUploadedFile("brief-v2.pdf", b"%PDF-" + b"x" * 5729, content_type="application/pdf")],
    )  # fmt: skip
    deliverable = deal.milestone.deliverables.get()
    return {
        "sara": sara, "reza": reza, "deal": deal, "chat": chat, "logo": logo, "deliverable": deliverable,
        "pages": [
            ("home", None, reverse("home")),
            ("project list", reza, reverse("project_list")),
            ("project with an attachment", reza, reverse("project_detail", args=[logo.pk])),
            ("project with a contract", sara, reverse("project_detail", args=[deal.project.pk])),
            ("proposals", sara, reverse("project_proposals", args=[deal.project.pk])),
            ("workspace, employer", sara, reverse("workspace", args=[deal.contract.pk])),
            ("workspace, freelancer", reza, reverse("workspace", args=[deal.contract.pk])),
            ("chat with an attachment", sara, reverse("conversation_detail", args=[chat.pk])),
            ("messages", sara, reverse("conversation_list")),
            ("payment settings with bank details", reza, reverse("payment_settings")),
            ("profile with portfolio", sara, reverse("profile_public", args=["reza"])),
            ("my activities", reza, reverse("my_activities") + "?tab=freelancer"),
            ("notifications, freelancer", reza, reverse("notification_list")),
            ("notifications, employer", sara, reverse("notification_list")),
        ],
    }  # fmt: skip


class _VisibleText(HTMLParser):
    """The text of a page as a reader sees it: no scripts, styles or attribute values. Runs inside an element
    marked dir="ltr" (codes shown as typed; not the page's own <html dir>) are collected apart from the rest."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []  # (tag, marked dir="ltr")
        self.text: list[str] = []
        self.ltr: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append((tag, tag != "html" and dict(attrs).get("dir") == "ltr"))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        if any(tag in self.HIDDEN for tag, _ in self.open):
            return
        (self.ltr if any(ltr for _, ltr in self.open) else self.text).append(data)


def _read(html: str) -> tuple[str, str]:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.text), " ".join(parser.ltr)


def _get(user, url: str, language: str):
    client = Client()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.django_db
def test_persian_pages_show_no_latin_digit_outside_codes_written_left_to_right():
    market = _marketplace()
    latin_found = {}
    for name, user, url in market["pages"]:
        text, codes = _read(_get(user, url, "fa"))
        assert re.search("[۰-۹]", text), name  # the page does show numbers, in Persian digits
        latin = [text[max(m.start() - 30, 0) : m.end() + 30] for m in re.finditer(r"[0-9]", text)]
        if latin:
            latin_found[name] = latin[:3]
        if name == "payment settings with bank details":
            assert SHEBA in codes and CARD in codes and "B7" in codes
    assert latin_found == {}


@pytest.mark.django_db
def test_the_same_pages_in_english_show_latin_digits_so_the_check_above_can_see_them():
    market = _marketplace()
    for name, user, url in market["pages"]:
        text, _ = _read(_get(user, url, "en"))
        assert re.search("[0-9]", text), name
        assert not re.search("[۰-۹]", text), name


@pytest.mark.django_db
def test_persian_sizes_amounts_and_codes_on_the_pages():
    market = _marketplace()
    pages = {name: _get(user, url, "fa") for name, user, url in market["pages"]}
    size = market["deliverable"].size
    with translation.override("fa"):
        deliverable_size, attachment_size = l10n.format_file_size(size), l10n.format_file_size(5734)
        chat_size = l10n.format_file_size(593)
    assert "٫" in deliverable_size and "٫" in attachment_size  # «٫», not a Latin point
    assert f'<bdi data-part="size">{deliverable_size}</bdi>' in pages["workspace, employer"]
    assert '<bdi dir="ltr" data-part="file-name">work.zip</bdi>' in pages["workspace, employer"]
    assert f'<bdi data-part="size">{attachment_size}</bdi>' in pages["project with an attachment"]
    assert f'<bdi data-part="size">{chat_size}</bdi>' in pages["chat with an attachment"]
    assert f'<bdi dir="ltr" data-part="sheba">{SHEBA}</bdi>' in pages["payment settings with bank details"]
    assert '<bdi dir="ltr">B7</bdi>' in pages["notifications, freelancer"]
    assert '<bdi class="nowrap" data-part="amount">۱٬۲۵۰٬۰۰۰ تومان</bdi>' in pages["project with an attachment"]


# --- the layout a reader sees, in a real browser ------------------------------------------------------------

# The box of characters start..end of the first text node of an element (its visible glyphs, wherever bidi put them).
BOX = """([selector, start, end]) => {
  const element = document.querySelector(selector);
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const node = walker.nextNode();
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, end);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  const box = range.getBoundingClientRect();
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom, lines: tops.size};
}"""
NUMBER = re.compile(r"[0-9۰-۹][0-9۰-۹٬٫.,]*")
PERSIAN_LETTER = re.compile(r"[\u0621-\u064a\u067e-\u06cc]")


def _box(page, selector: str, start: int = 0, end: int | None = None) -> dict:
    text = page.eval_on_selector(selector, "(element) => element.firstChild.textContent")
    box = page.evaluate(BOX, [selector, start, len(text) if end is None else end])
    assert box["lines"] == 1, f"{selector} is broken over {box['lines']} lines"
    return box


def _in_reading_order(boxes: list[dict], language: str) -> None:
    """Each part stands whole beside the next (or on a later line), in the page's reading direction, none
    overlapping another."""
    for before, after in itertools.pairwise(boxes):
        if after["top"] >= before["bottom"] - 1:
            continue
        if language == "fa":
            assert after["right"] <= before["left"] + 1, (before, after)
        else:
            assert after["left"] >= before["right"] - 1, (before, after)


def _number_beside_its_unit(page, selector: str) -> None:
    """A number and its unit ('۲۰٫۳ کیلوبایت', '1,250,000 toman'): side by side on one line, the number read first
    in the run's own direction (so to the right of a Persian unit), and its digits left to right."""
    text = page.eval_on_selector(selector, "(element) => element.firstChild.textContent")
    number = NUMBER.search(text)
    unit_start = number.end() + 1 if number.start() == 0 else 0
    unit_end = len(text) if number.start() == 0 else number.start() - 1
    number_box = _box(page, selector, number.start(), number.end())
    unit_box = _box(page, selector, unit_start, unit_end)
    assert abs(number_box["top"] - unit_box["top"]) < 4, text  # the same line
    number_first = number.start() == 0
    if bool(PERSIAN_LETTER.search(text[unit_start:unit_end])) == number_first:  # read right to left, number first
        assert 0 <= number_box["left"] - unit_box["right"] < 12, text
    else:
        assert 0 <= unit_box["left"] - number_box["right"] < 12, text
    first_digit = _box(page, selector, number.start(), number.start() + 1)
    last_digit = _box(page, selector, number.end() - 1, number.end())
    assert first_digit["left"] < last_digit["left"], f"the digits of {number.group()} are reversed"


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "fa"])
def test_mixed_direction_values_lay_out_in_reading_order(browser, site, language):
    market = _marketplace()
    employer = page_as(browser, site, market["sara"], language)
    freelancer = page_as(browser, site, market["reza"], language)

    # The deliverable line: version · file name · size · date, in the page's reading order, each part whole.
    employer.goto(site + reverse("workspace", args=[market["deal"].contract.pk]))
    head = "[data-testid=deliverable-head]"
    parts = [f"{head} [data-part={part}]" for part in ("version", "file-name", "size", "date")]
    _in_reading_order([_box(employer, part) for part in parts], language)
    _number_beside_its_unit(employer, f"{head} [data-part=size]")
    name = _box(employer, f"{head} [data-part=file-name]", 0, 4), _box(employer, f"{head} [data-part=file-name]", 4)
    assert name[0]["right"] <= name[1]["left"] + 1  # "work" then ".zip", left to right in either language
    sha = employer.locator(f"{head} ~ p [data-part=hash]")
    assert sha.inner_text() == market["deliverable"].sha256

    # An amount with its currency, and a file name in Latin letters inside the page's sentence.
    freelancer.goto(site + reverse("project_detail", args=[market["logo"].pk]))
    _number_beside_its_unit(freelancer, "[data-testid=budget-range] [data-part=amount]")
    attachment = "[data-testid=attachment]"
    _in_reading_order(
        [_box(freelancer, f"{attachment} [data-part={part}]") for part in ("file-name", "size")], language
    )
    _number_beside_its_unit(freelancer, f"{attachment} [data-part=size]")
    brief = [_box(freelancer, f"{attachment} [data-part=file-name]", *span) for span in ((0, 5), (5, 8), (8, 12))]
    assert brief[0]["right"] <= brief[1]["left"] + 1 and brief[1]["right"] <= brief[2]["left"] + 1  # brief -v2 .pdf

    # The chat's attachment, and a Sheba number that reads left to right, whole, beside the holder's name.
    employer.goto(site + reverse("conversation_detail", args=[market["chat"].pk]))
    _in_reading_order(
        [_box(employer, "[data-testid=attachment] [data-part=file-name]"), _box(employer, ".bubble [data-part=size]")],
        language,
    )
    freelancer.goto(site + reverse("payment_settings"))
    bank = "[data-testid=bank-account]"
    sheba = f"{bank} [data-part=sheba]"
    assert freelancer.locator(sheba).inner_text() == SHEBA
    pieces = [_box(freelancer, sheba, start, start + 2) for start in range(0, len(SHEBA), 2)]
    assert all(a["right"] <= b["left"] + 1 for a, b in itertools.pairwise(pieces)), "the Sheba reads LTR"
    label = freelancer.eval_on_selector(bank, "(element) => element.firstChild.textContent").rstrip(": ")
    _in_reading_order([_box(freelancer, bank, 0, len(label)), _box(freelancer, sheba)], language)
    _in_reading_order([_box(freelancer, sheba), _box(freelancer, f"{bank} [data-part=card]")], language)
