"""Brand-adapted sentiment models: published to S3 (MODEL_BUCKET), picked up by the ingest worker.

`publish` uploads a model file and moves the brand's pointer item (`MODEL#<brand>`, `CURRENT`)
to it; `model_for` answers the brand's model, checking the pointer at most every
POINTER_TTL_SECONDS per container and downloading a new file to /tmp only when it changed.
A brand without an adapted model (or whose download fails) gets the shipped base model: a
broken publish never stops ingest.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

from chalicelib.observability import logger
from chalicelib.store import keys

POINTER_TTL_SECONDS = 300
_cache: dict[str, tuple[float, Optional[str], Any]] = {}  # brand -> (checked at, s3 key, model)


def publish(brand: str, model_path: Path, table, s3, bucket: str, meta: dict) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    key = f"models/{brand}/sentiment-{stamp}.bin"
    s3.upload_file(str(model_path), bucket, key)
    table.put_item(Item={**keys.model_pointer(brand), "brand": brand, "s3_key": key, "published_at": stamp, **meta})
    return key


def model_for(brand: str, table, s3, bucket: str, clock: Callable[[], float] = time.monotonic):
    """The brand's adapted model, or None for the shipped base model."""
    checked, current_key, model = _cache.get(brand, (float("-inf"), None, None))
    if clock() - checked < POINTER_TTL_SECONDS:
        return model
    try:
        item = table.get_item(Key=keys.model_pointer(brand)).get("Item")
        key = item["s3_key"] if item else None
        if key and key != current_key:
            model = _download(s3, bucket, key)
            logger.info("brand model loaded", extra={"brand": brand, "s3_key": key})
        elif not key:
            model = None
        _cache[brand] = (clock(), key, model)
    except Exception as err:  # keep classifying with what we have; try again after the TTL
        logger.warning("brand model unavailable; using the base model",
                       extra={"brand": brand, "error": type(err).__name__})
        _cache[brand] = (clock(), current_key, model)
    return _cache[brand][2]


def _download(s3, bucket: str, key: str):
    from chalicelib.classify.sentiment import SentimentModel

    folder = Path(tempfile.gettempdir()) / "social-care-models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key.replace("/", "_")
    s3.download_file(bucket, key, str(path))
    try:
        return SentimentModel.load(path)
    finally:
        os.unlink(path)


def adapt_brand(brand: str, store, s3, bucket: str, base=None) -> dict:
    """Train the brand's model from the base data and its agents' corrections, then publish it."""
    from chalicelib.classify import train

    corrections = [c for c in store.corrections(brand) if c.get("sentiment")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sentiment.bin"
        result = train.adapt([{"text": c["text"], "sentiment": c["sentiment"], "language": c.get("language")}
                              for c in corrections], path, base=base)
        key = publish(brand, path, store.table, s3, bucket, {"corrections": len(corrections)})
    return {**result, "brand": brand, "s3_key": key}


def reset() -> None:
    _cache.clear()
