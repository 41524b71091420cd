"""Refuse the requests that other web sites can make to the local chat server, and harden its pages.

Why this exists: the chat page has no login and listens on loopback. That keeps other machines
out, but not other *web sites*: any page the user has open can make the browser send requests to
``http://127.0.0.1:7860``. Two attacks follow, and this middleware closes both:

- **DNS rebinding.** A site's own name is made to resolve to 127.0.0.1, so the browser treats
  the local server as that site and lets the site's scripts read its answers. The request still
  carries the attacker's name in its ``Host`` header, so a request whose Host is not one of this
  server's names gets **400** (:class:`SecurityMiddleware` ``allowed_hosts``).
- **Cross-site requests (CSRF, reading answers through CORS).** Browsers mark them with an
  ``Origin`` header. A request whose Origin is neither this server itself nor a configured
  origin gets **403** before it reaches the app, and no ``Access-Control-*`` header is ever sent
  to an origin that was not configured, so no other page, not even one on another localhost
  port, may read a response.

Every response also gets headers that tell the browser to keep the page to itself: a
Content-Security-Policy allowing only this server's own scripts, styles, images and connections
(the Gradio front end needs inline styles and scripts, so those are allowed, but nothing from
another host), no framing (clickjacking), no MIME sniffing, and no Referer leaving the page.

It is a plain ASGI middleware with no dependencies, so it wraps any ASGI app and is tested on a
tiny one. Request bodies are never read here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Names a browser on this machine uses for a loopback server; allowed by default."""

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    # Measured in Chromium on the chat page, each relaxation is one the page needs: the HTML
    # carries its config in inline <script>s (different per request, so no hash can pin them),
    # gr.HTML evaluates its templates with new Function() ('unsafe-eval'), components set inline
    # styles, and the theme's icons are data: SVGs. Nothing may load from another host.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # The page needs no device or sensor: deny them all, so injected script could not ask.
    "Permissions-Policy": ", ".join(f"{feature}=()" for feature in (
        "camera", "microphone", "geolocation", "usb", "serial", "bluetooth", "hid", "payment",
        "display-capture", "accelerometer", "gyroscope", "magnetometer", "midi",
        "screen-wake-lock", "xr-spatial-tracking")),
}

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}

HostPort = tuple[str, int | None]
Origin = tuple[str, str, int]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_allowed_hosts(*, bind_host: str) -> list[str]:
    """The loopback names plus the address the server binds (unless it is a wildcard)."""
    hosts = list(LOOPBACK_HOSTS)
    name = bind_host.strip("[]").lower()
    if name and name not in ("0.0.0.0", "::") and name not in hosts:
        hosts.append(name)
    return hosts


def parse_host(value: str) -> HostPort | None:
    """``"name"``, ``"name:port"``, ``"[v6]:port"`` or a bare IPv6 address as (name, port); None if malformed."""
    value = value.strip().lower()
    port: str | None = None
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    elif value.count(":") > 1:  # a bare IPv6 address has no port
        name = value
    else:
        name, sep, port_text = value.partition(":")
        port = port_text if sep else None
    name = name.rstrip(".")  # "localhost." is the same name as "localhost"
    if not name or any(c.isspace() or c in "/\\@?#" for c in name):
        return None
    if port is None:
        return name, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return name, int(port)


def parse_origin(value: str) -> Origin | None:
    """An Origin header (``scheme://host[:port]``) as (scheme, host, port); None for "null" or junk."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return scheme, parts.hostname.rstrip("."), port or _DEFAULT_PORTS[scheme]


class SecurityMiddleware:
    """Reject foreign Host (400) and foreign Origin (403); add :data:`SECURITY_HEADERS` to every response.

    ``allowed_hosts``: names (``"localhost"``) or ``"name:port"`` entries; a name without a port
    matches any port, and ``"*"`` turns the Host check off. ``allowed_origins``: origins other
    than the server itself (``"http://localhost:3000"``) that may call it from a browser; only
    they ever receive ``Access-Control-*`` headers (which a CORS layer inside adds).
    """

    def __init__(
        self,
        app,
        *,
        allowed_hosts: Iterable[str],
        allowed_origins: Iterable[str] = (),
        headers: Mapping[str, str] = SECURITY_HEADERS,
    ) -> None:
        self.app = app
        hosts = list(allowed_hosts)
        self.any_host = "*" in hosts
        self.hosts: set[HostPort] = set()
        for entry in hosts:
            if entry == "*":
                continue
            parsed = parse_host(entry)
            if parsed is None:
                raise ValueError(f"not a host name or host:port: {entry!r}")
            self.hosts.add(parsed)
        self.origins: set[Origin] = set()
        for entry in allowed_origins:
            parsed_origin = parse_origin(entry)
            if parsed_origin is None:
                raise ValueError(f"not an origin (scheme://host[:port]): {entry!r}")
            self.origins.add(parsed_origin)
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self._replaced = {k for k, _ in self.headers}

    def host_allowed(self, host: HostPort | None) -> bool:
        if self.any_host:
            return True
        return host is not None and (host in self.hosts or (host[0], None) in self.hosts)

    def origin_allowed(self, origin: str, host: HostPort, scheme: str) -> bool:
        """Same origin as the request's own Host and scheme, or a configured origin."""
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        if parsed in self.origins:
            return True
        own_scheme = _SCHEMES.get(scheme, scheme)
        own = (own_scheme, host[0], host[1] or _DEFAULT_PORTS.get(own_scheme, 0))
        return parsed == own

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = _header(scope, b"host")
        host = parse_host(raw) if raw is not None else None
        if not self.host_allowed(host):
            await self._refuse(scope, receive, send, 400, "Bad Request: this server does not answer to that Host "
                               "name (set CZQA_WEB__ALLOWED_HOSTS to allow it).\n")
            return
        origin = _header(scope, b"origin")
        if origin is not None and not self.origin_allowed(origin, host or ("", None), scope.get("scheme", "http")):
            await self._refuse(scope, receive, send, 403, "Forbidden: cross-origin requests are not accepted "
                               "(set CZQA_WEB__ALLOWED_ORIGINS to allow an origin).\n")
            return
        configured = origin is not None and parse_origin(origin) in self.origins

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", [])
                    if k.lower() not in self._replaced and (configured or not k.lower().startswith(b"access-control-"))
                ]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope, receive, send, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect; closing before accepting makes the server answer 403
            await send({"type": "websocket.close", "code": 1008})
            return
        body = text.encode()
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *self.headers,
            ],
        })
        await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
