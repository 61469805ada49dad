"""The demo traffic corpus: realistic customer mentions for two made-up brands.

`corpus.jsonl` (next to this module) holds one mention a line, written for this project:
the online electronics shop "Nordlight" (brand "nordlight", X handle @NordlightShop) and the
airline "Aegean Skies" (brand "aegean", @AegeanSkies), in English, Finnish, Greek, Chinese,
Arabic and Polish, on every channel the desk knows. Lines that share a `thread` key are one
conversation, in order (a customer writing twice on Messenger, an e-mail and its reply).
`expect_actionable` is the author's judgement of whether the line needs care; the tests use
it to measure the classifier. Phone numbers are from the UK's drama range (07700 900xxx),
e-mail addresses use example.com/.net/.org.

    from infra.local.corpus import load
    mentions = load()  # list of dicts, each validated by CorpusLine

Imports the standard library and pydantic only.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, model_validator

CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")

Channel = Literal["x_tweet", "x_dm", "x_poll", "fb_comment", "messenger", "ig_comment", "ig_dm",
                  "whatsapp", "email", "api"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]
LANGUAGES: tuple[str, ...] = ("en", "fi", "el", "zh", "ar", "pl")
BRANDS: tuple[str, ...] = ("nordlight", "aegean")


class CorpusAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    handle: Optional[str] = None      # X and Instagram
    followers: Optional[int] = None   # X and Instagram
    verified: Optional[bool] = None   # X


class CorpusLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    channel: Channel
    lang: Literal["en", "fi", "el", "zh", "ar", "pl"]
    brand: Literal["nordlight", "aegean"]
    author: CorpusAuthor
    text: str
    thread: Optional[str] = None
    subject: Optional[str] = None     # email only
    expect_actionable: bool

    @model_validator(mode="after")
    def _channel_fields(self) -> "CorpusLine":
        a = self.author
        if self.channel.startswith(("x_", "ig_")):
            if not a.handle or a.followers is None:
                raise ValueError(f"{self.id}: {self.channel} needs author.handle and followers")
        if self.channel.startswith("x_") and a.verified is None:
            raise ValueError(f"{self.id}: {self.channel} needs author.verified")
        if self.channel == "email" and not self.subject:
            raise ValueError(f"{self.id}: email needs a subject")
        if self.channel != "email" and self.subject is not None:
            raise ValueError(f"{self.id}: only email has a subject")
        if not self.text.strip():
            raise ValueError(f"{self.id}: empty text")
        return self


def load(path: Path | str | None = None) -> list[dict]:
    """Every line of the corpus, validated, as plain dicts (optional fields left out)."""
    p = Path(path) if path is not None else CORPUS_PATH
    lines: list[dict] = []
    seen: set[str] = set()
    with p.open(encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = CorpusLine.model_validate(json.loads(raw))
            except (ValueError, json.JSONDecodeError) as exc:
                raise ValueError(f"{p.name}:{number}: {exc}") from exc
            if line.id in seen:
                raise ValueError(f"{p.name}:{number}: duplicate id {line.id}")
            seen.add(line.id)
            lines.append(line.model_dump(exclude_none=True))
    return lines


__all__ = ["BRANDS", "CHANNELS", "CORPUS_PATH", "CorpusAuthor", "CorpusLine", "LANGUAGES", "load"]
