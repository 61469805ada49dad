"""Learnt multilingual sentiment (negative / neutral / positive), pure Python at run time.

A multinomial logistic regression over sparse text features (`featurize`), trained by
`chalicelib.classify.train` on UMSAB (8 languages) and shipped as `models/sentiment.bin`.

Imports: the standard library and pydantic only. Nothing is read at import time: the model
file loads on the first `default_model()` call and is cached for the life of the process.
"""
from __future__ import annotations

import gzip
import json
import math
import re
import struct
import sys
import threading
import unicodedata
from itertools import repeat
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, Field

LABELS = ("negative", "neutral", "positive")
DEFAULT_PATH = Path(__file__).with_name("models") / "sentiment.bin"
MAX_CHARS = 2000  # only the start of a very long text is read

# --------------------------------------------------------------------------------------------
# Text → features


_ESCAPE = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
_HTML = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&apos;", "'"))
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
                              "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'})
_INVISIBLE = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u200b-\u200d\u2060\ufeff]")
_ELONG = re.compile(r"([^\W\d_])\1{2,}")
_LAUGH_START = frozenset("ahjklrwx5ه")
_LAUGH = re.compile(r"^(?:(?:ha|he|hi|ja|je|ji|ka|kk|rs|wk|ah)+[hajeiksrw]?|l+o+l+[lo]*|x+d+|k{3,}|5{3,}|ه{3,})$")

# One token: URL, @handle, emoticon, word (letters incl. Devanagari/Arabic marks), number,
# emoji/symbol, or a run of punctuation.
_EMOTICON = (r"(?:>:-?\(|:'-?\(|[:;=]-?[()\[\]dDpP/\\|]+(?![\w])|[)(]-?[:;=](?![\w])|<3+|\^_*\^|xd+(?![\w]))")
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+|\bhttp\b|\burl\b)"
    r"|(?P<user>@\w+)"
    r"|(?P<emo>" + _EMOTICON + r")"
    r"|(?P<word>#?[^\W\d_][\w\u0900-\u097f\u064b-\u065f\u0670'\-]*|[\u0900-\u097f]+)"
    r"|(?P<num>\d+(?:[.,:]\d+)*)"
    r"|(?P<punct>[!?¡¿؟]+|\.{2,}|…)"
    r"|(?P<stop>[.,;:،؛。\n\"()])"
    r"|(?P<sym>[^\s\w])",
    re.IGNORECASE,
)

# Negators: the words after one (up to the next punctuation, at most NEG_SPAN words) are
# marked, so "not good" and "good" are different features.
NEGATORS = frozenset("""
not no never nothing nobody none nor neither cannot without hardly
don't dont doesn't doesnt didn't didnt isn't isnt wasn't wasnt aren't arent won't wont
can't cant couldn't couldnt shouldn't wouldn't haven't hasn't hadn't weren't ain't n't
ne pas jamais rien aucun aucune sans personne plus
nunca jamás jamas nada ningún ningun ninguna ninguno tampoco sin ni
não nao nem nenhum nenhuma sem
non mai niente nessun nessuno nessuna senza né
nicht kein keine keinen keinem keiner nie niemals nichts ohne weder
لا ليس ليست لست لم لن ما مش مو مب مافي ماهو غير بدون ولا
नहीं नही ना न मत नहि
nahi nahin nhi nai mat na
""".split())
NEG_SPAN = 4
CHAR_NS = (3, 4, 5)
_NEG_ENDINGS = ("n't",)

_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x2190, 0x21FF),
                 (0x2300, 0x23FF), (0x3030, 0x303D))


def decode(text: str) -> str:
    """Undo the JSON-style escapes (\\u2019, \\u002c, surrogate pairs) and HTML entities
    that tweets collected as text often carry, and CSV-doubled quotes."""
    if "\\u" in text:
        text = _ESCAPE.sub(_unescape, text)
    if "&" in text:
        for a, b in _HTML:
            text = text.replace(a, b)
    if '""' in text:
        text = text.replace('""', '"')
    return text.replace('\\"', '"').replace("\\n", " ")


def _unescape(m: re.Match) -> str:
    s = m.group(0)
    units = bytes.fromhex(s.replace("\\u", ""))
    try:
        return units.decode("utf-16-be", "surrogatepass").encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeError:
        return s


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    for lo, hi in _EMOJI_RANGES:
        if lo <= cp <= hi:
            return True
    return False


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, token) pairs of decoded, normalised text; kinds: url user emo word num punct
    stop sym emoji."""
    t = decode((text or "")[:MAX_CHARS])
    t = unicodedata.normalize("NFKC", t).translate(_APOSTROPHES)
    t = _INVISIBLE.sub("", t)
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(t):
        kind = m.lastgroup
        tok = m.group(0)
        if kind == "sym":
            if _is_emoji(tok):
                out.append(("emoji", tok))
            continue
        out.append((kind, tok))
    return out


_LEX: tuple | None = None
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None})


def _fold(word: str) -> str:
    if word.isascii():
        return word
    d = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in d if not unicodedata.combining(ch)).translate(_FOLD)


def _lexicon() -> tuple:
    """Sentiment words of the rule classifier's lexicon (all languages, folded): exact words,
    prefixes ("thank*") and two-word phrases, each → +1/+2/−1/−2."""
    global _LEX
    if _LEX is None:
        from .lexicon import LEXICON

        words: dict[str, int] = {}
        prefixes: dict[str, int] = {}
        phrases: dict[str, int] = {}
        for entries in LEXICON.values():
            for key, pol in (("pos", 1), ("strong_pos", 2), ("neg", -1), ("strong_neg", -2)):
                for entry in entries.get(key, ()):
                    parts = [_fold(w) for w in entry.lower().split()]
                    if len(parts) == 1:
                        w = parts[0]
                        (prefixes if w.endswith("*") else words)[w.rstrip("*")] = pol
                    elif len(parts) == 2 and not parts[1].endswith("*"):
                        phrases[" ".join(parts)] = pol
        _LEX = (words, prefixes, phrases, sorted({len(p) for p in prefixes}, reverse=True))
    return _LEX


def _lex_polarity(word: str, prev: str | None, lex: tuple) -> int:
    words, prefixes, phrases, lengths = lex
    if prev is not None:
        pol = phrases.get(prev + " " + word)
        if pol:
            return pol
    pol = words.get(word)
    if pol:
        return pol
    n = len(word)
    for k in lengths:
        if k <= n:
            pol = prefixes.get(word[:k])
            if pol:
                return pol
    return 0


def blocks(text: str) -> tuple[list[str], list[str], list[str]]:
    """The distinct features of one text in three blocks, each normalised on its own:

    * characters: 3–5-grams of each lowercased word with boundary marks ("<go", "od>"),
    * words: unigrams ("good ") and bigrams ("not !good"), where words after a negator up to
      the next punctuation (at most NEG_SPAN) carry a "!" mark, laughter is "<laugh>",
      URLs, @handles and numbers are "<url>", "<user>", "<num>", emoji and emoticons are
      words of their own and punctuation ("?", "!+", "|" for a clause break) takes part in
      bigrams; elongations are cut to two letters ("soooo" → "soo"),
    * cues: " bias", shouting (" caps"), elongation (" elong"), hashtags (" #"), and hits
      in the rule classifier's sentiment lexicon (" lex+", " lex--", ..., flipped by a
      preceding negator).
    Feature names of the three blocks cannot collide (no spaces in character grams, a
    trailing space on unigrams, a leading space on cues).
    """
    chars: list[str] = []
    cext = chars.extend
    words: list[str] = []  # the word-level stream for n-grams ("|" = clause boundary)
    wadd = words.append
    cues = [" bias"]
    negating = 0
    caps = elong = hashtags = 0
    lex = _lexicon()
    lexpos = lexneg = 0
    prevword: str | None = None
    ns = CHAR_NS
    stretched = _ELONG.search(text) is not None
    for kind, tok in tokens(text):
        if kind == "word":
            if tok[0] == "#":
                tok = tok[1:]
                hashtags += 1
            low = tok.lower()
            if len(tok) > 2 and tok.isupper():
                caps += 1
            if stretched and _ELONG.search(low):
                elong += 1
                low = _ELONG.sub(r"\1\1", low)
            if low[0] in _LAUGH_START and _LAUGH.match(low):
                wadd("<laugh>")
                negating = 0
                prevword = None
                continue
            w = "<" + low + ">"
            n = len(w)
            cext([w[i:i + k] for k in ns for i in range(n - k + 1)])
            fw = _fold(low) if not low.isascii() else low
            pol = _lex_polarity(fw, prevword, lex)
            prevword = fw
            if pol:
                if negating:
                    pol = -pol
                if pol > 0:
                    lexpos += pol
                else:
                    lexneg -= pol
            if negating:
                wadd("!" + low)
                negating -= 1
            else:
                wadd(low)
            if low in NEGATORS or low.endswith(_NEG_ENDINGS):
                negating = NEG_SPAN
            continue
        prevword = None
        if kind in ("emo", "emoji"):
            wadd(tok.lower())
        elif kind == "punct":
            negating = 0
            p = tok[0]
            p = "?" if p in "?¿؟" else "!" if p in "!¡" else "."
            wadd(p + "+" if len(tok) > 1 else p)
        elif kind == "stop":
            negating = 0
            wadd("|")
        elif kind == "url":
            wadd("<url>")
        elif kind == "user":
            wadd("<user>")
        elif kind == "num":
            wadd("<num>")
    wf = [w + " " for w in words if w != "|"]
    wf.extend([a + " " + b for a, b in zip(["^"] + words, words + ["$"])])
    if lexpos:
        cues.append(" lex+")
        if lexpos > 1:
            cues.append(" lex++")
    if lexneg:
        cues.append(" lex-")
        if lexneg > 1:
            cues.append(" lex--")
    if lexpos and lexneg:
        cues.append(" lex+-")
    if caps:
        cues.append(" caps" if caps < 3 else " caps3")
    if elong:
        cues.append(" elong")
    if hashtags:
        cues.append(" #")
    return list(set(chars)), list(set(wf)), cues


def featurize(text: str) -> list[str]:
    """All distinct feature names of one text (see `blocks`); training and inference share it."""
    c, w, m = blocks(text)
    return c + w + m


# --------------------------------------------------------------------------------------------
# The model


class SentimentResult(BaseModel):
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1.0, le=1.0)  # P(positive) − P(negative)
    probs: dict[str, float]


class SentimentModel:
    """Linear softmax over `blocks` features.

    One vocabulary (`index`: feature name → row) and weight columns per class: the shared
    ones (key "") and, per language (ISO 639-1), ones that add to them when the text's
    language is known. The logit of a class is bias + Σ over the three blocks of (Σ weights
    of the block's features) / √(number of features in the block); features the model does
    not know count in the block size only. Weights are int8 × one scale, in memory as on
    disk, so a trained model predicts exactly as the same model saved and loaded.
    """

    def __init__(self, index: dict[str, int], columns: dict[str, tuple], bias: Iterable[float],
                 scale: float, meta: dict | None = None):
        self.index = index
        self.columns = columns  # "" or language → (negative, neutral, positive) int8 arrays
        # Inference reads one packed int64 per row and table: the three weights + 128 in
        # bits 0, 24 and 48, so a single C-level sum adds all three classes; row n (one past
        # the vocabulary) is all zeros and stands for unknown features.
        self._packed = {key: _pack(cols) for key, cols in columns.items()}
        self._n = len(index)
        self._tables: dict[str, "array"] = {}
        self.bias = tuple(float(b) for b in bias)
        self.scale = float(scale)
        self.meta = dict(meta or {})

    @property
    def languages(self) -> list[str]:
        return sorted(k for k in self.columns if k)

    @classmethod
    def from_weights(cls, shared: dict[str, tuple[float, float, float]],
                     langs: dict[str, dict[str, tuple[float, float, float]]] | None = None,
                     bias: Iterable[float] = (0.0, 0.0, 0.0), meta: dict | None = None) -> "SentimentModel":
        """Quantise float weights (feature → (neg, neu, pos), shared and per language)."""
        from array import array

        langs = {k: v for k, v in (langs or {}).items() if v}
        tables = {"": shared, **langs}
        peak = max((abs(v) for t in tables.values() for ws in t.values() for v in ws), default=0.0) or 1.0
        scale = peak / 127.0
        names = sorted(set().union(*tables.values()))
        zero = (0.0, 0.0, 0.0)
        columns = {}
        for key in sorted(tables):
            t = tables[key]
            columns[key] = tuple(
                array("b", (max(-127, min(127, round(t.get(n, zero)[c] / scale))) for n in names))
                for c in range(3))
        return cls(dict(zip(names, range(len(names)))), columns, bias, scale, meta)

    # -- inference --------------------------------------------------------------------------
    def logits(self, text: str, lang: str | None = None) -> tuple[float, float, float]:
        if lang is None:
            lang = guess_language(text)
        row = self._table(lang).__getitem__
        get = self.index.get
        unknown = repeat(self._n)
        a = b = c = 0.0
        for block in blocks(text):
            k = len(block)
            if not k:
                continue
            total = sum(map(row, map(get, block, unknown)))
            off = 128 * k
            s = 1.0 / math.sqrt(k)
            a += ((total & _M24) - off) * s
            b += (((total >> 24) & _M24) - off) * s
            c += ((total >> 48) - off) * s
        k = self.scale
        bias = self.bias
        return bias[0] + a * k, bias[1] + b * k, bias[2] + c * k

    def _table(self, lang: str | None):
        """Packed rows for a language: shared + that language's weights, built on the first
        text in that language (≈10 ms, C-level) and kept; the shared rows otherwise."""
        table = self._tables.get(lang)
        if table is None:
            shared = self._packed[""]
            extra = self._packed.get(lang) if lang else None
            if extra is None:
                return shared
            from array import array
            from operator import add, sub

            table = array("q", map(sub, map(add, shared, extra), repeat(_ROW_BIAS)))
            self._tables[lang] = table
        return table

    def predict_proba(self, text: str, lang: str | None = None) -> tuple[float, float, float]:
        a, b, c = self.logits(text, lang)
        m = max(a, b, c)
        ea, eb, ec = math.exp(a - m), math.exp(b - m), math.exp(c - m)
        z = ea + eb + ec
        return ea / z, eb / z, ec / z

    def predict(self, text: str, lang: str | None = None) -> SentimentResult:
        """`lang`: ISO 639-1 code when known (adds that language's weights), else None."""
        p = self.predict_proba(text, lang)
        best = 0 if p[0] >= p[1] and p[0] >= p[2] else (1 if p[1] >= p[2] else 2)
        score = max(-1.0, min(1.0, p[2] - p[0]))
        # Valid by construction (a label of LABELS, score clamped to [-1, 1]): no validation.
        return SentimentResult.model_construct(label=LABELS[best], score=round(score, 4),
                                               probs={LABELS[i]: round(p[i], 4) for i in range(3)})

    def predict_label(self, text: str, lang: str | None = None) -> int:
        """0 negative, 1 neutral, 2 positive (no probabilities: the fast path for batches)."""
        a, b, c = self.logits(text, lang)
        return 0 if a >= b and a >= c else (1 if b >= c else 2)

    # -- persistence ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> "SentimentModel":
        return _read(Path(path))

    def save(self, path: str | Path) -> None:
        _write(Path(path), self)

    def size(self) -> int:
        """Number of features (rows)."""
        return len(self.index)


# File format (gzip, mtime 0 so the same model gives the same bytes): magic b"SNT4", uint32
# length of a UTF-8 JSON header {"meta", "bias", "scale", "n", "names_bytes", "columns":
# ["", "ar", ...]}, then the n feature names in row order joined by "\n" (UTF-8), then for
# each key of "columns" ("" shared, else a language) three int8 columns of n weights
# (negative, neutral, positive) that × scale give the weights.
_MAGIC = b"SNT5"


def _write(path: Path, model: SentimentModel) -> None:
    from array import array

    names = sorted(model.index, key=model.index.__getitem__)
    blob = "\n".join(names).encode("utf-8")
    keys = sorted(model.columns)
    cols = []
    for key in keys:
        for col in model.columns[key]:
            cols.append(array("b", col).tobytes())
    header = json.dumps({"meta": model.meta, "bias": list(model.bias), "scale": model.scale,
                         "n": len(names), "names_bytes": len(blob), "columns": keys},
                        ensure_ascii=False, sort_keys=True).encode("utf-8")
    raw = b"".join([_MAGIC, struct.pack("<I", len(header)), header, blob, *cols])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def _read(path: Path) -> SentimentModel:
    from array import array

    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a sentiment model ({exc})") from exc
    if raw[:4] != _MAGIC:
        raise ValueError(f"{path}: not a sentiment model (or an older format)")
    (hlen,) = struct.unpack_from("<I", raw, 4)
    header = json.loads(raw[8:8 + hlen])
    pos = 8 + hlen
    n, nbytes = header["n"], header["names_bytes"]
    names = raw[pos:pos + nbytes].decode("utf-8").split("\n") if n else []
    pos += nbytes
    columns = {}
    for key in header["columns"]:
        cols = []
        for _ in range(3):
            col = array("b")
            col.frombytes(raw[pos:pos + n])
            pos += n
            cols.append(col)
        columns[key] = tuple(cols)
    return SentimentModel(dict(zip(names, range(n))), columns, header["bias"], header["scale"],
                          header["meta"])


_M24 = (1 << 24) - 1
_ROW_BIAS = 128 + (128 << 24) + (128 << 48)
_TO_UNSIGNED = bytes((i + 128) & 0xFF for i in range(256))  # int8 byte → weight + 128


def _pack(cols) -> "array":
    """Three int8 columns of n rows → n + 1 int64 rows (w + 128 in bytes 0, 3 and 6; the
    last row is zero weights), built by byte slicing at C speed."""
    from array import array

    n = len(cols[0])
    buf = bytearray(8 * (n + 1))
    for col, at in zip(cols, (0, 3, 6)):
        raw = array("b", col).tobytes().translate(_TO_UNSIGNED) + b"\x80"
        buf[at::8] = raw
    packed = array("q")
    packed.frombytes(bytes(buf))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed


_ARABIC = re.compile("[\u0600-\u06ff]{2}")
_DEVANAGARI = re.compile("[\u0900-\u097f]{2}")


def guess_language(text: str) -> str | None:
    """A cheap fallback when the caller does not say: Arabic or Devanagari script, else
    None (shared weights only). The desk passes the language it identified instead."""
    if _ARABIC.search(text):
        return "ar"
    if _DEVANAGARI.search(text):
        return "hi"
    return None


_DEFAULT: SentimentModel | None = None
_LOCK = threading.Lock()


def default_model() -> SentimentModel:
    """The shipped model, loaded on first use and kept for the life of the process."""
    global _DEFAULT
    if _DEFAULT is None:
        with _LOCK:
            if _DEFAULT is None:
                _DEFAULT = SentimentModel.load(DEFAULT_PATH)
    return _DEFAULT


def predict(text: str, lang: str | None = None) -> SentimentResult:
    return default_model().predict(text, lang)


__all__ = ["LABELS", "SentimentModel", "SentimentResult", "decode", "default_model", "featurize",
           "predict", "tokens"]
