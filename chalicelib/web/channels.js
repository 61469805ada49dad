// The channels as the server's registry describes them (GET /api/channels, chalicelib/channel_registry.py):
// loaded once after sign-in, they give every name, icon, colour, kind name, filter option and reply
// counter the UI shows. The UI keeps no list of its own: a channel the server adds appears here.

import { call } from "./api.js";
import { drawIcon } from "./icons.js";

let byId = new Map();

// Resolves to true when the channels were read; on failure badges fall back to the channel's id.
export async function loadChannels() {
  const res = await call("/channels");
  if (res.ok && Array.isArray(res.data?.items)) byId = new Map(res.data.items.map((c) => [c.id, c]));
  return res.ok;
}

export function channelIds() { return [...byId.keys()]; }
export function channelName(id) { return byId.get(id)?.name || id; }
export function channelColor(id) { return byId.get(id)?.color; }
export function kindName(channel, kind) { return byId.get(channel)?.kinds?.find((k) => k.id === kind)?.name || kind; }

// How a reply of this visibility is counted on the channel: {counting: "x"|"characters"|"bytes", limit}.
export function channelCounter(id, visibility) { return byId.get(id)?.counter?.[visibility] || null; }

export function channelIcon(id, size = 16) {
  const channel = byId.get(id);
  return drawIcon(channel?.icon || [], size, channel?.color);
}

// A channel badge: the glyph in the platform's (contrast-checked) colour, and its name.
export function channelBadge(channel, { label = true, kind } = {}) {
  const span = document.createElement("span");
  span.className = "channel";
  span.dataset.channel = channel;
  span.append(channelIcon(channel));
  const name = channelName(channel);
  const text = document.createElement("span");
  text.className = label ? "channel-name" : "visually-hidden";
  text.textContent = kind && kind !== channel ? `${name} ${kindName(channel, kind)}` : name;
  span.append(text);
  return span;
}
