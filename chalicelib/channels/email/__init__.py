"""Email: what the desk knows about the channel without importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind

ID = "email"

CHANNEL = ChannelInfo(
    ID, "Email", (Kind("email", "email"),),
    (Counter("private", "characters", 100_000, ("email",)),),
    ("M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2Zm0 2v.4l8 5 8-5V7H4Zm16 "
     "2.7-7.5 4.7a1 1 0 0 1-1 0L4 9.7V17h16V9.7Z",),
    "#4b5563")  # SES ▸ SNS ▸ email_inbound, no webhook
