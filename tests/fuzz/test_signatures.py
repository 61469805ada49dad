"""Property-based tests of every signature check and of the X CRC answer.

Invariants: only the exact signature of the exact bytes, made with the channel's secret,
verifies; a changed byte, a changed secret, a missing header or an unset secret never does;
the CRC answers only token-shaped values, none of which could be a JSON body.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.channels import signing
from chalicelib.channels.api import webhook as api
from chalicelib.channels.meta import webhook as meta
from chalicelib.channels.x import webhook as x
from chalicelib.errors import InvalidSignature
from tests.fuzz.strategies import raw_bodies
from tests.fuzz.test_parsers import API_SEEDS, META_SEEDS, X_SEEDS

CHANNELS = [(x, signing.base64_signature, X_SEEDS), (meta, signing.hex_signature, META_SEEDS),
            (api, signing.hex_signature, API_SEEDS)]
SECRETS = st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s)


@pytest.mark.parametrize("adapter, sign, seeds", CHANNELS, ids=["x", "meta", "api"])
@given(data=st.data(), secret=SECRETS)
def test_only_the_exact_signature_of_the_exact_bytes_verifies(adapter, sign, seeds, data, secret):
    body = data.draw(raw_bodies(seeds))
    good = sign(secret, body)
    adapter.verify(body, good, secret)  # the platform's own signature verifies
    adapter.verify(body, f"  {good}\n", secret)  # whitespace around a header value is not content
    other = data.draw(st.binary(max_size=64) | raw_bodies(seeds))
    assume(other != body)
    with pytest.raises(InvalidSignature):
        adapter.verify(other, good, secret)  # another body under this signature
    with pytest.raises(InvalidSignature):
        adapter.verify(body, sign(secret + "x", body), secret)  # signed with another secret
    with pytest.raises(InvalidSignature):
        adapter.verify(body, good, "")  # no secret configured: nothing verifies
    with pytest.raises(InvalidSignature):
        adapter.verify(body, None, secret)


@pytest.mark.parametrize("adapter", [x, meta, api], ids=["x", "meta", "api"])
@given(body=st.binary(max_size=2048), header=st.one_of(st.none(), st.text(max_size=120)), secret=SECRETS)
def test_a_guessed_header_never_verifies(adapter, body, header, secret):
    expected = (signing.base64_signature if adapter is x else signing.hex_signature)(secret, body)
    assume(header is None or header.strip() != expected)
    with pytest.raises(InvalidSignature):
        adapter.verify(body, header, secret)


@given(st.one_of(st.text(max_size=200), st.from_regex(r"[A-Za-z0-9+/=_-]{1,140}", fullmatch=True),
                 st.integers().map(str), st.dictionaries(st.text(max_size=5), st.integers()).map(json.dumps)))
def test_the_crc_answers_only_values_that_cannot_be_a_json_body(token):
    if x.is_crc_token(token):
        with pytest.raises(ValueError):
            json.loads(token)
        assert x.crc_response(token, "secret")["response_token"].startswith("sha256=")
    else:
        with pytest.raises(ValueError):
            x.crc_response(token, "secret")
