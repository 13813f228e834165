"""linli report list | load-library | render TEMPLATE|--all --area CODE --out DIR.

Without ``--as`` the command acts as the system: the operator at the server already holds the
database, so the system reads every row under the area, but it never reveals full values
(masked columns only) and each render is audited as an export by "system" on channel cli.
With ``--as USER`` the user's scope and reveal rights apply, exactly as in the workbench.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.areas.models import Area
from linli.core import terminal
from linli.reports import selectors, services
from linli.reports.models import RenderFormat, RenderStatus, ReportRender


class Command(BaseCommand):
    help = "Report templates: list them, load the shipped library, render them for an area."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="list the templates")
        sub.add_parser("load-library", help="load or update the shipped templates (idempotent)")
        render = sub.add_parser("render", help="render one template, or all, for an area")
        render.add_argument("template", nargs="?", help="template code")
        render.add_argument("--all", action="store_true", help="every active template")
        render.add_argument("--area", required=True, help="code of the area")
        render.add_argument("--out", required=True, help="directory to write the files to")
        render.add_argument("--format", choices=RenderFormat.values, default="xlsx")
        render.add_argument("--as", dest="as_user", default="", help="act as this user")
        render.add_argument("--reason", default="", help="reason, for templates with full IDs")
        render.add_argument("--period", default="", help="period shown on the form")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            getattr(self, "_" + opts["action"].replace("-", "_"))(opts)

    def _list(self, opts: dict[str, Any]) -> None:
        rows = [
            [
                t.code,
                f"v{t.current().number}",
                str(t.get_kind_display()),
                t.owner_area.code if t.owner_area else str(_("library")),
                t.title,
            ]
            for t in selectors.templates_all()
        ]
        for line in terminal.table(rows):
            self.stdout.write(line)

    def _load_library(self, opts: dict[str, Any]) -> None:
        added, updated, same = services.library_load()
        self.stdout.write(
            _("Library: %(a)d added, %(u)d updated, %(s)d unchanged.")
            % {"a": added, "u": updated, "s": same}
        )

    def _render(self, opts: dict[str, Any]) -> None:
        area = Area.objects.filter(code=opts["area"]).first()
        if area is None:
            raise CommandError(_("No area has the code %(code)s.") % {"code": opts["area"]})
        actor = None
        if opts["as_user"]:
            actor = User.objects.filter(username=opts["as_user"], is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user %(name)s.") % {"name": opts["as_user"]})
        if opts["all"] == bool(opts["template"]):
            raise CommandError(_("Name one template or give --all."))
        templates = selectors.templates_all(actor)
        if not opts["all"]:
            templates = [t for t in templates if t.code == opts["template"]]
            if not templates:
                raise CommandError(_("No template %(code)s.") % {"code": opts["template"]})
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        failed = 0
        code_width = max((terminal.display_width(t.code) for t in templates), default=0)
        for template in templates:
            try:
                with transaction.atomic():
                    render = services.render_request(
                        actor=actor,
                        template=template,
                        area=area,
                        fmt=opts["format"],
                        reason=opts["reason"] if actor is not None else "",
                        period=opts["period"],
                        enqueue=False,
                    )
            except (PermissionDenied, ValidationError) as exc:
                raise CommandError(str(exc)) from exc
            render = services.render_run(render_id=render.pk, period=opts["period"])
            render = ReportRender.objects.get(pk=render.pk)
            if render.status != RenderStatus.DONE:
                failed += 1
                self.stderr.write(f"{template.code}: {render.error}")
                continue
            target = out / render.file_name
            shutil.copyfile(render.file_path, target)
            self.stdout.write(
                f"{terminal.pad(template.code, code_width)} {render.rows_total:>8} → {target}"
            )
        if failed:
            raise CommandError(_("%(n)d templates failed.") % {"n": failed})
