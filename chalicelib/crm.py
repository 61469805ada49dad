"""Customer value from a CRM export: lifetime value, purchases, VIP and advocate flags.

`python -m chalicelib.crm import FILE --brand BRAND [--format csv|json]` reads a brand's CSV or JSON
export and stores one record per platform identity (DynamoDB at TABLE_NAME / AWS_ENDPOINT_URL). Each row
names an identity by platform and id, where the id is the platform user id, an `@handle`, an
email address or a WhatsApp number; rows sharing a `crm_ref` are one customer on several
channels, so their contacts count together as repeated contact.

CSV columns: platform, id, crm_ref, lifetime_value, purchases (count), last_purchase_at (ISO),
purchase_dates (ISO dates separated by `;`), vip, advocate. JSON: a list of objects with the
same names, `purchases` may also be a list of {"at": ISO, "amount": n}.

A record belongs to the brand whose export it came from (`--brand`, stored as the record's `brand`):
the customer view shows it, and its value and flags, only to that brand's agents and to admins
(chalicelib/customers.py). A record without a brand (imported before records had one) is shown to
admins only: import the export again with `--brand`. One record per identity: a second brand's
import of the same identity replaces the first's.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalicelib.channels import registry as channel_registry



class CrmRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    platform: str
    id: str = Field(min_length=1)
    crm_ref: Optional[str] = None
    lifetime_value: float = Field(default=0, ge=0)
    purchase_dates: list[datetime] = Field(default_factory=list)
    vip: bool = False
    advocate: bool = False

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        value = value.strip().lower()
        if channel_registry.find(value) is None:
            raise ValueError(f"platform must be one of {', '.join(channel_registry.ids())}")
        return value

    @property
    def key(self) -> str:
        """How the ingest worker finds the record: user id, or @handle, lowercased where it may."""
        return identity_key(self.platform, self.id)

    def stored(self, brand: Optional[str] = None) -> dict:
        return {"crm_ref": self.crm_ref, "lifetime_value": self.lifetime_value, "vip": self.vip,
                "advocate": self.advocate,
                "purchase_dates": sorted(_utc(d).isoformat() for d in self.purchase_dates),
                **({"brand": brand} if brand else {})}


def identity_key(platform: str, raw: str) -> str:
    raw = raw.strip()
    channel = channel_registry.find(platform)
    if channel is not None and channel.digit_ids:  # e.g. WhatsApp's wa_id: "+358 40 123" is "35840123"
        return "".join(ch for ch in raw if ch.isdigit())
    return raw.lower() if "@" in raw else raw  # @handles and email addresses are case-blind


def author_keys(platform: str, author_id: str, handle: Optional[str]) -> list[str]:
    """The CRM keys that may name this author: their platform id, then their @handle."""
    return [identity_key(platform, author_id)] + ([identity_key(platform, "@" + handle.lstrip("@"))]
                                                   if handle else [])


def recent_purchases(record: Optional[dict], days: int, now: datetime) -> int:
    if not record:
        return 0
    since = (now - timedelta(days=days)).isoformat()
    return sum(1 for at in record.get("purchase_dates", []) if at >= since)


def parse_rows(rows: list[dict]) -> tuple[list[CrmRecord], list[str]]:
    records, errors = [], []
    for number, row in enumerate(rows, start=1):
        try:
            records.append(CrmRecord.model_validate(_normalise(row)))
        except (ValidationError, ValueError) as err:
            errors.append(f"row {number}: {err}".splitlines()[0] + _first_problem(err))
    return records, errors


def _first_problem(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        return f" ({'.'.join(map(str, first['loc']))}: {first['msg']})"
    return ""


def _normalise(row: dict) -> dict:
    out: dict[str, Any] = {k.strip().lower(): v for k, v in row.items() if k}
    for flag in ("vip", "advocate"):
        if isinstance(out.get(flag), str):
            out[flag] = out[flag].strip().lower() in ("1", "true", "yes", "y")
    if out.get("lifetime_value") in ("", None):
        out.pop("lifetime_value", None)
    dates = out.get("purchase_dates") or []
    if isinstance(dates, str):
        dates = [d for d in dates.split(";") if d.strip()]
    purchases = out.get("purchases")
    if isinstance(purchases, list):  # JSON: [{"at": ..., "amount": ...}]
        dates += [p["at"] for p in purchases if isinstance(p, dict) and p.get("at")]
    elif purchases not in (None, "") and out.get("last_purchase_at"):
        # CSV count + last date only: assume the count happened on the last purchase date
        dates += [out["last_purchase_at"]] * int(purchases)
    out["purchase_dates"] = dates
    return out


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_file(path: Path, fmt: Optional[str] = None) -> list[dict]:
    fmt = fmt or ("json" if path.suffix.lower() in (".json", ".jsonl") else "csv")
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "csv":
        return list(csv.DictReader(text.splitlines()))
    if path.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else data.get("customers", [])


BRAND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # as admin.py and templates.py name a brand


def import_records(store, records: list[CrmRecord], brand: Optional[str] = None) -> int:
    """Store the records as `brand`'s (None: no brand, seen by admins only; the command line always
    names one)."""
    if brand is not None and not BRAND.fullmatch(brand):
        raise ValueError(f"not a brand id: {brand!r}")
    for record in records:
        store.put_crm(record.platform, record.key, record.stored(brand))
    return len(records)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.crm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a CRM export (CSV or JSON)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["csv", "json"])
    imp.add_argument("--brand", required=True, help="the brand whose CRM exported the file (only its agents see it)")
    args = parser.parse_args(argv)
    if not BRAND.fullmatch(args.brand):
        parser.error(f"--brand: not a brand id: {args.brand!r}")
    records, errors = parse_rows(read_file(args.file, args.format))
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} bad row(s); nothing imported", file=sys.stderr)
        return 2
    # The command line's own imports: the Lambda functions that read CRM records never load them.
    from chalicelib import aws
    from chalicelib.store.dynamodb import DynamoStore

    print(json.dumps({"imported": import_records(DynamoStore(aws.table()), records, args.brand)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
