"""A real SMS gateway: an SMPP 3.4 client (ESME) over TCP, built on smpplib (decision 0033).

Each send binds as a transceiver, submits the message (GSM default alphabet when every
character fits, UCS-2 otherwise — all Chinese text; longer messages are split into parts
with a concatenation UDH, esm_class 0x40, so the handset joins them), asks for a delivery
receipt on every part, waits a short while (``receipt_wait``) for receipts that come back at
once — answering the SMSC's enquire_link and sending our own while it waits — then unbinds.
Receipts that come later reach a long-running `linli notify smpp-listen`, which keeps a
transceiver bind open with enquire_link.

Settings (``LINLI_SMPP``; see docs/operations.md): host, port, system_id, password,
system_type, source_addr, source_addr_ton/npi, dest_addr_ton/npi, timeout (seconds for one
PDU), receipt_wait (seconds), enquire_link (seconds between keep-alives).
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from django.conf import settings

from linli.notify.backends import GatewayError, Outgoing

log = logging.getLogger("linli.notify.smpp")

#: "id:123 sub:001 dlvr:001 submit date:... done date:... stat:DELIVRD err:000 text:..."
_RECEIPT_RE = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)", re.IGNORECASE | re.DOTALL)
_DELIVERED = {"DELIVRD", "ACCEPTD"}
#: esm_class bits 2-5 (SMPP 3.4 §5.2.12): 0b0001 = SMSC delivery receipt.
_ESM_RECEIPT = 0x04
_FINAL_FAILED = {"UNDELIV", "EXPIRED", "DELETED", "REJECTD", "UNKNOWN"}


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt the SMSC sent back for one submitted part."""

    message_id: str
    delivered: bool
    detail: str


def parse_receipt(pdu: Any) -> Receipt | None:
    """The receipt in a deliver_sm, or None when it is an ordinary incoming message.

    The message id is taken from the receipted_message_id TLV when present (SMPP 3.4 §5.3.2.12)
    and from the "id:" field of the receipt text otherwise.
    """
    esm_class = int(getattr(pdu, "esm_class", 0) or 0)
    raw = getattr(pdu, "short_message", b"") or b""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    if not esm_class & _ESM_RECEIPT:
        return None
    match = _RECEIPT_RE.search(text)
    stat = match.group("stat").upper() if match else ""
    tlv = getattr(pdu, "receipted_message_id", None)
    if isinstance(tlv, bytes):
        tlv = tlv.decode("ascii", "replace").rstrip("\x00")
    message_id = tlv or (match.group("id") if match else "")
    if not message_id or not stat:
        return None
    if stat in _DELIVERED:
        return Receipt(message_id=message_id, delivered=True, detail=stat)
    if stat in _FINAL_FAILED:
        return Receipt(message_id=message_id, delivered=False, detail=stat)
    return None  # ENROUTE / intermediate: wait for the final one


def split_message(text: str) -> tuple[list[bytes], int, int]:
    """The encoded parts, data_coding and esm_class for *text*.

    GSM 03.38 when every character is in it (160 / 153 per part), else UCS-2 (70 / 67 per
    part); parts of a long message carry a 6-byte concatenation UDH.
    """
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    return list(parts), int(coding), int(esm_class)


class SmppSession:
    """One bound transceiver session; collects the receipts that arrive while it is open."""

    def __init__(self, config: dict[str, Any], on_receipt: Callable[[Receipt], None]) -> None:
        self.config = config
        self.on_receipt = on_receipt
        self.client = smpplib.client.Client(
            config["host"],
            int(config["port"]),
            timeout=float(config.get("timeout", 10)),
            allow_unknown_opt_params=True,
        )
        self.client.set_message_received_handler(self._received)
        self.client.set_message_sent_handler(self._sent)
        self._acks: list[str] = []
        self._last_activity = time.monotonic()

    def _received(self, pdu: Any, **kwargs: Any) -> int:
        receipt = parse_receipt(pdu)
        if receipt is not None:
            self.on_receipt(receipt)
        return int(smpplib.consts.SMPP_ESME_ROK)

    def _sent(self, pdu: Any, **kwargs: Any) -> None:
        mid = pdu.message_id
        self._acks.append(mid.decode("ascii") if isinstance(mid, bytes) else str(mid))

    def bind(self) -> None:
        self.client.connect()
        # Small PDUs back to back (a deliver_sm_resp, then the next submit_sm): without
        # TCP_NODELAY, Nagle's algorithm holds the second one for the peer's delayed ACK.
        self.client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.bind_transceiver(
            system_id=self.config["system_id"],
            password=self.config["password"],
            system_type=self.config.get("system_type", ""),
        )

    def submit(self, phone: str, text: str) -> list[str]:
        """Submit every part of *text* to *phone*; return the SMSC's message ids in order."""
        parts, coding, esm_class = split_message(text)
        self._acks = []
        for part in parts:
            self.client.send_message(
                source_addr_ton=int(self.config.get("source_addr_ton", 0)),
                source_addr_npi=int(self.config.get("source_addr_npi", 0)),
                source_addr=self.config.get("source_addr", ""),
                dest_addr_ton=int(self.config.get("dest_addr_ton", 1)),
                dest_addr_npi=int(self.config.get("dest_addr_npi", 1)),
                destination_addr=phone,
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=1,
            )
            # Stop-and-wait: read until this part's submit_sm_resp (answers to enquire_link
            # and early receipts are handled on the way).
            wanted = len(self._acks) + 1
            deadline = time.monotonic() + float(self.config.get("timeout", 10))
            while len(self._acks) < wanted:
                if time.monotonic() > deadline:
                    raise GatewayError("no submit_sm_resp from the SMSC")
                self.client.read_once(auto_send_enquire_link=False)
        self._last_activity = time.monotonic()
        return list(self._acks)

    def wait(self, seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        """Read PDUs for up to *seconds* (or until *until()*), keeping the link alive."""
        end = time.monotonic() + seconds
        keepalive = float(self.config.get("enquire_link", 30))
        sock = self.client._socket
        while not until():
            left = end - time.monotonic()
            if left <= 0:
                return
            if time.monotonic() - self._last_activity >= keepalive:
                self.enquire_link()
            sock.settimeout(min(left, keepalive, 1.0))
            try:
                self.client.read_once(auto_send_enquire_link=False)
                self._last_activity = time.monotonic()
            except TimeoutError:
                continue
            finally:
                sock.settimeout(float(self.config.get("timeout", 10)))

    def enquire_link(self) -> None:
        self.client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=self.client))
        self._last_activity = time.monotonic()

    def close(self) -> None:
        """Unbind politely when we can; always close the socket."""
        try:
            if self.client.state in (
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
            ):
                # Not smpplib's unbind(): it reads one PDU, which may be a receipt arriving
                # just then. Read (and record) until unbind_resp opens the state again.
                self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
                deadline = time.monotonic() + float(self.config.get("timeout", 10))
                while (
                    self.client.state != smpplib.consts.SMPP_CLIENT_STATE_OPEN
                    and time.monotonic() < deadline
                ):
                    pdu = self.client.read_pdu()
                    if pdu.command == "deliver_sm":
                        self.client._message_received(pdu)  # answers and records it
                    elif pdu.command == "enquire_link":
                        self.client._enquire_link_received(pdu)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError):
            pass
        finally:
            self.client.disconnect()


def smpp_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(settings.LINLI_SMPP)
    if not config.get("host"):
        raise GatewayError("LINLI_SMPP has no host: the SMPP gateway is not configured")
    return config


@contextmanager
def smpp_session(on_receipt: Callable[[Receipt], None]) -> Iterator[SmppSession]:
    """A bound session; SMPP and socket errors come out as GatewayError (retried later)."""
    session = SmppSession(smpp_config(), on_receipt)
    try:
        session.bind()
        yield session
    except (
        TimeoutError,
        smpplib.exceptions.ConnectionError,
        smpplib.exceptions.PDUError,
        OSError,
    ) as e:
        raise GatewayError(f"SMPP: {e.__class__.__name__}: {e}".strip(": ")) from e
    finally:
        session.close()


class SmppSmsBackend:
    """Sends SMS to an SMSC over SMPP 3.4 (see the module docstring).

    Receipts that arrive during the send are kept in ``receipts``; the caller records them
    once the parts are saved (`linli.notify.services.notification_send`).
    """

    def __init__(self) -> None:
        self.receipts: list[Receipt] = []

    def send_message(self, message: Outgoing) -> list[str]:
        config: dict[str, Any] = settings.LINLI_SMPP
        wait = float(config.get("receipt_wait", 2))
        with smpp_session(self.receipts.append) as session:
            ids = session.submit(message.phone, message.text)
            if wait > 0:
                session.wait(wait, until=lambda: _all_receipted(ids, self.receipts))
        return ids


def _all_receipted(ids: list[str], receipts: list[Receipt]) -> bool:
    seen = {r.message_id for r in receipts}
    return all(i in seen for i in ids)


def smpp_listen(
    *, seconds: float | None, record: Callable[[Receipt], None], stop: Callable[[], bool]
) -> None:
    """Keep a transceiver bound and record receipts until *seconds* pass or *stop()*.

    Reconnects with a pause when the link drops. Used by `linli notify smpp-listen`.
    """
    end = None if seconds is None else time.monotonic() + seconds
    while not stop() and (end is None or time.monotonic() < end):
        try:
            with smpp_session(record) as session:
                left = 3600.0 if end is None else max(0.0, end - time.monotonic())
                session.wait(left, until=stop)
        except GatewayError as e:
            log.warning("SMPP listener: %s; reconnecting", e)
            time.sleep(min(5.0, max(0.0, (end or time.monotonic() + 5) - time.monotonic())))
