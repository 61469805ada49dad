"""Instagram: what the desk knows about the channel without importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Part
from chalicelib.channels.meta import WEBHOOK

ID = "instagram"

CHANNEL = ChannelInfo(
    ID, "Instagram", (Kind("comment", "comment"), Kind("mention", "mention"), Kind("message", "message")),
    (Counter("public", "characters", 2_200, ("ig_comment_reply", "ig_mention_reply")),
     Counter("private", "bytes", 1_000, ("ig_private_reply", "ig_dm"))),
    ("M8 3h8a5 5 0 0 1 5 5v8a5 5 0 0 1-5 5H8a5 5 0 0 1-5-5V8a5 5 0 0 1 5-5Zm0 2a3 3 0 0 0-3 3v8a3 3 0 0 0 3 "
     "3h8a3 3 0 0 0 3-3V8a3 3 0 0 0-3-3H8Zm4 3.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7Zm0 2a1.5 1.5 0 1 0 0 3 "
     "1.5 1.5 0 0 0 0-3ZM16.8 6a1 1 0 1 1 0 2 1 1 0 0 1 0-2Z",),
    "#be185d", WEBHOOK,
    part=Part("instagram", "chalicelib.channels.instagram.webhook"))  # Meta's `object: instagram` entries
