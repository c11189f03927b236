from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from marketplace import (
            checks,  # noqa: F401 — registers the production checks
            live,
            ratelimits,  # noqa: F401 — registers the check of USER_RATE_LIMITS
        )
        from marketplace.currency import register_currencies
        from marketplace.pagecache import connect_invalidation

        register_currencies()
        connect_invalidation()
        user_logged_out.connect(live.signed_out, dispatch_uid="live-signed-out")
