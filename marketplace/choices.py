"""get_FOO_display() at the cost of one label.

Django's Model._get_FIELD_display builds a dict of every choice of the field on each call, hashing each label, and
a lazy label is translated to be hashed: one call translated every choice (a workspace's timeline of 8 events
translated the 40 event kinds 8 times, 6 ms of its render). A model that lists ChoiceLabels first among its bases
gets the label of the value's own choice instead, the same string.
"""

from django.utils.encoding import force_str


class ChoiceLabels:
    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        for choice, label in field.flatchoices:
            if choice == value:
                return force_str(label, strings_only=True)
        return force_str(value, strings_only=True)
