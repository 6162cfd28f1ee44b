"""TLS: extra agency roots, incomplete chains and bad certificates.

The HTTPS fixture server listens on 127.0.0.1, and ``fake_dns`` maps
www.example.gov.tw to it so certificates carry a real-looking name.
"""

import datetime
import socket
import ssl
import time
from pathlib import Path

import pytest

from govportal.lib.httpfetch import build_ssl_context
from tests.lib import BASELINE, RSS_HEADERS, fetch, fetch_error, loopback_policy
from tests.support.fixture_server import (
    CertificateChain,
    FixtureServer,
    Response,
    https_fixture_server,
    legacy_root_chain,
    trustme_chain,
)

HOST = "www.example.gov.tw"


@pytest.fixture(scope="module")
def legacy_chain() -> CertificateChain:
    return legacy_root_chain(HOST)


@pytest.fixture
def agency_dns(fake_dns):
    fake_dns.add(HOST, ["127.0.0.1"])
    return fake_dns


def write_root(tmp_path: Path, chain: CertificateChain) -> str:
    path = tmp_path / "agency-roots.pem"
    path.write_bytes(chain.root_pem)
    return str(path)


def serve_feed(server) -> str:
    server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    return server.url("/rss/news.xml", host=HOST)


# -- case 44 ------------------------------------------------------------------------


def strict_handshake_error(chain: CertificateChain, tmp_path: Path) -> str:
    """Connect with Python's default context and return OpenSSL's reason."""
    context = ssl.create_default_context(cafile=write_root(tmp_path, chain))
    assert context.verify_flags & ssl.VERIFY_X509_STRICT
    with https_fixture_server(chain.chain_pem, chain.key_pem) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with pytest.raises(ssl.SSLCertVerificationError) as caught:
                context.wrap_socket(raw, server_hostname=HOST)
    return caught.value.verify_message


def test_case44_legacy_root_fails_strict_verification(legacy_chain, tmp_path):
    """The test root has the flaws: Python 3.13's default checks reject it."""
    reason = strict_handshake_error(legacy_chain, tmp_path)
    assert reason == "Basic Constraints of CA cert not marked critical"


def test_case44_root_without_key_identifier_fails_strict(tmp_path):
    chain = legacy_root_chain(HOST, critical_basic_constraints=True)
    reason = strict_handshake_error(chain, tmp_path)
    assert reason == "Missing Subject Key Identifier"


@pytest.mark.parametrize("critical", [False, True], ids=["both-flaws", "no-ski-only"])
def test_case44_variant_a_extra_root_accepted(tmp_path, agency_dns, critical):
    """Case 44 variant A: leaf and intermediate sent, agency root configured."""
    chain = legacy_root_chain(HOST, critical_basic_constraints=critical)
    policy = loopback_policy(extra_ca_file=write_root(tmp_path, chain))
    with https_fixture_server(chain.chain_pem, chain.key_pem) as server:
        result = fetch(serve_feed(server), policy)
    assert result.status == 200
    assert result.body == BASELINE


def test_case44_extra_ca_file_clears_only_strict_flag(legacy_chain, tmp_path):
    default = build_ssl_context()
    relaxed = build_ssl_context(write_root(tmp_path, legacy_chain))
    assert default.verify_flags & ssl.VERIFY_X509_STRICT
    assert relaxed.verify_flags == default.verify_flags & ~ssl.VERIFY_X509_STRICT
    for context in (default, relaxed):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
    assert relaxed.minimum_version == default.minimum_version
    assert relaxed.options == default.options


def test_case44_agency_root_missing_is_tls_error(legacy_chain, agency_dns):
    """Without the extra CA file the legacy chain is untrusted."""
    with https_fixture_server(legacy_chain.chain_pem, legacy_chain.key_pem) as server:
        error = fetch_error(serve_feed(server), loopback_policy())
    assert error.code == "tls_error"


def test_case44_variant_b_missing_intermediate(tmp_path, agency_dns):
    """Case 44 variant B: the server sends only its leaf certificate."""
    chain = trustme_chain(HOST)
    policy = loopback_policy(extra_ca_file=write_root(tmp_path, chain))
    with https_fixture_server(chain.leaf_only_pem, chain.key_pem) as server:
        error = fetch_error(serve_feed(server), policy)
    assert error.code == "tls_error"
    assert error.detail == "incomplete certificate chain"


def test_case44_variant_b_legacy_root(legacy_chain, tmp_path, agency_dns):
    """Case 44 variant B with the legacy root: same distinct error."""
    policy = loopback_policy(extra_ca_file=write_root(tmp_path, legacy_chain))
    with https_fixture_server(
        legacy_chain.leaf_only_pem, legacy_chain.key_pem
    ) as server:
        error = fetch_error(serve_feed(server), policy)
    assert error.code == "tls_error"
    assert error.detail == "incomplete certificate chain"


def test_full_trustme_chain_accepted(tmp_path, agency_dns):
    chain = trustme_chain(HOST)
    policy = loopback_policy(extra_ca_file=write_root(tmp_path, chain))
    with https_fixture_server(chain.chain_pem, chain.key_pem) as server:
        assert fetch(serve_feed(server), policy).body == BASELINE


# -- FF-11 --------------------------------------------------------------------------


def self_signed(hostname: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def test_ff11_self_signed_certificate_rejected(agency_dns):
    """FF-11"""
    cert_pem, key_pem = self_signed(HOST)
    with https_fixture_server(cert_pem, key_pem) as server:
        error = fetch_error(serve_feed(server), loopback_policy())
        assert server.requests == []
    assert error.code == "tls_error"
    assert "self-signed" in error.params["reason"]


def test_ff11_expired_certificate_rejected(tmp_path, agency_dns):
    """FF-11"""
    import trustme

    root = trustme.CA()
    now = datetime.datetime.now(datetime.UTC)
    leaf = root.issue_cert(
        HOST,
        not_before=now - datetime.timedelta(days=60),
        not_after=now - datetime.timedelta(days=1),
    )
    chain_pem = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root.cert_pem.bytes())
    policy = loopback_policy(extra_ca_file=str(root_file))
    with https_fixture_server(chain_pem, leaf.private_key_pem.bytes()) as server:
        error = fetch_error(serve_feed(server), policy)
    assert error.code == "tls_error"
    assert "expired" in error.params["reason"]


def test_ff11_wrong_host_certificate_rejected(tmp_path, agency_dns):
    """FF-11"""
    chain = trustme_chain("other.example.gov.tw")
    policy = loopback_policy(extra_ca_file=write_root(tmp_path, chain))
    with https_fixture_server(chain.chain_pem, chain.key_pem) as server:
        error = fetch_error(serve_feed(server), policy)
        assert server.requests == []
    assert error.code == "tls_error"
    assert "mismatch" in error.params["reason"].lower()


def test_ff11_no_fallback_to_plain_http(tmp_path, agency_dns):
    """FF-11: after a TLS failure, nothing is requested over http://."""
    cert_pem, key_pem = self_signed(HOST)
    with https_fixture_server(cert_pem, key_pem) as server:
        fetch_error(serve_feed(server), loopback_policy())
        assert server.requests == []
        # The server's thread records the failed handshake after the client
        # has already given up, so allow it a moment under load.
        deadline = time.monotonic() + 5
        while not server.tls_failures and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.tls_failures


# -- https to http redirects -------------------------------------------------------


def test_downgrade_redirect_blocked_when_policy_says_so(tmp_path, agency_dns):
    """Camera checks refuse https → http: the https site could not load it."""
    chain = trustme_chain(HOST)
    with (
        https_fixture_server(chain.chain_pem, chain.key_pem) as secure,
        FixtureServer() as plain,
    ):
        plain.route("/cam.jpg", Response(200, {"Content-Type": "image/jpeg"}, b"x"))
        target = plain.url("/cam.jpg")
        secure.route("/cam.jpg", Response(302, {"Location": target}, b""))
        url = secure.url("/cam.jpg", host=HOST)
        roots = write_root(tmp_path, chain)

        allowed = fetch(url, loopback_policy(extra_ca_file=roots))
        error = fetch_error(
            url, loopback_policy(extra_ca_file=roots, allow_https_downgrade=False)
        )

    assert allowed.status == 200
    assert error.code == "redirect_blocked"
    assert "redirect from https to plain http" in error.detail
    assert plain.hits("/cam.jpg") == 1
