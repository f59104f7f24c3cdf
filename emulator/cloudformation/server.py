"""The ResponseURL: a local HTTPS server receiving the custom resource responses (crhelper answers over
HTTPS only), with a self-signed certificate the handler's environment trusts (``SSL_CERT_FILE``)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class ResponseServer:
    """Receives the custom resource responses PUT to presigned-looking HTTPS URLs on 127.0.0.1.

    ``now`` gives the (simulated) time a response arrives: the handler PUTs from inside an invocation,
    so the simulated clock reads the moment CloudFormation would have received it.
    """

    def __init__(self, now: Callable[[], float] | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="cfn-driver-")
        self.cert_file, key_file = _self_signed_certificate(Path(self._directory.name))
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self.raw_sizes: dict[str, list[int]] = {}
        self.times: dict[str, list[float]] = {}
        self._now = now or (lambda: 0.0)
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                request_id = self.path.split("?")[0].rstrip("/").split("/")[-1]
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_unparseable": raw.decode(errors="replace")}
                with server._lock:
                    server.bodies.setdefault(request_id, []).append(body)
                    server.raw_sizes.setdefault(request_id, []).append(len(raw))
                    server.times.setdefault(request_id, []).append(server._now())
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, key_file)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url_for(self, stack_name: str, request_id: str) -> str:
        """A ResponseURL shaped like CloudFormation's presigned S3 URL (the query string is a secret)."""
        return (
            f"https://localhost:{self.port}/cloudformation-custom-resource-response-useast1/"
            f"{stack_name}/{request_id}?X-Amz-Signature=SECRET{uuid.uuid4().hex}"
        )

    def responses(self, request_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bodies.get(request_id, []))

    def arrival_times(self, request_id: str) -> list[float]:
        with self._lock:
            return list(self.times.get(request_id, []))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._directory.cleanup()
