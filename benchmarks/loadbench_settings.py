"""Settings of the load benchmark's server: Linli's own settings, with a URLconf that adds the
bare peer endpoint. Used only by benchmarks/bench_load.py (never in production): the peer and
the API are served by the same gunicorn workers, middleware and database set-up."""

from linli.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.loadbench_urls"
