"""Release certificates: the Ed25519-signed payload verifies offline, a tampered or foreign one
does not; the QR code carries exactly the payload; the PDF opens and holds the facts."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from linli.emergency import certificates as certs
from linli.emergency import services as em
from linli.emergency.models import Quarantine, ReleaseCertificate
from tests.emergency.factories import at, make_event, make_risk
from tests.factories import World, make_phone

pytestmark = pytest.mark.django_db


def _released(world: World) -> ReleaseCertificate:
    event = make_event(world, rule_days={"home": 2})
    arrival = em.arrival_register(
        actor=world.a.worker,
        event=event,
        grid=world.a.grid,
        name="王归来",
        phone=make_phone(),
        arrived_on=at(0).date(),
        travel_mode="train",
        risk_area=make_risk(event),
        now=at(0),
    )
    q = Quarantine.objects.get(arrival=arrival)
    for d in (0, 1):
        em.checkin_record(actor=None, quarantine=q, temperature="36.5", by_self=True, now=at(d, 10))
    return em.quarantine_release(actor=world.a.worker, quarantine=q, now=at(2, 10))


def test_payload_verifies_and_carries_masked_facts(world: World) -> None:
    cert = _released(world)
    body = certs.payload_verify(cert.payload)
    assert body == certs.CertificateBody(
        number=cert.number,
        name_masked="王*来",
        kind="home",
        starts_on=str(at(0).date()),
        released_on=str(at(2).date()),
        community="测试社区",
    )
    assert "王归来" not in cert.payload and len(cert.payload) < 200


def test_tampered_payload_is_refused(world: World) -> None:
    cert = _released(world)
    prefix, body, sig = cert.payload.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b"home", b"none")
    forged = ".".join([prefix, base64.urlsafe_b64encode(raw).decode().rstrip("="), sig])
    with pytest.raises(certs.PayloadError, match="signature"):
        certs.payload_verify(forged)
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(certs.PayloadError):
        certs.payload_verify(".".join([prefix, body, flipped]))
    for junk in ("", "LQ1.x", "XX1." + body + "." + sig, "LQ1.%%%.%%%"):
        with pytest.raises(certs.PayloadError):
            certs.payload_verify(junk)


def test_another_deployments_key_does_not_verify(world: World) -> None:
    cert = _released(world)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(certs.PayloadError):
        certs.payload_verify(cert.payload, other)
    assert certs.payload_verify(cert.payload, certs.public_key_bytes()).number == cert.number


def test_qr_code_decodes_to_the_payload(world: World) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    cert = _released(world)
    image = Image.open(io.BytesIO(certs.qr_png(cert.payload)))
    # QR codes only: a line of the certificate's text can pass for a linear barcode.
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == cert.payload


def test_pdf_holds_the_facts_and_its_printed_qr_scans(world: World, tmp_path: Path) -> None:
    """The PDF's text is extractable (pypdf), and rendered by a real PDF interpreter
    (Ghostscript) its QR code scans back to the signed payload."""
    from pypdf import PdfReader

    cert = _released(world)
    data = certs.certificate_document(cert)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for expected in ("解除隔离告知书", "王*来", cert.number, "居家隔离", str(at(2).date())):
        assert expected in text, expected
    gs = shutil.which("gs")
    zxingcpp = pytest.importorskip("zxingcpp")
    if gs is None:
        pytest.skip("Ghostscript is not installed")
    from PIL import Image

    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(data)
    png = tmp_path / "cert.png"
    subprocess.run(
        [gs, "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=png16m", "-r150",
         f"-sOutputFile={png}", str(pdf)],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    # QR codes only: a line of the printed text can pass for a linear barcode.
    (found,) = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == cert.payload
    assert certs.payload_verify(found.text).number == cert.number


def test_cli_verifies_a_payload(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import CommandError, call_command

    cert = _released(world)
    call_command("verify-certificate", cert.payload)
    out = capsys.readouterr().out
    assert cert.number in out and "王*来" in out
    with pytest.raises(CommandError):
        call_command("verify-certificate", cert.payload[:-3] + "AAA")
