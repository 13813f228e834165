"""linli import FILE --kind people --area CODE — import a people roster from the command line.

Prints the header row found and the column mapping, then the summary and where the error
file is. Runs as the system (actor=None), like the other commands. `--mapping NAME` applies a
saved mapping profile (a path to a JSON mapping is still accepted); `--save-mapping NAME`
saves the mapping used as a profile of the area. On a terminal a progress line is updated
while the rows are worked through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from linli.areas.models import Area
from linli.intake.errors import IntakeError
from linli.intake.mapping import FIELDS, Mapping
from linli.intake.profiles import mapping_profile_named, mapping_profile_save
from linli.intake.readers import _column_letter
from linli.intake.services import ImportResult, people_import


class Command(BaseCommand):
    help = "Import a people roster (xlsx, xls or csv) into a community or grid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx, .xls or .csv file")
        parser.add_argument("--kind", choices=["people"], default="people")
        parser.add_argument("--area", required=True, help="code of the community or grid")
        parser.add_argument(
            "--mapping", default=None, help="name of a saved mapping profile (or a JSON file)"
        )
        parser.add_argument(
            "--save-mapping", default=None, help="save the mapping used as a profile NAME"
        )
        parser.add_argument("--dry-run", action="store_true", help="preview, write nothing")
        parser.add_argument("--source", default="import", help="name of the data source")

    def handle(self, *args: Any, **opts: Any) -> None:
        # The command speaks the deployment's language (Chinese), whatever was active before.
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(opts)

    def _handle(self, opts: dict[str, Any]) -> None:
        area = Area.objects.filter(code=opts["area"]).first()
        if area is None:
            raise CommandError(_("No area has the code %(code)s.") % {"code": opts["area"]})
        mapping = self._mapping(opts["mapping"], area) if opts["mapping"] else None
        try:
            result = people_import(
                actor=None,
                path=opts["file"],
                area=area,
                mapping=mapping,
                dry_run=opts["dry_run"],
                source=opts["source"],
                progress=self._progress_line(),
            )
        except IntakeError as exc:
            raise CommandError(str(exc.message)) from exc
        except FileNotFoundError as exc:
            raise CommandError(_("There is no file %(file)s.") % {"file": opts["file"]}) from exc
        self._end_progress_line()
        self._report(result)
        if opts["save_mapping"] and result.mapping is not None and not result.failed:
            try:
                profile = mapping_profile_save(
                    actor=None,
                    area=area,
                    name=opts["save_mapping"],
                    source=opts["source"],
                    mapping=result.mapping,
                )
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(_("Mapping saved as profile %(name)s.") % {"name": profile.name})

    def _mapping(self, given: str, area: Area) -> Mapping:
        """A profile of that name for the area, else (as before) a JSON mapping file."""
        profile = mapping_profile_named(user=None, area=area, name=given)
        if profile is not None:
            return Mapping.from_dict(profile.mapping)
        if not Path(given).is_file():
            raise CommandError(
                _("There is no mapping profile called %(name)s for %(area)s.")
                % {"name": given, "area": area.name}
            )
        try:
            return Mapping.from_dict(json.loads(Path(given).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                _("The mapping file cannot be used: %(error)s") % {"error": exc}
            ) from exc

    def _progress_line(self) -> Callable[[int, int], None] | None:
        """A callback that rewrites one line (\r) with the rows done; only on a terminal."""
        self._progress_shown = False
        if not self.stdout.isatty():
            return None
        last = [0.0]

        def show(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.2:
                return
            last[0] = now
            pct = done * 100 // total if total else 100
            self.stdout.write(
                "\r"
                + _("Importing: %(done)d / %(total)d rows (%(pct)d%%)")
                % {"done": done, "total": total, "pct": pct},
                ending="",
            )
            self.stdout.flush()
            self._progress_shown = True

        return show

    def _end_progress_line(self) -> None:
        if getattr(self, "_progress_shown", False):
            self.stdout.write("")

    def _report(self, result: ImportResult) -> None:
        if result.table is not None and result.mapping is not None:
            self.stdout.write(
                _("Header row %(row)d: %(headers)s")
                % {"row": result.table.header_row, "headers": " | ".join(result.table.headers)}
            )
            for col in result.mapping.columns:
                target = str(FIELDS[col.field]) if col.field else _("(not imported)")
                self.stdout.write(f"  {_column_letter(col.index)} {col.header} → {target}")
        if result.already_committed is not None:
            done = result.already_committed
            self.stdout.write(
                _(
                    "This file was already imported into %(area)s (batch %(id)d); nothing "
                    "was changed."
                )
                % {"area": done.area.name, "id": done.pk}
            )
            return
        c = result.counts
        self.stdout.write(
            _(
                "Read %(read)d rows: %(created)d created, %(updated)d updated, "
                "%(unchanged)d unchanged, %(rejected)d rejected"
            )
            % c
        )
        if result.error_file is not None:
            self.stdout.write(_("Rejected rows: %(path)s") % {"path": result.error_file})
        if result.failed:
            raise CommandError(result.batch.failure)
        if result.dry_run:
            self.stdout.write(_("Dry run: nothing was written to the register."))
        else:
            self.stdout.write(_("Committed (batch %(id)d).") % {"id": result.batch.pk})
