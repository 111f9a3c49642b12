"""Server-side HTTP requests made on behalf of clients: ``audio_url`` downloads and webhooks.

Both follow one rule: unless the operator allows it (``EARMARK_ALLOW_PRIVATE_URLS=1``), a
URL whose host resolves to a private, loopback, link-local, multicast, reserved or
unspecified address is refused. Every address the name resolves to is checked, and the
connection then goes to the checked address (the name is not resolved twice), so a DNS
answer that changes between check and use cannot sneak a request onto the local network.
Redirects are followed by hand and each hop is checked again.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

from earmark.errors import DownloadError, EarmarkError
from earmark.storage.files import SizedWriter

__all__ = ["FetchOptions", "Target", "download", "resolve_target"]

_ALLOW_HINT = "set EARMARK_ALLOW_PRIVATE_URLS=1 to allow private, loopback and link-local targets"


@dataclass(frozen=True)
class FetchOptions:
    """Limits of a download.

    max_bytes: largest body accepted.
    timeout_s: connect / read / write timeout of each network operation.
    deadline_s: the whole download must finish within this many seconds.
    allow_private: let URLs reach private, loopback and link-local addresses.
    max_redirects: redirects followed (each target is checked again).
    """

    max_bytes: int
    timeout_s: float = 30.0
    deadline_s: float = 1800.0
    allow_private: bool = False
    max_redirects: int = 5


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to send so the server sees the real host."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, object]


def resolve_target(url: str, allow_private: bool) -> Target:
    """Check ``url`` (scheme, host, addresses) and pin it to a vetted address.

    Raises :class:`DownloadError` with the reason.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DownloadError(f"not a valid URL ({exc})") from exc
    if parsed.scheme not in ("http", "https"):
        raise DownloadError(f"only http and https URLs are supported, not {parsed.scheme!r}")
    host = parsed.host
    if not host:
        raise DownloadError("the URL has no host")
    if allow_private:
        return Target(url=parsed, headers={}, extensions={})
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError(f"the host name {host!r} could not be resolved") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise DownloadError(f"the host name {host!r} could not be resolved")
    for addr in addresses:
        reason = _forbidden(addr)
        if reason:
            raise DownloadError(
                f"{host} resolves to {addr}, a {reason} address; requests to such addresses "
                f"are refused ({_ALLOW_HINT})"
            )
    pinned = parsed.copy_with(host=addresses[0])
    netloc = host if parsed.port is None else f"{host}:{parsed.port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if parsed.port is None else f"[{host}]:{parsed.port}"
    extensions: dict[str, object] = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return Target(url=pinned, headers={"Host": netloc}, extensions=extensions)


def _forbidden(addr: str) -> str | None:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:
        return "non-public"
    return None


def download(url: str, writer: SizedWriter, options: FetchOptions) -> None:
    """Stream ``url`` into ``writer`` (not committed). Raises :class:`DownloadError`
    ("Download error, unable to download <url>: <why>")."""
    try:
        _download(url, writer, options)
    except EarmarkError as exc:
        raise DownloadError(f"Download error, unable to download {url}: {exc.message}") from exc
    except httpx.TimeoutException as exc:
        raise DownloadError(
            f"Download error, unable to download {url}: timed out after "
            f"{options.timeout_s:g} s ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"Download error, unable to download {url}: {_describe(exc)}") from exc


def _download(url: str, writer: SizedWriter, options: FetchOptions) -> None:
    timeout = httpx.Timeout(options.timeout_s)
    started = time.monotonic()
    current = url
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(options.max_redirects + 1):
            target = resolve_target(current, options.allow_private)
            request = client.build_request(
                "GET", target.url, headers=target.headers, extensions=target.extensions
            )
            response = client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = str(httpx.URL(current).join(location))
                    continue
                if response.status_code != 200:
                    raise DownloadError(f"the server answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > options.max_bytes:
                    raise DownloadError(
                        f"the file is {int(declared) // 1_000_000} MB, over the limit of "
                        f"{options.max_bytes // 1_000_000} MB (EARMARK_MAX_UPLOAD_MB)"
                    )
                for chunk in response.iter_bytes(chunk_size=1 << 16):
                    writer.write(chunk)
                    if time.monotonic() - started > options.deadline_s:
                        raise DownloadError(
                            f"the download did not finish within {options.deadline_s:g} s"
                        )
                if writer.size == 0:
                    raise DownloadError("the server sent an empty file")
                return
            finally:
                response.close()
    raise DownloadError(f"more than {options.max_redirects} redirects")


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text.lower():
            return "the connection was refused"
        return f"could not connect ({text})"
    return text
