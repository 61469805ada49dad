"""WhatsApp: what the desk knows about the channel without importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Part
from chalicelib.channels.meta import WEBHOOK

ID = "whatsapp"

CHANNEL = ChannelInfo(
    ID, "WhatsApp", (Kind("message", "message"),),
    (Counter("private", "characters", 4_096, ("whatsapp",)),),
    ("M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3Zm0 2a7 7 0 1 1-3.6 13l-.3-.2-2.3.6.6-2.2-.2-.4A7 7 "
     "0 0 1 12 5Zm-2.6 3.3c-.2 0-.5 0-.7.3-.3.3-.9.9-.9 2.1s.9 2.4 1 2.6c.1.2 1.8 2.8 4.4 3.8 2.2.8 2.6.7 "
     "3.1.6.5-.1 1.5-.6 1.7-1.2.2-.6.2-1.1.1-1.2l-.5-.3-1.6-.8c-.2-.1-.4-.1-.6.1l-.7.9c-.1.2-.3.2-.5.1-.3-.1-1-.4"
     "-1.9-1.2-.7-.6-1.2-1.4-1.3-1.6-.1-.3 0-.4.1-.5l.4-.5.3-.4v-.5l-.7-1.8c-.2-.4-.4-.4-.6-.4h-.5Z",),
    "#047857", WEBHOOK, digit_ids=True,
    part=Part("whatsapp_business_account", "chalicelib.channels.whatsapp.webhook"))  # Meta's `object`
