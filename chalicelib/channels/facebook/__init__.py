"""Facebook: what the desk knows about the channel without importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Part
from chalicelib.channels.meta import WEBHOOK

ID = "facebook"

CHANNEL = ChannelInfo(
    ID, "Facebook",
    (Kind("post", "post"), Kind("mention", "mention"), Kind("comment", "comment"), Kind("message", "message")),
    (Counter("public", "characters", 8_000, ("fb_comment_reply",)),
     Counter("private", "characters", 2_000, ("fb_private_reply", "messenger"))),
    ("M13.5 21v-7.5h2.6l.4-3h-3V8.6c0-.9.3-1.5 1.5-1.5h1.6V4.4c-.3 0-1.2-.1-2.3-.1-2.3 0-3.9 1.4-3.9 "
     "4v2.2H8v3h2.4V21h3.1Z",),
    "#1d4ed8", WEBHOOK,
    part=Part("page", "chalicelib.channels.facebook.webhook"))  # Meta's `object: page` entries
