"""A speed fix for moto's DynamoDB transactions, for the local stack and the bench (never Lambda)."""
from __future__ import annotations


def fast_moto_transactions() -> None:
    """moto backs up each table a TransactWriteItems touches with a deep copy of the whole table, so
    a transaction costs time in proportion to the table and a run of N mentions N²: 200 mentions took
    five minutes, and the local stack's end-to-end run missed its minute. Here the backup is of the
    items the transaction touches, restored if it is cancelled: the same answers and the same stored state, in constant time. Used by the local
    stack (infra/local/stack.py) and the bench (no request is added or removed, so nothing the bench
    counts changes)."""
    import copy as std_copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend, "_bench_fast", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    def keep_table(value, memo=None):
        return value if isinstance(value, Table) else std_copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(**{**vars(std_copy), "deepcopy": keep_table})

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key")
            if key is None and "Item" in op:
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {n: op["Item"][n] for n in names if n in op["Item"]}
            if key is None:
                continue
            try:
                current = self.get_item(table.name, key)
            except Exception:
                continue
            saved.append((table.name, key, current.to_json()["Attributes"] if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for name, key, item in reversed(saved):
                if item is None:
                    try:
                        self.delete_item(name, key)
                    except Exception:
                        pass
                else:
                    self.put_item(name, item)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items
    _one_write_at_a_time(models.DynamoDBBackend)
    models.DynamoDBBackend._bench_fast = True


def _one_write_at_a_time(backend) -> None:
    """moto checks a write's condition and then applies it, and undoes a cancelled transaction by
    putting back what it saved: with writers in threads (the tests' racing workers, the local
    stack's), a write landing between those steps is lost, which DynamoDB never does. One lock
    around every write makes each whole, as DynamoDB's are."""
    import functools
    import threading

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        original = getattr(backend, name, None)
        if original is None:
            continue

        def locked(*args, __original=original, **kwargs):
            with lock:
                return __original(*args, **kwargs)

        setattr(backend, name, functools.wraps(original)(locked))
