"""The Account aggregate: a brand's account on one platform (an X user, a Facebook Page, a WhatsApp
number, a support address, an API channel), which mentions reach and replies go out through.

An account is built in one place: `Account.discovered` (a correctly signed event reached an
account the desk did not know), `Account.from_item` (read back from the store) or `patched` (an
admin connecting or configuring it). The stored item is `to_item()` plus the keys of store/keys.py,
the same shape the desk has always stored, so existing items read as they are; what an account
never had stays absent. Imports pydantic only.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict

AccountStatus = Literal["active", "paused", "discovered"]
IDENTITY = frozenset({"platform", "account_id"})  # what names the account: never patched


class Account(BaseModel):
    """An account as stored. `status: discovered` until an admin connects it (replies refused);
    `brand` picks the priority rules and model, `team` the team its tickets go to; `poll` marks an X
    account the mentions poller reads; `handle` and `display_phone_number` are how people know it;
    `human_agent_tag` and `callback_url` shape replies."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    platform: str
    account_id: str
    status: Optional[AccountStatus] = None
    discovered_at: Optional[str] = None
    brand: Optional[str] = None
    name: Optional[str] = None
    handle: Optional[str] = None
    display_phone_number: Optional[str] = None  # a WhatsApp number as people write it
    team: Optional[str] = None
    poll: Optional[bool] = None
    human_agent_tag: Optional[bool] = None
    callback_url: Optional[str] = None

    @classmethod
    def discovered(cls, platform: str, account_id: str, at: datetime) -> "Account":
        """First sight of an account through a signed event: known, not yet connected."""
        return cls(platform=platform, account_id=account_id, status="discovered", discovered_at=at.isoformat())

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Account":
        return cls.model_validate(item)

    def patched(self, changes: Mapping[str, Any]) -> "Account":
        """This account with `changes` applied (a None removes the attribute); the account's
        identity and attributes it cannot have are refused (ValueError)."""
        check_changes(changes)
        return type(self).from_item({k: v for k, v in {**self.to_item(), **changes}.items() if v is not None})

    def to_item(self) -> dict:
        """The stored attributes (no keys); absent values are left out, as the desk always stored them."""
        return self.model_dump(exclude_none=True)


def check_changes(changes: Mapping[str, Any]) -> None:
    """A patch names only attributes an account has, never its identity."""
    wrong = sorted(set(changes) - (set(Account.model_fields) - IDENTITY))
    if wrong:
        raise ValueError(f"an account patch cannot change {', '.join(wrong)}")
