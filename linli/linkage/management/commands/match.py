"""linli match FILE --list-name NAME --area CODE [--category CODE] — match a received list
against the register of an area; print hits, probable hits and rows not found."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from linli.areas.models import Area
from linli.intake.errors import IntakeError
from linli.linkage.models import ConcernCategory
from linli.linkage.services import watch_list_match


class Command(BaseCommand):
    help = "Match a list (ID, name, phone, where from, when) against an area's register."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx, .xls or .csv file")
        parser.add_argument("--list-name", required=True, help="name of the list")
        parser.add_argument("--area", required=True, help="code of the area to match against")
        parser.add_argument("--category", default=None, help="code of the concern category")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(opts)

    def _progress(self, done: int, total: int) -> None:
        """One line on stderr, rewritten in place as the batches go by."""
        if total <= 0:
            return
        line = _("Matched %(done)d of %(total)d rows (%(percent)d%%)") % {
            "done": done,
            "total": total,
            "percent": min(100, done * 100 // total),
        }
        self.stderr.write("\r" + line, ending="\n" if done >= total else "")
        self.stderr.flush()

    def _handle(self, opts: dict[str, Any]) -> None:
        area = Area.objects.filter(code=opts["area"]).first()
        if area is None:
            raise CommandError(_("No area has the code %(code)s.") % {"code": opts["area"]})
        category = None
        if opts["category"]:
            category = ConcernCategory.objects.filter(code=opts["category"]).first()
            if category is None:
                codes = ", ".join(ConcernCategory.objects.values_list("code", flat=True))
                raise CommandError(
                    _("No concern category has the code %(code)s (known: %(codes)s).")
                    % {"code": opts["category"], "codes": codes}
                )
        try:
            result = watch_list_match(
                actor=None,
                path=opts["file"],
                list_name=opts["list_name"],
                area=area,
                category=category,
                progress=self._progress,
            )
        except IntakeError as exc:
            raise CommandError(str(exc.message)) from exc
        except FileNotFoundError as exc:
            raise CommandError(_("There is no file %(file)s.") % {"file": opts["file"]}) from exc
        if result.repeated:
            self.stdout.write(
                _("This list was already matched (list %(id)d); nothing was changed.")
                % {"id": result.watch_list.pk}
            )
        self.stdout.write(
            _(
                "Read %(rows)d rows: %(exact)d found, %(probable)d probably found, "
                "%(not_found)d not in the register, %(rejected)d unreadable"
            )
            % result.counts
        )
        if result.report_file is not None:
            self.stdout.write(_("Rows not found: %(path)s") % {"path": result.report_file})
