"""The fetcher's rules, without a network: host notation, address ranges, URL form."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from swarmyard.adapters.net import EgressRules, parse_host, parse_url, refusal
from swarmyard.ports.net import FetchRefused


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.0x10.010.1", "10.16.8.1"),
        ("1.2.3.4.", "1.2.3.4"),  # a trailing dot is the same host
        ("0", "0.0.0.0"),
    ],
)
def test_numeric_hosts_mean_the_address_a_resolver_would_see(raw: str, address: str) -> None:
    host = parse_host(raw)
    assert host.address == IPv4Address(address)
    assert host.name == address


@pytest.mark.parametrize(
    "raw", ["1.2.3.4.5", "256.1.1.1", "1.2.3.256", "example.123", "08.1.1.1", "0xg.1"]
)
def test_hosts_that_look_numeric_but_are_no_address_are_refused(raw: str) -> None:
    with pytest.raises(FetchRefused) as caught:
        parse_host(raw)
    assert caught.value.rule == "host"


def test_names_are_lowered_and_idna_encoded() -> None:
    assert parse_host("Example.COM.").name == "example.com"
    assert parse_host("bücher.example").name == "xn--bcher-kva.example"
    assert parse_host("::1", bracketed=True).address == IPv6Address("::1")


@pytest.mark.parametrize("raw", ["exa mple.com", "a..b", "-a.com", "%31%32%37.0.0.1"])
def test_malformed_names_are_refused(raw: str) -> None:
    with pytest.raises(FetchRefused):
        parse_host(raw)


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "private"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("2001:db8::1", "reserved"),
        # IPv4 inside IPv6: judged by the IPv4 address.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::10.0.0.1", "private"),
        ("64:ff9b::127.0.0.1", "loopback"),
        ("64:ff9b:1::1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a00:1::", "private"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo for 127.0.0.1
    ],
)
def test_addresses_inside_the_host_or_its_networks_are_refused(address: str, rule: str) -> None:
    why = refusal(ip_address(address))
    assert why is not None
    assert why.rule == rule


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_nothing_private_is_allowed_by_default() -> None:
    assert EgressRules().check(ip_address("10.0.0.1"), host="wiki.corp") is not None


def test_an_allow_list_opens_the_networks_and_hosts_it_names_and_no_more() -> None:
    rules = EgressRules.parse(["10.0.0.0/8", "127.0.0.1", "wiki.corp", "*.lab.corp", " "])
    assert rules.check(ip_address("10.9.9.9")) is None
    assert rules.check(ip_address("::ffff:10.9.9.9")) is None  # the same address, mapped
    assert rules.check(ip_address("127.0.0.1")) is None
    assert rules.check(ip_address("127.0.0.2")) is not None
    assert rules.check(ip_address("192.168.1.1"), host="wiki.corp") is None
    assert rules.check(ip_address("192.168.1.1"), host="a.lab.corp") is None
    assert rules.check(ip_address("192.168.1.1"), host="other.corp") is not None


def test_metadata_stays_refused_whatever_the_allow_list_says() -> None:
    rules = EgressRules.parse(["169.254.0.0/16", "0.0.0.0/0", "metadata.corp"])
    why = rules.check(ip_address("169.254.169.254"), host="metadata.corp")
    assert why is not None
    assert why.rule == "metadata"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com:70/_stats", "scheme"),
        ("ftp://example.com/", "scheme"),
        ("data:text/plain,hello", "scheme"),
        ("dict://example.com:11211/stats", "scheme"),
        ("//example.com/", "scheme"),
        ("example.com/page", "scheme"),
        ("http://user:secret@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://@example.com/", "credentials"),
        ("http://example.com:0/", "port"),
        ("http://example.com:99999/", "port"),
        ("http://example.com:8o/", "port"),
        ("http://[::1/", "url"),
        ("http://exa\tmple.com/", "url"),
        ("http://example.com\\@10.0.0.1/", "url"),
        ("http://example.com/\r\nX-Injected: 1", "url"),
        ("http://[fe80::1%25eth0]/", "host"),
        ("http:///path", "host"),
        ("http://" + "a" * 9000 + ".com/", "url"),
    ],
)
def test_malformed_or_forbidden_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(FetchRefused) as caught:
        parse_url(url)
    assert caught.value.rule == rule
    assert rule in str(caught.value)


def test_a_url_is_rebuilt_from_its_checked_parts() -> None:
    target = parse_url("HTTPS://Example.COM:443/a%20b/é?q=1&r=ü#fragment")
    assert target.url == "https://example.com/a%20b/%C3%A9?q=1&r=%C3%BC"
    assert target.authority == "example.com"
    v6 = parse_url("http://[2606:4700::1111]:8080")
    assert v6.url == "http://[2606:4700::1111]:8080/"
    assert v6.host.name == "2606:4700::1111"  # what the connection and TLS are given
