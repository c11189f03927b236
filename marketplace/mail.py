"""E-mails in the recipient's language and writing direction. Every e-mail the site writes (allauth's through
accounts.adapter, the notifications, the unread-messages digest) is built by mail_build() while the recipient's
language is active (translation.override(user.language)), so both parts read the right way round:

- the HTML part is templates/email/base.html, whose <html>, <body> and content carry lang and dir;
- the plain-text part of a right-to-left language starts each line with U+200F RIGHT-TO-LEFT MARK. A mail client
  lays out each line by its first strong letter (Unicode bidi rule P2), so a Persian line that opens with an
  e-mail address, a user name or a Latin word would otherwise be set left to right. A mark per line is
  chosen over wrapping the whole text in RLE…PDF because an embedding does not survive a client that re-wraps
  or quotes the lines, while a mark at the start of each line does. A line that is only a link gets no mark:
  it reads left to right anyway, and a reader who copies it must not copy an invisible character with it.
"""

import re

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

RLM = "\u200f"
_LINK_LINE = re.compile(r"^\s*https?://\S+\s*$")


def mail_text(text: str) -> str:
    """The plain-text part for the active language: each line of a right-to-left text starts with RLM."""
    if not translation.get_language_bidi():
        return text
    return "\n".join(
        line if not line.strip() or _LINK_LINE.match(line) or line.startswith(RLM) else RLM + line
        for line in text.split("\n")
    )


def mail_html(*, subject: str, text: str) -> str:
    """The HTML part for `text` in the active language: its paragraphs, with links made clickable. Each link is
    set left to right on its own (dir="ltr"), or a right-to-left paragraph would move its trailing slash, and may
    break anywhere, or a long confirmation link would run off a phone's screen."""
    link = '<a dir="ltr" style="word-break:break-all" href='
    body = linebreaks(urlize(text, autoescape=True)).replace("<a href=", link)
    # urlize escaped the text (autoescape=True); what it and linebreaks added is our own markup.
    return render_to_string("email/base.html", {"subject": subject, "body": mark_safe(body)})  # noqa: S308


def mail_build(
    *, subject: str, text: str, to: list[str], from_email: str | None = None, headers: dict | None = None
) -> EmailMultiAlternatives:
    """An e-mail in the active language: plain text with direction marks, and an HTML alternative."""
    text = text.strip()
    message = EmailMultiAlternatives(
        subject=" ".join(str(subject).splitlines()).strip(),
        body=mail_text(text),
        from_email=from_email,
        to=to,
        headers=headers,
    )
    message.attach_alternative(mail_html(subject=message.subject, text=text), "text/html")
    return message
