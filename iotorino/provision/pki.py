"""A development certificate authority and the certificates signed by it (elliptic-curve P-256, SHA-256).

Made with `cryptography`. In production the city replaces the CA and the
server certificate by its own; the file names stay the same. Private keys are
written 0600; a client certificate's common name is the principal's MQTT user
name, so the broker's `use_identity_as_username` maps it onto the same ACL.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate and key, able to sign server and client certificates."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: str = "IoTorino development CA", days: int = 3650) -> "Authority":
        """A new self-signed CA valid for `days` days from now."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @classmethod
    def load(cls, cert_file: Path, key_file: Path) -> "Authority":
        """The CA written earlier by `write`."""
        certificate = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        return cls(certificate, key)

    def write(self, cert_file: Path, key_file: Path) -> None:
        """The CA certificate (public) and its key (0600)."""
        write_pem(cert_file, self.certificate)
        write_key(key_file, self.key)

    def issue(self, common_name: str, *, server_names: tuple[str, ...] = (), days: int = 825,
              not_before: dt.datetime | None = None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A certificate for `common_name`: a server one when `server_names` (DNS names or IP
        addresses) are given, a client one otherwise. `not_before` (default now) lets tests make
        certificates that have already expired."""
        key = ec.generate_private_key(ec.SECP256R1())
        start = not_before or dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + days * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_names:
            builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(n) for n in server_names]),
                                            critical=False)
        return builder.sign(self.key, hashes.SHA256()), key


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def write_pem(path: Path, certificate: x509.Certificate) -> None:
    """A certificate as PEM (public, 0644)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def write_key(path: Path, key: ec.EllipticCurvePrivateKey, mode: int = 0o600) -> None:
    """A private key as unencrypted PKCS#8 PEM, created with `mode` (never readable by others)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, mode)
