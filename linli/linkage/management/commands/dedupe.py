"""linli dedupe --area CODE — look for duplicate persons and queue them for review."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from linli.areas.models import Area
from linli.linkage.services import candidates_find


class Command(BaseCommand):
    help = "Find possible duplicate persons in an area and put them in the review queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="code of the area to look in")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            area = Area.objects.filter(code=opts["area"]).first()
            if area is None:
                raise CommandError(_("No area has the code %(code)s.") % {"code": opts["area"]})
            counts = candidates_find(actor=None, area=area)
            self.stdout.write(
                _(
                    "Looked at %(persons)d persons: %(pairs)d possible duplicates, "
                    "%(new)d new in the review queue."
                )
                % counts
            )
