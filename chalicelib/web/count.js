// How long a reply is, as each platform counts it: the browser twin of
// chalicelib/outbound/text.py (tests/browser checks both agree on the same strings).
//
// X counts "weighted" characters (https://docs.x.com/resources/fundamentals/counting-characters):
// code points in U+0000–U+10FF and a few punctuation ranges weigh 1, everything else (CJK, most
// emoji) weighs 2, every URL counts 23, and an emoji joined with ZWJ or carrying a modifier
// counts once. Instagram DMs are limited in UTF-8 bytes; other platforms count characters
// (code points, as Python's len()).

export const X_URL_LENGTH = 23;
const URL = /https?:\/\/\S+/giu;
const LIGHT = [[0x0000, 0x10ff], [0x2000, 0x200d], [0x2010, 0x201f], [0x2032, 0x2037]];
const JOINER = 0x200d;

function zeroWidth(code) {
  return code === 0xfe0e || code === 0xfe0f || code === 0x20e3 || (code >= 0x1f3fb && code < 0x1f400);
}

function weight(code) {
  return LIGHT.some(([lo, hi]) => code >= lo && code <= hi) ? 1 : 2;
}

export function xWeightedLength(text) {
  const normalized = text.normalize("NFC");
  let total = 0;
  const rest = [];
  let last = 0;
  for (const match of normalized.matchAll(URL)) {
    rest.push(normalized.slice(last, match.index));
    total += X_URL_LENGTH;
    last = match.index + match[0].length;
  }
  rest.push(normalized.slice(last));
  for (const chunk of rest) {
    let joined = false;
    for (const char of chunk) {
      const code = char.codePointAt(0);
      if (code === JOINER) { joined = true; continue; }
      if (zeroWidth(code) || joined) { joined = false; continue; }
      total += weight(code);
    }
  }
  return total;
}

export function charLength(text) {
  let n = 0;
  for (const _ of text) n += 1; // code points, not UTF-16 units
  return n;
}

export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

// `counting` is what reply_options says: "x", "characters" or "bytes".
export function measure(text, counting) {
  if (counting === "x") return xWeightedLength(text);
  if (counting === "bytes") return utf8Length(text);
  return charLength(text);
}

export function unitWord(counting) {
  if (counting === "x") return "X characters";
  if (counting === "bytes") return "bytes";
  return "characters";
}
