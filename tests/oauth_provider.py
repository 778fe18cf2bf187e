"""A small OAuth2 / OpenID Connect provider for the tests, on 127.0.0.1.

It answers what Amends' libraries (msal) ask a real provider: discovery, the device-code flow,
the token endpoint (device code and refresh grants), over HTTPS with its own certificate. Over
plain HTTP it answers token introspection, the way a provider's IMAP and SMTP servers check a
bearer token: the tests' Dovecot and SMTP sink ask it. Nothing of Amends is replaced; this is
the other side of the wire.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "provider-cert.pem", directory / "provider-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Provider:
    https_port: int = 0
    http_port: int = 0
    ca_file: str = ""
    lifetime: float = 3600.0  # seconds an access token lives
    sign_in_as: str | None = None  # the account a person approves the next device code for
    devices: dict = field(default_factory=dict)
    access: dict = field(default_factory=dict)  # token -> (user, expires at)
    refresh: dict = field(default_factory=dict)  # token -> user
    grants: list = field(default_factory=list)  # grant types asked for, in order
    introspected: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/tenant"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/introspect"

    def check(self, user: str, token: str) -> bool:
        """What an IMAP or SMTP server at the provider decides about a bearer token."""
        with self.lock:
            found = self.access.get(token)
            self.introspected.append(token)
        return found is not None and found[1] > time.time() and found[0] == user

    def revoke(self, user: str) -> None:
        """The account's consent is withdrawn: its refresh tokens stop working."""
        with self.lock:
            for token in [t for t, who in self.refresh.items() if who == user]:
                del self.refresh[token]

    def issue(self, user: str) -> dict:
        with self.lock:
            access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            self.access[access] = (user, time.time() + self.lifetime)
            self.refresh[refresh] = user
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.lifetime,
                "token_type": "Bearer", "scope": "imap smtp"}


def _handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.endswith("/.well-known/openid-configuration"):
                base = provider.authority
                return self._send(200, {"issuer": base, "authorization_endpoint": base + "/authorize",
                                        "token_endpoint": base + "/token", "device_authorization_endpoint": base + "/devicecode",
                                        "response_types_supported": ["code"]})
            self._send(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path.endswith("/devicecode"):
                code = secrets.token_hex(8)
                provider.devices[code] = provider.sign_in_as
                return self._send(200, {"device_code": code, "user_code": "WDJB-MJHT", "expires_in": 600, "interval": 1,
                                        "verification_uri": provider.authority + "/device", "message": "sign in"})
            if self.path.endswith("/token"):
                grant = form.get("grant_type", "")
                provider.grants.append(grant.rsplit(":", 1)[-1])
                if grant.endswith("device_code"):
                    user = provider.devices.get(form.get("device_code"))
                    return self._send(200, provider.issue(user)) if user else self._send(400, {"error": "authorization_pending"})
                if grant == "refresh_token":
                    with provider.lock:
                        user = provider.refresh.pop(form.get("refresh_token"), None)  # rotated on each use
                    if user is None:
                        return self._send(400, {"error": "invalid_grant", "error_description": "consent revoked"})
                    return self._send(200, provider.issue(user))
                return self._send(400, {"error": "unsupported_grant_type"})
            if self.path.endswith("/introspect"):
                token = form.get("token", "")
                with provider.lock:
                    found = provider.access.get(token)
                    provider.introspected.append(token)
                if found and found[1] > time.time():
                    return self._send(200, {"active": True, "username": found[0]})
                return self._send(200, {"active": False})
            self._send(404, {})

        def log_message(self, *args) -> None:
            pass

    return Handler


def start(directory: Path) -> tuple[Provider, list[ThreadingHTTPServer]]:
    provider = Provider()
    cert, key = self_signed(directory)
    provider.ca_file = str(cert)
    secure = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    plain = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.https_port, provider.http_port = secure.server_address[1], plain.server_address[1]
    for server in (secure, plain):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return provider, [secure, plain]
