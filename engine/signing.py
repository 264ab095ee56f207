"""The slips signed by the portal: a PDF signature (PAdES baseline, by pyHanko) with the certificate of the body that
runs the portal, so that whoever gets a slip (the applicant, a bank, a court) can check in any PDF reader that it
came from the portal and was not changed since.

The key and its certificate come from a PKCS#12 file (``MOTCUA_SIGNING_P12``, its password in
``MOTCUA_SIGNING_P12_PASSWORD``): in production, the certificate the Government Cipher Committee (Ban Cơ yếu Chính
phủ) issues to the agency. It is read when the engine starts, so that a wrong file or password stops it with a
clear message rather than at the first slip; pyHanko itself is imported at the first signature (it weighs some
40 MB a process), and none of it in a process without a key. Without a file, the slips are not signed.
``motcua serve`` (development, ``make run``) makes a self-signed demonstration certificate under ``instance/``,
whose name says it has no legal value.

No timestamp from a timestamping authority is added (none reachable here): the signing time is the server's.
"""
from __future__ import annotations

import datetime as dt
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_FILE = "signing-demo.p12"
DEMO_NAME = "Cổng DVC motcua (DEMO, không có giá trị pháp lý)"  # (a common name: at most 64 bytes)


class SigningError(Exception):
    """The signing key cannot be used (said once, when the engine starts)."""


@dataclass
class SigningKey:
    """A key and certificate read from a PKCS#12 file; the pyHanko signer is made at the first signature."""

    data: bytes
    password: bytes | None
    subject: str  # the certificate's common name, shown beside the slips
    not_after: dt.datetime
    _signer: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def signer(self) -> Any:
        with self._lock:
            if self._signer is None:
                from pyhanko.sign import signers

                self._signer = signers.SimpleSigner.load_pkcs12_data(self.data, (), passphrase=self.password)
                if self._signer is None:  # (pyHanko logs why and returns None)
                    raise SigningError("pyHanko could not read the signing key")
            return self._signer


def load(path: Path, password: str | None) -> SigningKey:
    """The key of a PKCS#12 file; :class:`SigningError` (saying what is wrong) if it cannot sign."""
    from cryptography.hazmat.primitives.serialization import pkcs12  # (here: a process without a key never loads it)
    from cryptography.x509.oid import NameOID

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"MOTCUA_SIGNING_P12: {path} cannot be read ({exc.strerror})") from None
    secret = password.encode() if password else None
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        raise SigningError(f"MOTCUA_SIGNING_P12: {path} is not a PKCS#12 file, or MOTCUA_SIGNING_P12_PASSWORD is "
                           "not its password") from None
    if key is None or certificate is None:
        raise SigningError(f"MOTCUA_SIGNING_P12: {path} holds no key with its certificate")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = str(names[0].value) if names else certificate.subject.rfc4514_string()
    return SigningKey(data, secret, subject, certificate.not_valid_after_utc.replace(tzinfo=None))


def demo_key(instance: Path) -> Path:
    """A self-signed demonstration certificate under ``instance`` (made once, kept): its path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    path = instance / DEMO_FILE
    if path.exists():
        return path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEMO_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motcua"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=5 * 365))
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(b"motcua-demo", key, certificate, None,
                                                 serialization.NoEncryption())
    instance.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def sign(pdf: bytes, key: SigningKey, reason: str, location: str) -> bytes:
    """``pdf`` with the portal's signature added (an incremental update: the slip's bytes are kept before it)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="ChuKySo", reason=reason, location=location,
                                        subfilter=None, md_algorithm="sha256")
    out = signers.sign_pdf(writer, meta, signer=key.signer())
    return out.getvalue()
