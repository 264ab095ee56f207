"""Signed slips: with a key (here the demonstration certificate `motcua serve` makes), every slip carries the
portal's PDF signature, which a validator finds intact and made by that certificate, and which no longer holds once
a byte of the slip is changed; the slip reads as before. A key that cannot be used stops the engine at once with
what is wrong; without a key the slips are not signed."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from engine import clock, signing
from engine.api import Engine
from engine.config import Settings
from tests.engine.test_birth_registration import CITIZEN, Journey, declaration, user
from tests.engine.test_slips import read


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return signing.demo_key(tmp_path / "instance")


def trust_root(path: Path) -> asn1_x509.Certificate:
    _, certificate, _ = pkcs12.load_key_and_certificates(path.read_bytes(), None)
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def status(pdf: bytes, root: asn1_x509.Certificate) -> tuple[bool, bool, bool, str]:
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    result = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root], allow_fetching=False))
    return result.intact, result.valid, result.trusted, embedded.sig_object["/Reason"]


def test_every_slip_is_signed_by_the_portal_and_a_change_shows(engine: Engine, key_file: Path) -> None:
    signed = Engine(dataclasses.replace(engine.settings, signing_p12=key_file))
    assert signed.signing_key.subject == signing.DEMO_NAME
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):
        j = Journey(engine)
        j.step("declaration", declaration())
        j.decide("reception_check", "accept")
    try:
        with signed.session() as s:
            pdf = signed.slip(s, j.dossier_id, user(s, CITIZEN), "receipt")
    finally:
        signed.db.dispose()
    with engine.session() as s:
        unsigned = engine.slip(s, j.dossier_id, user(s, CITIZEN), "receipt")
    intact, valid, trusted, reason = status(pdf, trust_root(key_file))
    assert (intact, valid, trusted) == (True, True, True)
    assert reason == f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả – {j.view().code}"
    assert read(pdf) == read(unsigned)  # the same slip, signed
    assert b"/ByteRange" not in unsigned  # (without a key: not signed)

    at = pdf.index(b"/Title (") + len(b"/Title (")  # the slip's title, in its information (signed as the rest)
    tampered = pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1:]
    assert status(tampered, trust_root(key_file))[0] is False  # no longer intact


def test_a_key_that_cannot_sign_stops_the_engine_with_the_reason(engine: Engine, key_file: Path,
                                                                  tmp_path: Path) -> None:
    data = pkcs12.load_key_and_certificates(key_file.read_bytes(), None)
    locked = tmp_path / "locked.p12"
    locked.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", data[0], data[1], None, serialization.BestAvailableEncryption(b"dung-mat-khau")))
    not_p12 = tmp_path / "cert.pem"
    not_p12.write_bytes(data[1].public_bytes(serialization.Encoding.PEM))
    for path, password, problem in ((tmp_path / "none.p12", None, "cannot be read"),
                                    (locked, "sai-mat-khau", "not its password"),
                                    (not_p12, None, "not a PKCS#12 file")):
        with pytest.raises(signing.SigningError, match=problem):
            Engine(dataclasses.replace(engine.settings, signing_p12=path, signing_password=password))
    works = Engine(dataclasses.replace(engine.settings, signing_p12=locked, signing_password="dung-mat-khau"))
    assert works.signing_key.subject == signing.DEMO_NAME
    works.db.dispose()


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv("MOTCUA_SIGNING_P12", str(key_file))
    monkeypatch.setenv("MOTCUA_SIGNING_P12_PASSWORD", "bi-mat")
    settings = Settings.from_env()
    assert (settings.signing_p12, settings.signing_password) == (key_file, "bi-mat")
    monkeypatch.delenv("MOTCUA_SIGNING_P12")
    assert Settings.from_env().signing_p12 is None
    assert signing.demo_key(key_file.parent) == key_file  # made once, kept
