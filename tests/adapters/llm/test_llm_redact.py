"""Keys never reach an error message: the client's own key, and anything
shaped like a key of the vendors we speak to."""

from __future__ import annotations

import pytest

from swarmyard.adapters.llm._redact import Redactor, safe_url


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.DEF-123_xyz was refused", "abc.DEF-123_xyz"),
        ("authorization: bearer 0123456789abcdef", "0123456789abcdef"),
        ("invalid x-api-key: k-123-secret", "k-123-secret"),
        ('{"X-Goog-Api-Key": "g-456-secret"}', "g-456-secret"),
        ("GET /v1beta/models/g:generateContent?alt=sse&key=q-789-secret", "q-789-secret"),
        ("see ?api_key=q-000-secret&x=1", "q-000-secret"),
        ("Incorrect API key provided: sk-proj-abcdEFGH1234", "sk-proj-abcdEFGH1234"),
        ("bad key sk-ant-api03-abcdEFGH1234-xyz", "sk-ant-api03-abcdEFGH1234-xyz"),
        ("API key AIzaSyA1b2C3d4E5f6G7h8 not valid", "AIzaSyA1b2C3d4E5f6G7h8"),
    ],
)
def test_key_shapes_are_hidden_whoever_owns_them(text: str, secret: str) -> None:
    redacted = Redactor().redact(text)
    assert secret not in redacted
    assert "***" in redacted


def test_the_clients_own_key_is_hidden_whatever_its_shape() -> None:
    redactor = Redactor("plain-key-without-a-known-shape")
    assert redactor.redact("key plain-key-without-a-known-shape refused") == "key *** refused"


def test_ordinary_text_is_left_alone() -> None:
    text = "model 'gpt-4o' at https://api.openai.com/v1: HTTP 429, rate limited: slow down"
    assert Redactor("sk-not-in-there-123").redact(text) == text


def test_safe_url_drops_credentials_and_query() -> None:
    assert safe_url("https://user:pw@example.com:8443/v1?key=abc") == "https://example.com:8443/v1"
    assert safe_url("http://[::1]:11434/v1") == "http://[::1]:11434/v1"
    assert safe_url("http://example.com:notaport/") == "the configured endpoint"
