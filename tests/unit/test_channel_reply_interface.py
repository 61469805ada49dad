"""Every channel package keeps the reply interface (chalicelib/channels/reply.py): its replies.py names
exactly the actions its descriptor counts, plans only kinds the channel produces, and its send.py has a
sender for every action, each given something the worker knows how to fetch."""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.channels import registry
from chalicelib.channels.reply import ACCOUNT, Sender, module
from chalicelib.outbound.credentials import for_sender


@pytest.mark.parametrize("channel", registry.CHANNELS, ids=lambda c: c.id)
def test_a_channels_reply_modules_cover_its_descriptor(channel):
    replies, send = module(channel, "replies"), module(channel, "send")
    counted = {action for counter in channel.counters for action in counter.actions}
    # Then the actions its planners may choose are the ones its counters measure, each named for the agent
    assert set(replies.ACTIONS) == counted and all(replies.ACTIONS.values())
    assert set(replies.PLANNERS) <= {kind.id for kind in channel.kinds}
    # and each has a sender, given the account's credential, a platform secret (the desk's, or the
    # account's own), an AWS client or nothing
    # (plus, for some actions, the CSAT survey sent the same way: `<action>_survey`, chalicelib/surveys.py)
    assert {a.removesuffix("_survey") for a in send.SENDERS} == counted
    for sender in send.SENDERS.values():
        assert isinstance(sender, Sender)
        assert sender.credential in (ACCOUNT, None) or sender.credential.split(":")[0] in (
            "secret", "account_secret", "aws")


def test_a_module_a_package_does_not_have_is_none_and_a_channel_elsewhere_is_found_by_its_package():
    x = registry.get("x")
    assert module(x, "authors") is None and module(None, "send") is None
    assert module(registry.get("facebook"), "authors").author
    moved = dataclasses.replace(x, package="tests.channels.toy")
    assert module(moved, "replies").ACTIONS == {"toy_chat": "a Toy chat message"}


def test_a_sender_that_needs_nothing_is_given_nothing():
    assert for_sender(None, "toy", "account-1") is None


def test_an_account_secret_is_the_accounts_own_else_the_shared_one_and_never_another_accounts(monkeypatch):
    from chalicelib import config
    from chalicelib.errors import MissingCredential

    for key in ("PLATFORM_SECRET_ID", "API_CHANNEL_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("API_CHANNEL_SECRET:shop-web", "own-of-shop")
    monkeypatch.setenv("API_CHANNEL_SECRET:rival-web", "own-of-rival")
    config.reset()
    try:
        spec = "account_secret:API_CHANNEL_SECRET"
        assert for_sender(spec, "api", "shop-web") == "own-of-shop"
        with pytest.raises(MissingCredential):  # no own secret and no shared one: nothing, not ""
            for_sender(spec, "api", "new-web")
        monkeypatch.setenv("API_CHANNEL_SECRET", "shared")
        config.reset()
        assert for_sender(spec, "api", "new-web") == "shared"  # the transition
        assert for_sender(spec, "api", "shop-web") == "own-of-shop"  # its own still wins
    finally:
        config.reset()
