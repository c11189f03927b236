"""What the chat pushes to the open pages of its two parties (marketplace/live.py): a new message, already
rendered for each of them in their own language; "seen" when the other side read the thread; "typing"."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from marketplace import live


def message_posted(message) -> None:
    """Both parties' pages receive the message as the thread would show it to each (their own messages on their
    side), in each of the site's languages: a page takes the one it is written in, whatever the account's
    language. The recipient's badges get their new count."""
    if not live.enabled():
        return
    conversation = message.conversation
    for party in (conversation.project.owner, conversation.freelancer):
        html = {}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                html[language] = render_to_string(
                    "proposals/_messages.html",
                    {"page": [message], "conversation": conversation, "user": party, "seen_until": None},
                )
        live.publish([party.pk], "message", {"conversation": conversation.pk, "id": message.pk, "html": html})
    live.publish_counts([conversation.other_party_id(message.sender)])


def conversation_read(conversation, reader) -> None:
    """The other party's pages mark as seen what they sent up to the thread's newest message; the reader's pages
    lower their badge."""
    if not live.enabled():
        return
    up_to = conversation.messages.order_by("-pk").values_list("pk", flat=True).first()
    if up_to is None:
        return
    live.publish([conversation.other_party_id(reader)], "seen", {"conversation": conversation.pk, "up_to": up_to})
    live.publish_counts([reader.pk])


def typing(conversation, user) -> None:
    live.publish(
        [conversation.other_party_id(user)],
        "typing",
        {"conversation": conversation.pk, "seconds": settings.CHAT_TYPING_SECONDS},
    )
