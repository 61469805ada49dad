"""The Customer aggregate (its profile part): one person across channels, and each platform
identity they wrote from.

A customer is built in one place: `Customer.first_seen` (the ingest worker meets an identity the
desk does not know), `Customer.from_item` (read back from the store); an identity likewise by
`Identity.of_author` or `from_item`. The stored items are `to_item()` plus the keys of
store/keys.py, the same shapes the desk has always stored, so existing items read as they are;
what a profile never had stays absent (a profile never edited has no `version`: version 0).
An imported CRM event is a `CustomerEvent`, a merge's record a `Merge` (with what it `Moved`);
touchpoints are still the stored dicts (`CustomerHistory`). A customer first seen from an
identity has the id `first_sight_id` gives (the same for every worker and every retry of the
message). Imports pydantic (and uuid) only.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

NOT_CHANGED = frozenset({"customer_id", "version", "created_at", "identity_count"})  # the store's, never a change
FIRST_SIGHT = uuid.UUID("6f0c1b8e-3c5d-5a57-9d6e-2f4b8a1c7e90")  # the namespace of first-sight customer ids
GENERATIONS = 8  # first-sight ids tried for an identity whose earlier customers are gone, before a random one
REFRESHED = ("name", "handle", "followers", "verified")  # what a later mention refreshes on an identity


def first_sight_id(platform: str, user_id: str, generation: int = 0) -> str:
    """The id of the customer an identity makes when first seen: a uuid5 of platform and user id,
    so racing workers and a retried message name the same one. A later generation is for an
    identity whose first customer is gone (merged into another, or erased) and which is seen again
    with no pointer: that customer must not come back, so the next generation's is made."""
    return str(uuid.uuid5(FIRST_SIGHT, f"{platform}#{user_id}" + (f"#{generation}" if generation else "")))


class Identity(BaseModel):
    """A platform identity as the author arrived (name, handle, reach), pointing at its customer.
    The pointer item (`IDENTITY#<platform>#<user id>`) has no `linked_at` and holds the refreshed
    names and reach (`REFRESHED`); the copy in the customer's partition has `linked_at` and the
    names and reach as linked (`refreshed_from` gives it the pointer's)."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    platform: str
    user_id: str
    customer_id: str
    name: Optional[str] = None
    handle: Optional[str] = None
    followers: Optional[int] = None
    verified: Optional[bool] = None
    linked_at: Optional[str] = None
    name_asked_at: Optional[str] = None  # the pointer only: when the platform last failed to give a name

    @classmethod
    def of_author(cls, platform: str, author: Mapping[str, Any], customer_id: str) -> "Identity":
        """`author` is a mention's Author as a dict (`id` is the platform's user id)."""
        return cls.model_validate({**refreshed_fields(author), "platform": platform, "user_id": author["id"],
                                   "customer_id": customer_id})

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Identity":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        return self.model_dump(exclude_none=True)

    def refreshed_from(self, pointer: Optional[Mapping[str, Any]]) -> "Identity":
        """This copy with the names and reach its pointer holds now (a later mention refreshes the
        pointer only), if the pointer names the same customer."""
        if not pointer or pointer.get("customer_id") != self.customer_id:
            return self
        return self.model_copy(update={k: pointer[k] for k in REFRESHED if pointer.get(k) is not None})


def changed_fields(author: Mapping[str, Any], pointer: Mapping[str, Any]) -> dict:
    """What of `refreshed_fields(author)` the pointer does not hold yet (nothing: no write)."""
    return {k: v for k, v in refreshed_fields(author).items() if pointer.get(k) != v}


def refreshed_fields(author: Mapping[str, Any]) -> dict:
    """What a later mention refreshes on a known identity: reach figures and names, only those the
    payload has (followers change; a payload without a name keeps the one stored)."""
    return {k: v for k, v in author.items() if k in REFRESHED and v is not None}


class Customer(BaseModel):
    """A customer profile as stored: its name (first the author's name, handle or id; an agent may
    edit it), tags, VIP flag and note (edited optimistically against `version`), who edited it
    last, `merged_into` once merged into another profile, and `erased_*` once erased."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    customer_id: str
    name: Optional[str] = None
    created_at: Optional[str] = None
    identity_count: Optional[int] = None
    version: Optional[int] = None
    tags: Optional[list[str]] = None
    vip: Optional[bool] = None
    note: Optional[str] = None
    updated_by: Optional[str] = None
    updated_at: Optional[str] = None
    merged_into: Optional[str] = None
    erased_at: Optional[str] = None
    erased_by: Optional[str] = None

    @classmethod
    def first_seen(cls, customer_id: str, author: Mapping[str, Any], at: datetime) -> "Customer":
        return cls(customer_id=customer_id, name=author.get("name") or author.get("handle") or author["id"],
                   created_at=at.isoformat(), identity_count=1)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Customer":
        return cls.model_validate(item)

    @property
    def gone(self) -> bool:
        """Merged into another profile or erased: an identity seen again with no pointer makes a
        new customer rather than come back to this one."""
        return bool(self.merged_into or self.erased_at)

    @property
    def current_version(self) -> int:
        """The version an edit must name (a profile never edited is at 0)."""
        return self.version or 0

    def changed(self, changes: Mapping[str, Any]) -> "Customer":
        """This profile with `changes` applied (a None removes) and its version one up; the
        profile's identity and the store's own attributes are refused (ValueError)."""
        check_changes(changes)
        item = {k: v for k, v in {**self.to_item(), **changes}.items() if v is not None}
        return type(self).from_item({**item, "version": self.current_version + 1})

    def to_item(self) -> dict:
        """The stored attributes (no keys); absent values are left out, as the desk always stored them."""
        return self.model_dump(exclude_none=True)


def check_changes(changes: Mapping[str, Any]) -> None:
    """A profile change names only attributes a profile has, never its identity or version."""
    wrong = sorted(set(changes) - (set(Customer.model_fields) - NOT_CHANGED))
    if wrong:
        raise ValueError(f"a customer change cannot set {', '.join(wrong)}")


class CustomerHistory(BaseModel):
    """What the customer view starts from: the profile, its identities, and its touchpoints (still
    the stored dicts, keys included, which a merge moves by sort key)."""

    customer: Customer
    identities: list[Identity] = Field(default_factory=list)
    touchpoints: list[dict] = Field(default_factory=list)


class CustomerEvent(BaseModel):
    """A call, email, purchase or visit from the CRM on a customer's timeline, as imported (`id` is
    the CRM's external id, else one the desk made). `brand`: the brand whose CRM it came from, the
    only brand whose agents see it (none: imported before events had one, shown to admins only)."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    id: str
    kind: str
    at: str
    summary: str
    amount: Optional[Union[int, float]] = None  # an int stays an int, as the table gives it back
    currency: Optional[str] = None
    external_id: Optional[str] = None
    brand: Optional[str] = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "CustomerEvent":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        return self.model_dump(exclude_none=True)


class Moved(BaseModel):
    """What a merge moved from one profile to the other: identities as (platform, user id),
    touchpoints and events by their sort keys in the customer's partition (so the undo moves exactly
    those back), and the tickets that now point at the survivor."""

    identities: list[tuple[str, str]] = Field(default_factory=list)
    touchpoints: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    tickets: list[str] = Field(default_factory=list)


class Merge(BaseModel):
    """A merge's record, in the survivor's partition: who merged which profile into it, when, what
    moved, and once undone who undid it and when."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    id: str
    survivor_id: str
    other_id: str
    moved: Moved
    by: str
    at: str
    undone_at: Optional[str] = None
    undone_by: Optional[str] = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Merge":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        return self.model_dump(exclude_none=True)
