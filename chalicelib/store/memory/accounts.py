"""The in-memory AccountStore (see the package docstring)."""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Mapping, Optional

from chalicelib.aggregates.account import Account
from chalicelib.errors import NotFound


class MemoryAccountStore:
    """Accounts in a dict keyed by (platform, account id)."""

    def __init__(self):
        self.accounts: dict[tuple[str, str], Account] = {}
        self._lock = threading.Lock()

    def get(self, platform: str, account_id: str) -> Optional[Account]:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            return None if account is None else account.model_copy(deep=True)

    def put(self, account: Account) -> None:
        with self._lock:
            self.accounts[(account.platform, account.account_id)] = Account.from_item(account.to_item())

    def all(self, platform: Optional[str] = None) -> list[Account]:
        with self._lock:  # the table's order: by sort key, "<platform>#<id>"
            chosen = [k for k in self.accounts if platform is None or k[0] == platform]
            return [self.accounts[k].model_copy(deep=True) for k in sorted(chosen, key=lambda k: f"{k[0]}#{k[1]}")]

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        with self._lock:
            if (platform, account_id) in self.accounts:
                return False
            self.accounts[(platform, account_id)] = Account.discovered(platform, account_id, at)
            return True

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            if account is None:
                Account(platform=platform, account_id=account_id).patched(changes)  # the same refusal first
                raise NotFound(f"account {platform}/{account_id}")
            self.accounts[(platform, account_id)] = account.patched(changes)
            return self.accounts[(platform, account_id)].model_copy(deep=True)
