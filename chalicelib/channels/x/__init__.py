"""X: what the desk knows about the channel without importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Webhook

ID = "x"
WEBHOOK = Webhook("/webhooks/x", "x", "chalicelib.channels.x.webhook", "X_CONSUMER_SECRET",
                  "x-twitter-webhooks-signature")

CHANNEL = ChannelInfo(
    ID, "X", (Kind("tweet", "tweet"), Kind("dm", "direct message")),
    (Counter("public", "x", 280, ("x_reply",)), Counter("private", "characters", 10_000, ("x_dm",))),
    ("M4 3h4.6l4.1 5.7L17.6 3H20l-6.1 7.1L21 21h-4.6l-4.5-6.2L6.6 21H4l6.8-7.9L4 3Zm3.3 1.6 9.9 14.8h1.5L8.8 "
     "4.6H7.3Z",),
    "#111827", WEBHOOK)
