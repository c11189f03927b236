"""get_FOO_display() through marketplace.choices.ChoiceLabels: Django's answer, at the cost of one label."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from marketplace.choices import ChoiceLabels

WITH_LABELS = [model for model in apps.get_models() if issubclass(model, ChoiceLabels)]


def test_the_models_whose_labels_pages_show_use_it():
    from escrow.models import Transaction
    from notifications.models import Notification
    from workspace.models import Milestone, MilestoneEvent

    assert {MilestoneEvent, Milestone, Notification, Transaction} <= set(WITH_LABELS)
    for model in WITH_LABELS:
        assert model._get_FIELD_display is ChoiceLabels._get_FIELD_display, model


@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_label_is_djangos_in_both_languages(language):
    checked = 0
    with translation.override(language):
        for model in WITH_LABELS:
            for field in model._meta.concrete_fields:
                if not field.choices:
                    continue
                for value in [choice for choice, _label in field.flatchoices] + ["no-such-choice"]:
                    instance = model(**{field.attname: value})
                    assert ChoiceLabels._get_FIELD_display(instance, field) == models.Model._get_FIELD_display(
                        instance, field
                    ), (model, field.name, value)
                    checked += 1
    assert checked > 100
