"""Persian translations, kept as data so `make messages` + this script refill the catalogue.

.venv/bin/python scripts/fa_translations.py   # writes every msgstr it knows into locale/fa/.../django.po
"""

from pathlib import Path

import polib

FA = {
    # accounts
    "Permissions": "دسترسی‌ها",
    "Important dates": "تاریخ‌های مهم",
    "Users and profiles": "کاربران و پروفایل‌ها",
    "e-mail address": "نشانی ایمیل",
    "language": "زبان",
    "user": "کاربر",
    "users": "کاربران",
    "display name": "نام نمایشی",
    "avatar": "تصویر پروفایل",
    "short bio": "معرفی کوتاه",
    "created": "ایجاد",
    "updated": "به‌روزرسانی",
    "profile": "پروفایل",
    "profiles": "پروفایل‌ها",
    "Use 3 to 30 English letters, digits, dots, dashes or underscores, starting with a letter or digit.": "از ۳ تا ۳۰ حرف انگلیسی، رقم، نقطه، خط تیره یا زیرخط استفاده کنید و با حرف یا رقم شروع کنید.",
    # apps
    "Marketplace": "بازار کار",
    "Projects": "پروژه‌ها",
    "Proposals": "پیشنهادها",
    "Secure payment": "پرداخت امن",
    "Workspace": "میزکار",
    "Reviews": "نظرها و امتیازها",
    "Notifications": "اعلان‌ها",
    # l10n and money
    "%(time)s ago": "%(time)s پیش",
    "Persian": "فارسی",
    "English": "انگلیسی",
    "Hamkar": "همکار",
    "Toman": "تومان",
    "Rial": "ریال",
    "US dollar": "دلار آمریکا",
    "Euro": "یورو",
    "toman": "تومان",
    "rial": "ریال",
    "USD": "دلار",
    "EUR": "یورو",
    # admin
    "Hamkar administration": "مدیریت همکار",
    "Site administration": "مدیریت سایت",
    "to": "گیرنده",
    "Send the selected failed e-mails again": "ارسال دوباره ایمیل‌های ناموفق انتخاب‌شده",
    ("%(count)d e-mail queued again.", 0): "%(count)d ایمیل دوباره در صف ارسال قرار گرفت.",
    # outbox
    "Queued": "در صف ارسال",
    "Sent": "ارسال شد",
    "Failed": "ناموفق",
    "subject": "موضوع",
    "body": "متن",
    "HTML body": "متن HTML",
    "from": "فرستنده",
    "cc": "رونوشت",
    "bcc": "رونوشت پنهان",
    "reply to": "پاسخ به",
    "headers": "سرایندها",
    "status": "وضعیت",
    "attempts": "تعداد تلاش",
    "last error": "آخرین خطا",
    "next attempt": "تلاش بعدی",
    "sent": "زمان ارسال",
    "outgoing e-mail": "ایمیل خروجی",
    "outgoing e-mails": "ایمیل‌های خروجی",
    "No notifications": "اعلانی ندارید",
    "Proposals, messages and payments on your projects will be announced here.": "پیشنهادها، پیام‌ها و پرداخت‌های پروژه‌هایتان اینجا اعلام می‌شود.",
    # projects and menu
    "My activities": "فعالیت‌های من",
    "Employer": "کارفرما",
    "Freelancer": "مجری",
    "You have not posted a project yet": "هنوز پروژه‌ای ثبت نکرده‌اید",
    "Your projects and the proposals they receive will be listed here.": "پروژه‌های شما و پیشنهادهایی که دریافت می‌کنند اینجا فهرست می‌شوند.",
    "Post a project": "ایجاد پروژه",
    "You have not sent a proposal yet": "هنوز پیشنهادی ارسال نکرده‌اید",
    "Your proposals and contracts will be listed here.": "پیشنهادها و قراردادهای شما اینجا فهرست می‌شوند.",
    "Active projects": "پروژه‌های فعال",
    "Posting projects opens soon": "ایجاد پروژه به‌زودی فعال می‌شود",
    "You will describe the work, its skills and budget here, then receive proposals from freelancers.": "اینجا کار، مهارت‌های لازم و بودجه آن را شرح می‌دهید و سپس از مجریان پیشنهاد دریافت می‌کنید.",
    "Projects open for proposals.": "پروژه‌هایی که پیشنهاد می‌پذیرند.",
    "No open projects yet": "هنوز پروژه بازی وجود ندارد",
    "When employers publish projects, they are listed here.": "وقتی کارفرمایان پروژه منتشر کنند، اینجا فهرست می‌شود.",
    # error pages
    "Bad request": "درخواست نامعتبر",
    "The request could not be understood.": "درخواست قابل فهم نبود.",
    "Back to the home page": "بازگشت به صفحه اصلی",
    "Access denied": "دسترسی ممنوع",
    "You do not have permission to do this.": "اجازه انجام این کار را ندارید.",
    "This form has expired": "مهلت این فرم تمام شده است",
    "Please go back, reload the page and try again.": "لطفاً برگردید، صفحه را دوباره بارگذاری کنید و دوباره تلاش کنید.",
    "Page not found": "صفحه پیدا نشد",
    "The page you asked for does not exist or has moved.": "صفحه‌ای که خواستید وجود ندارد یا جابه‌جا شده است.",
    "Server error": "خطای سرور",
    "Something went wrong on our side": "مشکلی پیش آمد؛ ایراد از سمت ماست",
    "The error has been recorded. Please try again in a few minutes.": "این خطا ثبت شد. لطفاً چند دقیقه دیگر دوباره تلاش کنید.",
    # layout
    "Account settings": "تنظیمات حساب",
    "E-mail addresses": "نشانی‌های ایمیل",
    "Change password": "تغییر رمز عبور",
    "Skip to content": "رفتن به محتوا",
    "Help": "راهنما",
    "List of active projects": "لیست پروژه‌های فعال",
    "Guide to using the site": "راهنمای استفاده از سایت",
    "What is the work guarantee?": "ضمانت انجام کار چیست؟",
    "Menu": "منو",
    "Main": "اصلی",
    "Administration": "مدیریت سایت",
    "Log out": "خروج",
    "Log in": "ورود",
    "Sign up": "ثبت‌نام",
    "A freelance marketplace where the employer's money waits in secure payment until the work is done.": "بازار کار آزاد که در آن پول کارفرما تا پایان کار در پرداخت امن می‌ماند.",
    # home
    "Freelance projects with secure payment": "برون‌سپاری پروژه با پرداخت امن",
    "Get your project done by the right freelancer, with your money safe until it is.": "پروژه‌تان را به مجری مناسب بسپارید؛ پولتان تا انجام کار در امان است.",
    "Post a project, compare proposals, talk with freelancers, and pay into secure payment. The freelancer is "
    "paid when you approve the delivered work.": "پروژه ایجاد کنید، پیشنهادها را مقایسه کنید، با مجریان گفتگو کنید و مبلغ را پرداخت امن کنید. "
    "مجری وقتی پولش را می‌گیرد که کار تحویلی را تأیید کنید.",
    "Find work": "پیدا کردن کار",
    "of the agreed amount goes into secure payment before work starts": "از مبلغ توافق‌شده پیش از شروع کار پرداخت امن می‌شود",
    "days after delivery, the payment is released if the employer does not answer": "روز پس از تحویل، اگر کارفرما پاسخی ندهد، مبلغ خودکار آزاد می‌شود",
    "commission, taken only from paid work": "کارمزد، فقط از کارهای پرداخت‌شده",
    "How it works": "چطور کار می‌کند",
    "For employers": "برای کارفرمایان",
    "Post your project; proposals appear under My activities, Employer tab.": "پروژه‌تان را ایجاد کنید؛ پیشنهادها در «فعالیت‌های من»، سربرگ «کارفرما» نمایش داده می‌شوند.",
    "Chat with bidders and read their resume and portfolio before you choose.": "پیش از انتخاب، با پیشنهاددهندگان گفتگو کنید و رزومه و نمونه‌کارهایشان را ببینید.",
    "Choose a proposal and pay half of it into secure payment: the freelancer's guarantee that the work is funded.": "یک پیشنهاد را انتخاب کنید و نصف مبلغ آن را پرداخت امن کنید تا ضمانت شروع کار برای مجری باشد.",
    "When the files arrive in the workspace, pay the rest to download them, then release the payment or create a "
    "dispute.": "وقتی فایل‌ها در میزکار رسید، مابقی مبلغ را پرداخت امن کنید تا قابل دانلود شوند؛ سپس «انجام شد» را بزنید "
    "یا «ایجاد اختلاف» کنید.",
    "For freelancers": "برای مجریان",
    "Tick your skills under Edit profile, Skills.": "در «ویرایش پروفایل»، سربرگ «مهارت‌ها»، تخصص‌هایتان را تیک بزنید.",
    "Open a project from Active projects and send a proposal; you can edit it after talking with the employer.": "از «پروژه‌های فعال» پروژه‌ای را باز کنید و پیشنهاد بفرستید؛ پس از گفتگو با کارفرما می‌توانید آن را "
    "ویرایش کنید.",
    "When you are chosen, accept the work and start: the fee is already in secure payment.": "وقتی انتخاب شدید، «قبول انجام کار» را بزنید و شروع کنید؛ کارمزد پیش‌تر پرداخت امن شده است.",
    "Upload the final files as one zip in the workspace. The money reaches your balance when the employer "
    "approves, or by itself after two days.": "فایل‌های نهایی را به صورت یک فایل zip در میزکار بارگذاری کنید. مبلغ با تأیید کارفرما، یا خودکار پس از "
    "دو روز، به موجودی شما اضافه می‌شود.",
}


def fill(path: Path) -> list[str]:
    catalogue = polib.pofile(str(path))
    for entry in catalogue.obsolete_entries():
        catalogue.remove(entry)
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            text = FA.get((entry.msgid, 0))
            if text:
                entry.msgstr_plural = {0: text}
        else:
            text = FA.get(entry.msgid)
            if text:
                entry.msgstr = text
        if text:
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        else:
            missing.append(entry.msgid)
    catalogue.metadata_is_fuzzy = False
    catalogue.header = "Persian translation of Hamkar."
    catalogue.metadata["Project-Id-Version"] = "hamkar"
    catalogue.metadata["Language-Team"] = "Persian"
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.metadata["Language"] = "fa"
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalogue.save()
    return missing


if __name__ == "__main__":
    po = Path(__file__).resolve().parent.parent / "locale" / "fa" / "LC_MESSAGES" / "django.po"
    left = fill(po)
    print(f"untranslated: {len(left)}")
    for msgid in left:
        print(" ", repr(msgid))
