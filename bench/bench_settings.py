"""The site's settings plus a bare view (`/bench/bare/`): the framework's ceiling, measured beside each page."""

from marketplace.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
