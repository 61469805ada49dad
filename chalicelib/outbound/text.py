"""How long a reply is, as each platform counts it.

X counts "weighted" characters (twitter-text v3, https://docs.x.com/resources/fundamentals/counting-characters):
code points in the Latin, Greek, Cyrillic, Arabic, Hebrew ... blocks (U+0000–U+10FF) and a few
punctuation ranges weigh 1, everything else (CJK, most emoji) weighs 2, and every URL counts as
23 whatever its length. An emoji sequence joined with ZWJ or carrying modifiers counts once.
Instagram DMs are limited in UTF-8 bytes; the other platforms count characters.
"""
from __future__ import annotations

import re
import unicodedata

X_URL_LENGTH = 23
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_JOINERS = {0x200D}  # ZWJ: the next code point belongs to the same emoji
_ZERO = {0xFE0E, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400))  # variation selectors, keycap, skin tones


def _weight(code: int) -> int:
    return 1 if any(lo <= code <= hi for lo, hi in _LIGHT) else 2


def x_weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total, rest = 0, []
    last = 0
    for match in _URL.finditer(text):
        rest.append(text[last:match.start()])
        total += X_URL_LENGTH
        last = match.end()
    rest.append(text[last:])
    for chunk in rest:
        joined = False
        for char in chunk:
            code = ord(char)
            if code in _JOINERS:
                joined = True
                continue
            if code in _ZERO or joined:
                joined = False
                continue
            total += _weight(code)
    return total


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def char_length(text: str) -> int:
    return len(text)
