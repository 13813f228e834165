"""Release certificates (解除隔离告知书): the signed QR payload, its offline check, the PDF.

The payload is ``LQ1.<body>.<signature>``, both parts base64url without padding. The body is
UTF-8 text, fields joined by ``|``: version, certificate number, masked name, quarantine kind,
first day, release day, issuing community. The signature is Ed25519 over the body bytes, made
with the deployment's key (linli.core.signing: ``LINLI_SIGNING_KEY`` or generated once under
``LINLI_VAR_DIR/secrets/signing_key``), so anyone holding the public key can check a scanned
code without a network; ``/verify/<number>/`` answers whether it was revoked since.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from django.conf import settings

from linli.core import signing

PREFIX = "LQ1"


class PayloadError(ValueError):
    """A payload that is malformed or whose signature does not match."""


@dataclass(frozen=True)
class CertificateBody:
    number: str
    name_masked: str
    kind: str
    starts_on: str
    released_on: str
    community: str

    def encode(self) -> bytes:
        fields = [
            "1",
            self.number,
            self.name_masked,
            self.kind,
            self.starts_on,
            self.released_on,
            self.community,
        ]
        return "|".join(f.replace("|", "/") for f in fields).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CertificateBody:
        parts = raw.decode().split("|")
        if len(parts) != 7 or parts[0] != "1":
            raise PayloadError("unknown payload version")
        return cls(*parts[1:])


def public_key_bytes() -> bytes:
    return signing.public_key_bytes()


def public_key_b64() -> str:
    """The public key (raw 32 bytes, base64url) — published on /verify/ and in the CLI."""
    return signing.public_key_b64()


def payload_sign(body: CertificateBody) -> str:
    raw = body.encode()
    return f"{PREFIX}.{signing.b64(raw)}.{signing.b64(signing.sign(raw))}"


def payload_verify(payload: str, public_key: bytes | None = None) -> CertificateBody:
    """Check the signature and decode the body; raise PayloadError for anything else."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PayloadError("not a Linli release certificate")
    try:
        raw, sig = signing.unb64(parts[1]), signing.unb64(parts[2])
        signing.verify(sig, raw, public_key)
    except signing.SignatureError as exc:
        raise PayloadError(str(exc)) from exc
    return CertificateBody.decode(raw)


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """The payload as an inline SVG QR code."""
    qr = segno.make(payload, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, border=2)
    return out.getvalue().decode()


def qr_png(payload: str, *, scale: int = 6) -> bytes:
    qr = segno.make(payload, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def certificate_pdf(*, body: CertificateBody, payload: str, texts: dict[str, Any]) -> bytes:
    """An A4 PDF: title, the facts, the QR code and how to check it. Text stays extractable
    (reportlab's built-in CID font STSong-Light; no font file needed)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(str(texts["title"]))
    width, height = A4
    c.setFont(font, 22)
    c.drawCentredString(width / 2, height - 35 * mm, str(texts["title"]))
    c.setFont(font, 12)
    y = height - 55 * mm
    for label, value in texts["rows"]:
        c.drawString(30 * mm, y, f"{label}：{value}")
        y -= 9 * mm
    y -= 4 * mm
    for line in texts["body"]:
        c.drawString(30 * mm, y, str(line))
        y -= 7 * mm
    # The QR code, module by module (vector, sharp at any zoom).
    qr = segno.make(payload, error="m", micro=False)
    matrix = list(qr.matrix)
    size = 60 * mm
    n = len(matrix) + 8
    cell = size / n
    d = Drawing(size, size)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                d.add(
                    Rect(
                        (col + 4) * cell,
                        size - (r + 5) * cell,
                        cell,
                        cell,
                        fillColor="black",
                        strokeColor=None,
                    )
                )
    qr_y = y - size - 5 * mm
    renderPDF.draw(d, c, (width - size) / 2, qr_y)
    c.setFont(font, 9)
    y = qr_y - 8 * mm
    for line in texts["footer"]:
        c.drawCentredString(width / 2, y, str(line))
        y -= 5 * mm
    c.showPage()
    c.save()
    return buf.getvalue()


def certificate_document(cert: Any) -> bytes:
    """The PDF of a ReleaseCertificate, in the deployment's language."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    from linli.emergency.models import QuarantineKind

    body = payload_verify(cert.payload)
    with translation.override(settings.LANGUAGE_CODE):
        texts = {
            "title": _("Release certificate"),
            "rows": [
                (_("Certificate number"), body.number),
                (_("Name"), body.name_masked),
                (_("Measure"), str(QuarantineKind(body.kind).label)),
                (_("First day"), body.starts_on),
                (_("Released on"), body.released_on),
                (_("Community"), body.community),
            ],
            "body": [
                _("The measure above has ended: the planned days are done and every daily"),
                _("health check-in was recorded. Please keep this certificate."),
            ],
            "footer": [
                _("Scan the code to check the signature (works offline with the public key)."),
                _("Online check: /verify/%(number)s/") % {"number": body.number},
            ],
        }
        return certificate_pdf(body=body, payload=cert.payload, texts=texts)
