"""The API channel (a brand's own app or site posts messages): what the desk knows about it without
importing its adapters."""
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Webhook

ID = "api"
WEBHOOK = Webhook("/webhooks/api", "api", "chalicelib.channels.api.webhook", "API_CHANNEL_SECRET",
                  "x-signature-256")

CHANNEL = ChannelInfo(
    ID, "API", (Kind("message", "message"),),
    (Counter("public", "characters", 10_000, ("api_callback",)),
     Counter("private", "characters", 10_000, ("api_callback",))),
    ("M8.5 4H10v2H8.6c-.5 0-.6.2-.6.6v3.3c0 .9-.4 1.6-1.2 2.1.8.5 1.2 1.2 1.2 2.1v3.3c0 .4.1.6.6.6H10v2H8.5C6.9 "
     "20 6 19.2 6 17.6v-3.1c0-.7-.4-1.1-1.5-1.1H4v-2.8h.5c1.1 0 1.5-.4 1.5-1.1V6.4C6 4.8 6.9 4 8.5 4Zm7 0C17.1 4 "
     "18 4.8 18 6.4v3.1c0 .7.4 1.1 1.5 1.1h.5v2.8h-.5c-1.1 0-1.5.4-1.5 1.1v3.1c0 1.6-.9 2.4-2.5 2.4H14v-2h1.4c"
     ".5 0 .6-.2.6-.6v-3.3c0-.9.4-1.6 1.2-2.1-.8-.5-1.2-1.2-1.2-2.1V6.6c0-.4-.1-.6-.6-.6H14V4h1.5Z",),
    "#6d28d9", WEBHOOK)
