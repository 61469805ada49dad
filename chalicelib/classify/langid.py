"""Language identification for short customer messages: scripts first, then stopwords.

1. Script fast paths on the letters of the normalised text: Greek → el, Arabic → ar (fa when
   Persian-only letters dominate), Han → zh (ja when kana is present), kana → ja,
   Hangul → ko, Cyrillic → ru (uk when Ukrainian-only letters appear), Hebrew → he,
   Devanagari → hi, Thai → th. A non-Latin script wins when it has at least a fifth of the
   letters (a Latin brand name in a Chinese sentence does not make it English).
2. Latin script: each candidate language scores 1 per stopword token, plus characters that
   are typical of it (ą ł ż → pl, ä ö → fi/sv, ñ ¿ → es, ã õ → pt, ğ ı ş → tr, ...) and a
   few word endings (Finnish -ssa/-lla/-sta, Polish -ego/-ych/-ość, Portuguese -ção/-ou) and
   letter pairs (Finnish aa/ää/kk, Polish rz/sz/cz). A platform's language hint adds 1.5 to
   its language. The best score wins when it reaches 1.5, or 1.0 with no close second.
3. Nothing decisive → the hint, else None.

Standard library only. `identify(norm, hint)` returns (language or None, evidence).
"""
from __future__ import annotations

import re

from .text import script_counts

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        the and is are was were my i i'm i've me you your it it's to of for in on this that
        with not have has had why what where when how can could please still just be do does
        did don't doesn't didn't from at an will get got been but thanks thank any yet no
        there they them their we our us so would should after since again never already
        """.split()),
    "fi": frozenset("""
        ja on ei en et se että mutta kun minun mun mä minä olen oli ole olla ovat tämä tää
        kanssa vielä jo nyt miksi missä milloin miten mitä mikä kuka onko voiko voitteko
        voisitteko kiitos hei moi myös vaan siitä sen tai kuin jos niin ihan tosi eikä enää
        ollut sitten koska mulle minulle teidän teille te me meidän vaikka aivan kyllä
        aina voin voi saa pitää mikään mitään kaikki vain
        """.split()),
    "pl": frozenset("""
        i w na nie się sie jest to że ze z do mój moje moja moim mam już juz jeszcze jak co czy
        dlaczego kiedy gdzie proszę prosze dziękuję dziekuje dzięki dzieki bardzo ale po od
        tylko był była było został została mi mnie o dla tak jestem być nic ten ta te przez
        wam was państwo pan pani mój moją moją tego tej żeby zeby bo
        """.split()),
    "de": frozenset("""
        der die das und ist nicht ich mein meine meinen mit auf für ein eine einen es sie wir
        warum wo wann wie noch schon bitte danke kein keine habe hat wurde auch aber zu den
        dem von ihr euch seit immer nach sich wieder mir mich
        """.split()),
    "fr": frozenset("""
        le la les et est pas je mon ma mes une un des du pour avec que qui pourquoi où quand
        comment toujours encore merci svp vous ne sur dans ce cette j'ai c'est il elle au aux
        mais depuis n'est votre vos nous
        """.split()),
    "es": frozenset("""
        el la los las y es no mi mis un una que por para con del al pero cuándo dónde cómo
        todavía aún gracias está están he ha muy ya se lo me mí nadie hace hola sigue
        """.split()),
    "pt": frozenset("""
        o a os as e é não nao meu minha um uma que por para com do da dos das mas quando onde
        como ainda obrigado obrigada está estão já muito foi tenho você vocês se no na olá
        ninguém até
        """.split()),
    "it": frozenset("""
        il lo la gli le e è non mio mia un una che per con del della ma quando dove come
        ancora grazie ho ha sono già molto perché nel alla ciao nessuno vostro
        """.split()),
    "sv": frozenset("""
        och är inte jag min mitt mina en ett det som på för med till av har var när hur
        varför fortfarande tack hjälp snälla men också kan vill ni er hej
        """.split()),
    "nl": frozenset("""
        de het een en is niet ik mijn van op voor met naar dat die waarom waar wanneer hoe
        nog steeds bedankt dank alstublieft graag maar ook heb heeft geen wel jullie u
        """.split()),
    "tr": frozenset("""
        ve bir bu için ile değil ben benim ne neden nerede zaman nasıl hala hâlâ
        teşekkürler teşekkür lütfen ama çok da de mi mı var yok hiç siparişim merhaba
        """.split()),
}

# Characters typical of a language, with their weight per occurrence.
CHARS: dict[str, dict[str, float]] = {
    "pl": {c: 2.0 for c in "ąćęłńśźż"},
    "fi": {"ä": 0.8, "ö": 0.6},
    "sv": {"å": 2.0, "ä": 0.4, "ö": 0.4},
    "de": {"ß": 2.0, "ü": 0.8, "ä": 0.4, "ö": 0.4},
    "fr": {"é": 0.5, "è": 0.5, "ê": 0.8, "à": 0.4, "â": 0.8, "ç": 0.5, "œ": 2.0, "ù": 0.8,
           "û": 1.0, "î": 1.0, "ô": 0.5, "ë": 0.8},
    "es": {"ñ": 2.0, "¿": 3.0, "¡": 3.0, "á": 0.6, "í": 0.5, "ó": 0.5, "ú": 0.5},
    "pt": {"ã": 2.0, "õ": 2.0, "ç": 0.6, "â": 0.5, "ê": 0.6, "ô": 0.5, "á": 0.4, "é": 0.3},
    "it": {"à": 0.4, "è": 0.6, "ì": 1.0, "ò": 1.0, "ù": 0.6},
    "tr": {"ğ": 2.0, "ı": 2.0, "ş": 2.0, "ç": 0.4, "ö": 0.3, "ü": 0.3},
}

# Word endings typical of a language (token length >= 5), weight per token.
ENDINGS: dict[str, tuple[tuple[str, ...], float]] = {
    "fi": (("ssa", "ssä", "lla", "llä", "sta", "stä", "lta", "ltä", "ksi", "kin", "kaan",
            "kään", "nen", "ttu", "tty", "ani", "äni", "nsa", "nsä", "iin", "ään", "aan",
            "een", "lle"), 0.5),
    "pl": (("ego", "ych", "ość", "ami", "ów", "ię", "ać", "ić", "łem", "łam", "ście", "emy"), 0.5),
    "de": (("ung", "lich", "keit", "heit", "chen", "sch"), 0.4),
    "en": (("ing", "tion", "ed", "n't"), 0.3),
    "pt": (("ção", "ções", "ou", "ei", "ão", "ões"), 0.5),
    "es": (("ción", "ciones", "ía", "amos"), 0.4),
    "it": (("zione", "zioni", "gli", "cchi", "ato", "ati"), 0.3),
    "fr": (("eux", "aient", "ement", "ais", "ait"), 0.3),
}

# Letter pairs typical of a language inside a token (length >= 4), weight once per token.
PAIRS: dict[str, tuple[tuple[str, ...], float]] = {
    "fi": (("aa", "ää", "ii", "uu", "yy", "öö", "kk", "yö", "äy"), 0.4),
    "pl": (("rz", "sz", "cz", "wy", "dz"), 0.3),
    "nl": (("ij", "oe", "aa", "uu"), 0.2),
}

_LATIN_LANGS = tuple(STOPWORDS)
_SCRIPT_LANG = {"greek": "el", "arabic": "ar", "hangul": "ko", "cyrillic": "ru", "hebrew": "he",
                "devanagari": "hi", "thai": "th"}
_PERSIAN = set("پچژگ")
_UKRAINIAN = set("іїєґ")
_BELARUSIAN = set("ў")
_HINT_ALIASES = {"iw": "he", "in": "id", "jw": "jv", "nb": "no", "nn": "no", "zh-hans": "zh",
                 "zh-hant": "zh", "zh-cn": "zh", "zh-tw": "zh", "zh-hk": "zh"}


def normalise_hint(hint: str | None) -> str | None:
    """'fi-FI', 'zh_Hant', 'EN' → 'fi', 'zh', 'en'; 'und', 'qme', '' → None."""
    if not hint:
        return None
    h = hint.strip().lower().replace("_", "-")
    if h in _HINT_ALIASES:
        return _HINT_ALIASES[h]
    h = h.split("-")[0]
    h = _HINT_ALIASES.get(h, h)
    if len(h) != 2 or not h.isalpha():
        return None  # und, qme, qht, zxx (X's "undetermined" codes) and junk
    return h


def identify(norm: str, hint: str | None = None) -> tuple[str | None, list[str]]:
    """The ISO 639-1 language of already-normalised text, with the cues that decided it."""
    hint = normalise_hint(hint)
    counts = script_counts(norm)
    total = sum(counts.values())
    if total == 0:
        return hint, ([f"lang:hint:{hint}"] if hint else [])

    non_latin = {k: v for k, v in counts.items() if k != "latin"}
    cjk = non_latin.get("han", 0) + non_latin.get("kana", 0)
    if cjk:
        non_latin.pop("han", None)
        non_latin.pop("kana", None)
        non_latin["cjk"] = cjk
    if non_latin:
        script, n = max(non_latin.items(), key=lambda kv: kv[1])
        if n >= max(2, 0.2 * total):
            return _script_language(script, norm, counts, hint)

    return _latin_language(norm, hint)


def _script_language(script: str, norm: str, counts: dict[str, int], hint: str | None):
    ev = [f"lang:script:{script}"]
    if script == "cjk":
        kana, han = counts.get("kana", 0), counts.get("han", 0)
        if kana >= 2 or (kana and kana >= 0.15 * (kana + han)):
            return "ja", ev + ["lang:kana"]
        if hint in ("ja", "zh"):
            return hint, ev + [f"lang:hint:{hint}"]
        return "zh", ev
    if script == "kana":  # only reached via cjk, kept for completeness
        return "ja", ev
    if script == "arabic":
        persian = sum(ch in _PERSIAN for ch in norm)
        if hint in ("fa", "ur", "ps", "ku"):
            return hint, ev + [f"lang:hint:{hint}"]
        if persian >= 2 or (persian and norm.count("ی") > norm.count("ي")):
            return "fa", ev + ["lang:persian-letters"]
        return "ar", ev
    if script == "cyrillic":
        if hint in ("uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg"):
            return hint, ev + [f"lang:hint:{hint}"]
        if any(ch in _UKRAINIAN for ch in norm):
            return "uk", ev + ["lang:ukrainian-letters"]
        if any(ch in _BELARUSIAN for ch in norm):
            return "be", ev + ["lang:belarusian-letters"]
        return "ru", ev
    if script == "devanagari" and hint in ("mr", "ne"):
        return hint, ev + [f"lang:hint:{hint}"]
    return _SCRIPT_LANG.get(script), ev


def _latin_language(norm: str, hint: str | None):
    tokens = _TOKEN.findall(norm)
    scores = dict.fromkeys(_LATIN_LANGS, 0.0)
    for tok in tokens:
        for lang in _LATIN_LANGS:
            if tok in STOPWORDS[lang]:
                scores[lang] += 1.0
        if len(tok) >= 5:
            for lang, (endings, weight) in ENDINGS.items():
                if tok.endswith(endings):
                    scores[lang] += weight
        if len(tok) >= 4:
            for lang, (pairs, weight) in PAIRS.items():
                if any(p in tok for p in pairs):
                    scores[lang] += weight
    for lang, chars in CHARS.items():
        for ch, weight in chars.items():
            n = norm.count(ch)
            if n:
                scores[lang] += weight * min(n, 4)
    if hint in scores:
        scores[hint] += 1.5
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:2]
    (best, top), (_, second) = ranked
    if top >= 1.5 or (top >= 1.0 and second < 0.5 * top):
        return best, [f"lang:latin:{k}={v:g}" for k, v in ranked]
    if hint:
        return hint, [f"lang:hint:{hint}"]
    return None, []
