"""Outbound requests to URLs a desk admin configures (the API channel's `callback_url`) may reach
the public internet only, never the desk's own network (SSRF).

`check(url)` is called when the URL is saved (PATCH /api/accounts → 400 naming the field) and
again at send time (channels/api/send.py), because DNS can change between the two. It refuses:

* any scheme but `https`; plain `http` only when the desk runs locally, and then only to a
  loopback address (the local stack's platform sandbox);
* credentials in the URL (`user:password@host`), a missing host, a bad port, whitespace;
* IPv4 written any way but dotted decimal (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`,
  `169.254.43518`: the resolver would read them as 169.254.169.254);
* a host that resolves (`socket.getaddrinfo`) to ANY address that is loopback (except locally),
  private, link-local, unique-local, site-local, shared (100.64/10), reserved, multicast,
  unspecified or not globally routable, or a cloud metadata address (169.254.169.254,
  169.254.170.2, fd00:ec2::254), whether the resolver returns it plainly or inside an
  IPv4-mapped, IPv4-compatible, 6to4 or NAT64 IPv6 address.

`check` answers the addresses it judged; the sender connects to one of them (not to a second
resolution), so a DNS answer that changes between the check and the connection (rebinding)
cannot move the request inside. TLS still verifies the certificate for the host name.

"Locally" is `DESK_LOCAL=1`, which `infra/local` sets for the one-machine stack; it is ignored
inside a Lambda function (`AWS_LAMBDA_FUNCTION_NAME` set), so a stray variable in a deployed
stage cannot open loopback. Imports only the standard library and errors.
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Optional, Union

from chalicelib.errors import DeskError

IP = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254"))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not the public internet
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+)){0,3}\.?$", re.IGNORECASE)

Resolver = Callable[..., list]
resolver: Resolver = socket.getaddrinfo  # the one name lookup (tests put a stand-in here)


class Refused(DeskError):
    """The URL may not be called; `reason` says why, for the admin (never the answer of a host)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unresolvable(Refused):
    """The host name does not resolve now: refused on save, retried later at send time."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, each judged safe


def local() -> bool:
    """The desk runs on one machine (infra/local sets DESK_LOCAL=1); never inside a Lambda."""
    return os.environ.get("DESK_LOCAL") == "1" and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def check(url: str, resolve: Optional[Resolver] = None, allow_local: Optional[bool] = None) -> Target:
    """The URL's target with the addresses it resolves to, or Refused / Unresolvable."""
    is_local = local() if allow_local is None else allow_local
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c.isspace() or ord(c) < 32 for c in url):
        raise Refused("not a URL")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("not a URL (bad host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise Refused("use an https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("no user name or password in the URL; the request is signed instead")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    if port == 0:
        raise Refused("not a URL (bad host or port)")
    if _NUMERIC_HOST.match(host) and not _DOTTED_QUAD.match(host):
        raise Refused("write an IPv4 address as four decimal numbers (a.b.c.d)")
    addresses = _resolve(host, port, resolve or resolver)
    for address in addresses:
        why = blocked(address, is_local)
        if why:
            raise Refused(f"{host} resolves to {why}, which the desk never calls")
    if scheme == "http" and not (is_local and all(address.is_loopback for address in map(_unwrap, addresses))):
        raise Refused("use an https:// URL (plain http only to this machine when the desk runs locally)")
    return Target(url=url, scheme=scheme, host=host, port=port, addresses=tuple(str(a) for a in addresses))


def _resolve(host: str, port: int, resolve: Resolver) -> list[IP]:
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
        return [literal]
    except ValueError:
        pass
    try:
        answers = resolve(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as err:
        raise Unresolvable(f"{host} does not resolve") from err
    addresses = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
    if not addresses:
        raise Unresolvable(f"{host} does not resolve")
    return list(dict.fromkeys(addresses))


def _embedded_ipv4(address: IP) -> Optional[ipaddress.IPv4Address]:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, IPv4-compatible (deprecated)
        return ipaddress.IPv4Address(int(address))
    return None


def _unwrap(address: IP) -> IP:
    return _embedded_ipv4(address) or address


def blocked(address: IP, allow_loopback: bool = False) -> Optional[str]:
    """Why the desk must not connect to `address` (None: a public address it may call)."""
    if address in METADATA:
        return "a cloud metadata address"
    inner = _embedded_ipv4(address)
    if inner is not None:
        why = blocked(inner, allow_loopback)
        if why or address.ipv4_mapped:  # a mapped address is exactly its IPv4 address
            return why
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 6 and address.is_site_local:
        return "a site-local address"
    if address.is_private or (address.version == 4 and address in SHARED):
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None
