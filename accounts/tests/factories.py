import factory

from accounts.services import user_create

PASSWORD = "Sturdy-pass-2026"


class UserFactory(factory.Factory):
    """Users made through the service, with a profile and a verified e-mail address."""

    class Meta:
        model = dict

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.Sequence(lambda n: f"user{n}")
    password = PASSWORD
    email_verified = True

    @classmethod
    def _create(cls, model_class, **kwargs):
        return user_create(**kwargs)
