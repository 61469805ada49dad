"""Toy: a made-up chat platform, added the way docs/ARCHITECTURE.md says a channel is added. Its
descriptor is all the desk reads about it; its webhook module verifies and parses what it sends.
Registered by a test fixture (tests/integration/test_add_a_channel.py), never shipped."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Webhook

ID = "toy"
WEBHOOK = Webhook("/webhooks/toy", "toy", "tests.channels.toy.webhook", "TOY_CHANNEL_SECRET", "x-toy-signature")

CHANNEL = ChannelInfo(
    ID, "Toy", (Kind("chat", "chat message"),),
    (Counter("private", "characters", 500, ("toy_chat",)),),
    ("M5 5h14v10H9l-4 4V5Z",),
    "#0f766e", WEBHOOK)
