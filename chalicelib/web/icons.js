// Channel icons as inline SVG (no icon font, nothing fetched), each with a text name beside it
// for screen readers and for anyone who does not know the logos.

const SVG = "http://www.w3.org/2000/svg";

// 24×24 glyphs, drawn for this desk (not the platforms' trademarked artwork).
const PATHS = {
  x: ["M4 3h4.6l4.1 5.7L17.6 3H20l-6.1 7.1L21 21h-4.6l-4.5-6.2L6.6 21H4l6.8-7.9L4 3Zm3.3 1.6 9.9 14.8h1.5L8.8 4.6H7.3Z"],
  facebook: ["M13.5 21v-7.5h2.6l.4-3h-3V8.6c0-.9.3-1.5 1.5-1.5h1.6V4.4c-.3 0-1.2-.1-2.3-.1-2.3 0-3.9 1.4-3.9 4v2.2H8v3h2.4V21h3.1Z"],
  instagram: ["M8 3h8a5 5 0 0 1 5 5v8a5 5 0 0 1-5 5H8a5 5 0 0 1-5-5V8a5 5 0 0 1 5-5Zm0 2a3 3 0 0 0-3 3v8a3 3 0 0 0 3 3h8a3 3 0 0 0 3-3V8a3 3 0 0 0-3-3H8Zm4 3.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7Zm0 2a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3ZM16.8 6a1 1 0 1 1 0 2 1 1 0 0 1 0-2Z"],
  whatsapp: ["M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3Zm0 2a7 7 0 1 1-3.6 13l-.3-.2-2.3.6.6-2.2-.2-.4A7 7 0 0 1 12 5Zm-2.6 3.3c-.2 0-.5 0-.7.3-.3.3-.9.9-.9 2.1s.9 2.4 1 2.6c.1.2 1.8 2.8 4.4 3.8 2.2.8 2.6.7 3.1.6.5-.1 1.5-.6 1.7-1.2.2-.6.2-1.1.1-1.2l-.5-.3-1.6-.8c-.2-.1-.4-.1-.6.1l-.7.9c-.1.2-.3.2-.5.1-.3-.1-1-.4-1.9-1.2-.7-.6-1.2-1.4-1.3-1.6-.1-.3 0-.4.1-.5l.4-.5.3-.4v-.5l-.7-1.8c-.2-.4-.4-.4-.6-.4h-.5Z"],
  email: ["M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2Zm0 2v.4l8 5 8-5V7H4Zm16 2.7-7.5 4.7a1 1 0 0 1-1 0L4 9.7V17h16V9.7Z"],
  clock: ["M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20Zm0 2.2a7.8 7.8 0 1 0 0 15.6 7.8 7.8 0 0 0 0-15.6ZM11 6.5h2v5.1l3.6 2.1-1 1.7-4.6-2.7V6.5Z"],
  lock: ["M7 10V7a5 5 0 0 1 10 0v3h-2V7a3 3 0 0 0-6 0v3H7Z", "M5 10h14v11H5V10Zm6 3v5h2v-5h-2Z"],
  api: ["M8.5 4H10v2H8.6c-.5 0-.6.2-.6.6v3.3c0 .9-.4 1.6-1.2 2.1.8.5 1.2 1.2 1.2 2.1v3.3c0 .4.1.6.6.6H10v2H8.5C6.9 20 6 19.2 6 17.6v-3.1c0-.7-.4-1.1-1.5-1.1H4v-2.8h.5c1.1 0 1.5-.4 1.5-1.1V6.4C6 4.8 6.9 4 8.5 4Zm7 0C17.1 4 18 4.8 18 6.4v3.1c0 .7.4 1.1 1.5 1.1h.5v2.8h-.5c-1.1 0-1.5.4-1.5 1.1v3.1c0 1.6-.9 2.4-2.5 2.4H14v-2h1.4c.5 0 .6-.2.6-.6v-3.3c0-.9.4-1.6 1.2-2.1-.8-.5-1.2-1.2-1.2-2.1V6.6c0-.4-.1-.6-.6-.6H14V4h1.5Z"],
};

export const CHANNELS = ["x", "facebook", "instagram", "whatsapp", "email", "api"];
export const CHANNEL_NAMES = {
  x: "X", facebook: "Facebook", instagram: "Instagram", whatsapp: "WhatsApp", email: "Email", api: "API",
};
export const KIND_NAMES = {
  tweet: "tweet", dm: "direct message", comment: "comment", message: "message", mention: "mention", email: "email",
};

export function svgIcon(name, size = 16) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of PATHS[name] || PATHS.api) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "currentColor");
    path.setAttribute("fill-rule", "evenodd");
    svg.append(path);
  }
  return svg;
}

// A channel badge: the glyph in the platform's (contrast-checked) colour, and its name.
export function channelBadge(channel, { label = true, kind } = {}) {
  const span = document.createElement("span");
  span.className = `channel ch-${channel}`;
  span.append(svgIcon(channel));
  const name = CHANNEL_NAMES[channel] || channel;
  const text = document.createElement("span");
  text.className = label ? "channel-name" : "visually-hidden";
  text.textContent = kind && kind !== channel ? `${name} ${KIND_NAMES[kind] || kind}` : name;
  span.append(text);
  return span;
}
