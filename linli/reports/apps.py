from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "linli.reports"
    label = "reports"

    def ready(self) -> None:
        # Each capability describes its rows in its own `report_sources` module; import them
        # all so their row sets are in the registry (see linli/reports/registry.py).
        from django.utils.module_loading import autodiscover_modules

        import linli.reports.sources.register  # noqa: F401  (the register's row sets)

        autodiscover_modules("report_sources")
        from linli.reports import tasks  # noqa: F401  (registers the huey tasks)
