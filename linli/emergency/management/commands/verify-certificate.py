"""`linli verify-certificate PAYLOAD`: check a release certificate's QR payload offline."""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.emergency.certificates import PayloadError, payload_verify, public_key_b64


class Command(BaseCommand):
    help = (
        "Check the signature of a release certificate's QR payload and print what it says. "
        "Needs no database: with --public-key it checks against that key, else this "
        "deployment's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("payload", help="the text of the QR code (LQ1.….…)")
        parser.add_argument("--public-key", default="", help="the issuer's public key (base64url)")

    def handle(self, *args: Any, **options: Any) -> None:
        key_b64 = options["public_key"] or public_key_b64()
        try:
            key = base64.urlsafe_b64decode(key_b64 + "=" * (-len(key_b64) % 4))
            body = payload_verify(options["payload"], key)
        except (PayloadError, ValueError) as exc:
            raise CommandError(f"NOT VALID: {exc}") from exc
        self.stdout.write("VALID signature")
        for label, value in (
            ("number", body.number),
            ("name", body.name_masked),
            ("measure", body.kind),
            ("from", body.starts_on),
            ("released on", body.released_on),
            ("community", body.community),
        ):
            self.stdout.write(f"  {label}: {value}")
        self.stdout.write(f"Check revocation online at /verify/{body.number}/")
