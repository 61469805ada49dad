"""Text preparation for the rule classifier: normalisation, folding, scripts, emoji.

Everything here is pure string work on the standard library (`re`, `unicodedata`) only, so it
is cheap to import and safe to reuse from a later, learnt classifier.

* `normalise` — NFKC, lowercase, one apostrophe, no variation selectors or skin tones, and
  without URLs, e-mail addresses and @handles (a brand's own handle says nothing about the
  customer's words). Hashtags keep their word: "#fail" → "fail".
* `fold` — `normalise`d text without diacritics, for languages whose writers often leave
  them out (Greek tonos, Arabic harakat, Polish/Romance accents); Arabic letter variants are
  unified (أ إ آ ٱ → ا, ى → ي, ة → ه, Persian ی/ک → ي/ك, no tatweel).
* `script_counts` — letters per script (latin, greek, cyrillic, arabic, hebrew, han, kana,
  hangul, devanagari, thai).
* `EMOJI` and `emoticons` — sentiment of emoji and ASCII emoticons.
"""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})
# Variation selectors (emoji/text presentation), skin-tone modifiers, zero-width joiners.
_INVISIBLE = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u200b-\u200d\u2060\ufeff]")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_HASH = re.compile(r"(?<![\w#])#(?=\w)")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lowercased, apostrophes unified, URLs/e-mails/@handles dropped, '#' dropped."""
    t = unicodedata.normalize("NFKC", text or "")
    t = t.translate(_APOSTROPHES)
    t = _INVISIBLE.sub("", t)
    t = t.lower()
    t = _URL.sub(" ", t)
    t = _EMAIL.sub(" ", t)
    t = _HANDLE.sub(" ", t)
    t = _HASH.sub("", t)
    return _SPACES.sub(" ", t).strip()


_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك", "ـ": None,
    "ł": "l", "ø": "o", "ß": "ss",
})


def fold(text: str) -> str:
    """Strip combining marks (accents, tonos, harakat) and unify Arabic letter variants."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).translate(_ARABIC_FOLD)


# (first, last, script) code point ranges; checked in order.
_SCRIPT_RANGES = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x3130, 0x318F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"),
    (0x3040, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FA1F, "han"),
)


def script_of(ch: str) -> str | None:
    cp = ord(ch)
    for first, last, name in _SCRIPT_RANGES:
        if first <= cp <= last:
            return name
    return None


def script_counts(text: str) -> dict[str, int]:
    """Letters per script; digits, punctuation, emoji and symbols are not counted."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = script_of(ch)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


def has_han(text: str) -> bool:
    return any(script_of(ch) == "han" for ch in text)


# Emoji sentiment (after normalise: no variation selectors, no skin tones).
# 🙏 is "please" as often as "thank you": mildly positive here, and a weak request cue.
EMOJI: dict[str, float] = {
    "😡": -2.0, "😠": -2.0, "🤬": -2.0, "👎": -1.5, "😞": -1.0, "😢": -1.0, "😭": -1.5,
    "😤": -1.5, "😩": -1.0, "😫": -1.0, "💔": -1.0, "🙄": -1.0, "😒": -1.0, "😖": -1.0,
    "😣": -1.0, "😟": -1.0, "☹": -1.0, "🙁": -1.0, "😕": -0.5, "🤦": -1.0, "😱": -1.0,
    "🤮": -2.0, "💩": -1.5, "😑": -0.5, "😐": -0.3,
    "😍": 2.0, "🥰": 2.0, "🤩": 2.0, "❤": 1.5, "♥": 1.5, "💕": 1.5, "💖": 1.5, "💙": 1.5,
    "💚": 1.5, "💛": 1.5, "💜": 1.5, "🧡": 1.5, "😘": 1.5, "👍": 1.0, "👏": 1.5, "🙌": 1.5,
    "💯": 1.0, "🎉": 1.0, "🥳": 1.5, "⭐": 1.0, "🌟": 1.0, "😊": 1.0, "🙂": 0.5, "😀": 1.0,
    "😃": 1.0, "😄": 1.0, "😁": 1.0, "😎": 0.5, "🤗": 1.0, "✨": 0.5, "🙏": 0.5, "👌": 1.0,
}

_EMOTICON_NEG = re.compile(r"(?:>:-?\(|:'-?\(|(?<![\w:]):-?[(\[]+|(?<![\w)])\)-?:(?![\w])|:-?/(?!/)|d:(?![\w]))")
_EMOTICON_POS = re.compile(r"(?:(?<![\w:]):-?[)\]]+|(?<![\w:]):-?d(?!\w)|(?<!\w);-?\)|<3|\^_?\^|(?<![\w(])\(-?:(?![\w])|=\))")


def emoticons(text: str) -> list[tuple[str, float]]:
    """ASCII emoticons in normalised text with their sentiment weight."""
    found = [(m.group(0), -1.0) for m in _EMOTICON_NEG.finditer(text)]
    found += [(m.group(0), 1.0) for m in _EMOTICON_POS.finditer(text)]
    return found


def strip_emoticons(text: str) -> str:
    """The text without emoticons, so ';)' is never read as a Greek question mark."""
    return _EMOTICON_POS.sub(" ", _EMOTICON_NEG.sub(" ", text))
