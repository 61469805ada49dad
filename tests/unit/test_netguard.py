"""The callback URL guard: https to public addresses only, whatever way the address is written
and whatever the host resolves to; plain http to loopback only when the desk runs locally."""
from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import netguard
from chalicelib.netguard import Refused, Unresolvable, check

PUBLIC_V4, PUBLIC_V6 = "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def resolving(*addresses):
    """A stand-in for getaddrinfo answering `addresses` for any host."""
    def resolve(host, port, *_):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]
    return resolve


def unresolvable(host, port, *_):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture(autouse=True)
def not_local(monkeypatch):
    monkeypatch.delenv("DESK_LOCAL", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)


def test_an_https_url_whose_host_resolves_to_public_addresses_is_accepted():
    target = check("https://hooks.nordlight.example/desk/replies?x=1", resolve=resolving(PUBLIC_V4, PUBLIC_V6))
    assert (target.scheme, target.host, target.port) == ("https", "hooks.nordlight.example", 443)
    assert target.addresses == (PUBLIC_V4, PUBLIC_V6)
    assert check(f"https://{PUBLIC_V4}:8443/x").addresses == (PUBLIC_V4,)  # a literal needs no lookup


@pytest.mark.parametrize("url, why", [
    ("http://hooks.nordlight.example/replies", "https"),
    ("ftp://hooks.nordlight.example/replies", "https"),
    ("javascript:alert(1)", "https"),
    ("https://user:pw@hooks.nordlight.example/", "password"),
    ("https://hooks.nordlight.example@169.254.169.254/", "password"),
    ("https:///replies", "no host"),
    ("https://hooks.nordlight.example:99999/", "port"),
    ("https://hooks.nordlight.example/a b", "not a URL"),
    ("https://hooks.nordlight.example/\r\nX-Injected: 1", "not a URL"),
    ("", "not a URL"),
])
def test_anything_but_a_plain_https_url_is_refused(url, why):
    with pytest.raises(Refused, match=why):
        check(url, resolve=resolving(PUBLIC_V4))


INTERNAL = ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "169.254.170.2",
            "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
            "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1", "2001:db8::1",
            "::ffff:169.254.169.254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::169.254.169.254",
            "2002:a9fe:a9fe::1", "2002:0a00:0001::", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1"]


@pytest.mark.parametrize("address", INTERNAL)
def test_every_internal_address_is_refused_as_a_literal_and_behind_a_name(address):
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(Refused, match="never calls"):
        check(f"https://{literal}/replies")
    with pytest.raises(Refused, match="never calls"):
        check("https://hooks.nordlight.example/replies", resolve=resolving(address))
    # one internal address among public ones is enough to refuse the host
    with pytest.raises(Refused, match="never calls"):
        check("https://hooks.nordlight.example/replies", resolve=resolving(PUBLIC_V4, address, PUBLIC_V6))


@pytest.mark.parametrize("host", ["2852039166", "0xa9fea9fe", "0xA9FEA9FE", "0251.0376.0251.0376", "169.254.43518",
                                  "169.16689662", "0x7f.1", "127.1", "017700000001", "0177.0.0.1", "010.0.0.1",
                                  "0x7f000001", "127.0.0.1."])
def test_ipv4_written_any_way_but_dotted_decimal_is_refused(host):
    # the system resolver reads each of these as an internal address; the guard never asks it
    with pytest.raises(Refused):
        check(f"https://{host}/latest/meta-data/", resolve=socket.getaddrinfo)


def test_the_metadata_service_is_refused_with_its_name():
    with pytest.raises(Refused, match="metadata"):
        check("http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    with pytest.raises(Refused, match="metadata"):
        check("https://[fd00:ec2::254]/latest/meta-data/")


def test_a_host_that_does_not_resolve_is_unresolvable():
    with pytest.raises(Unresolvable, match="does not resolve"):
        check("https://hooks.nordlight.example/replies", resolve=unresolvable)


def test_locally_plain_http_goes_to_loopback_only(monkeypatch):
    monkeypatch.setenv("DESK_LOCAL", "1")
    assert check("http://127.0.0.1:8025/hooks/nordlight-web/replies").addresses == ("127.0.0.1",)
    assert check("http://localhost:8025/hooks", resolve=resolving("127.0.0.1", "::1")).addresses == ("127.0.0.1", "::1")
    for url, resolve in (("http://10.0.0.1/hooks", None), ("http://169.254.169.254/", None),
                         ("http://hooks.nordlight.example/", resolving(PUBLIC_V4)),
                         ("http://sneaky.example/", resolving("127.0.0.1", PUBLIC_V4))):
        with pytest.raises(Refused):
            check(url, resolve=resolve)


def test_desk_local_means_nothing_inside_a_lambda(monkeypatch):
    monkeypatch.setenv("DESK_LOCAL", "1")
    assert netguard.local()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "social-care-desk-prod-outbound_worker")
    assert not netguard.local()
    with pytest.raises(Refused, match="loopback"):
        check("http://127.0.0.1:8025/hooks")


# --- every way of writing an address -----------------------------------------------------------

def _forms(address: ipaddress.IPv4Address) -> list[str]:
    """One IPv4 address as a URL host, in every form a resolver or a URL parser accepts."""
    n = int(address)
    octets = [int(o) for o in str(address).split(".")]
    return [str(address), str(n), hex(n), "0" + oct(n)[2:], ".".join("0" + oct(o)[2:] for o in octets),
            ".".join(hex(o) for o in octets), f"{octets[0]}.{octets[1]}.{(octets[2] << 8) | octets[3]}",
            f"[::ffff:{address}]", f"[::ffff:{octets[0] << 8 | octets[1]:x}:{octets[2] << 8 | octets[3]:x}]",
            f"[64:ff9b::{address}]", f"[2002:{octets[0] << 8 | octets[1]:x}:{octets[2] << 8 | octets[3]:x}::1]"]


BLOCKED_V4 = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                 "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8", "224.0.0.0/4",
                                                 "240.0.0.0/4")]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(network=st.sampled_from(BLOCKED_V4), offset=st.integers(min_value=0, max_value=2 ** 32))
def test_an_internal_ipv4_address_is_refused_in_every_form(network, offset):
    address = network[offset % network.num_addresses]
    for form in _forms(address):
        with pytest.raises(Refused):
            check(f"https://{form}/x", resolve=socket.getaddrinfo)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(n=st.integers(min_value=0, max_value=2 ** 32 - 1), form=st.integers(min_value=0, max_value=10))
def test_whatever_form_is_accepted_reaches_only_a_public_address(n, form):
    address = ipaddress.IPv4Address(n)
    try:
        target = check(f"https://{_forms(address)[form]}/x", resolve=socket.getaddrinfo)
    except Refused:
        return
    assert all(netguard.blocked(ipaddress.ip_address(a)) is None for a in target.addresses)
    assert ipaddress.ip_address(target.addresses[0]) in (address, ipaddress.ip_address(f"::ffff:{address}"),
                                                         ipaddress.ip_address(_forms(address)[form].strip("[]")))
