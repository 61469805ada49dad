"""Meta's webhook, shared by Facebook, Instagram and WhatsApp: one route, one app secret; the
envelope's `object` says which platform an entry belongs to, and each platform's descriptor
names the `object` it reads (`Part`), so nothing here names the platforms."""
from chalicelib.channels.descriptor import Webhook

WEBHOOK = Webhook("/webhooks/meta", "meta", "chalicelib.channels.meta.webhook", "META_APP_SECRET",
                  "x-hub-signature-256", handshake_secret="META_VERIFY_TOKEN")
