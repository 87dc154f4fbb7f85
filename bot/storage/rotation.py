"""Moving everything stored onto the newest DATA_KEY, so that an old key can be retired.

Resumable by construction: each batch is its own transaction, a row already under the newest key is
left alone, and every write is conditional on the row still holding what was read (a conversation
that changed it meanwhile wrote it under the newest key already). Interrupt it and run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, TableClause, Text, column, select, table, update

from bot.storage.crypto import cipher
from bot.storage.db import Database
from bot.storage.models import Address, Base, EncryptedJSON, EncryptedText

DEFAULT_BATCH = 500


@dataclass
class RotationReport:
    """What one run did, and what is still under an older key (nothing, once it has finished)."""

    reencrypted: dict[str, int] = field(default_factory=dict)
    reindexed: int = 0
    finished: bool = False

    @property
    def total(self) -> int:
        """Values re-encrypted in this run."""
        return sum(self.reencrypted.values())


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted column the models declare."""
    return [
        (t.name, c.name)
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, EncryptedText | EncryptedJSON)
    ]


def rotate_keys(
    db: Database,
    *,
    batch: int = DEFAULT_BATCH,
    max_batches: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RotationReport:
    """Re-encrypt every encrypted value and re-index every address under the newest key, in batches
    (`max_batches` stops early, as an interruption would; run again to carry on)."""
    report = RotationReport()
    budget = [max_batches]

    def spend() -> bool:
        if budget[0] is None:
            return True
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        return True

    for table_name, column_name in encrypted_columns():
        # The ciphertext as stored, as plain text: rotated token by token, never parsed or re-serialised.
        raw = table(table_name, column("id", Integer), column(column_name, Text))
        done = _rotate_column(db, raw, column_name, batch, spend)
        if done is None:
            return report
        report.reencrypted[f"{table_name}.{column_name}"] = done
        if progress and done:
            progress(f"{table_name}.{column_name}: {done} re-encrypted")
    reindexed = _reindex_addresses(db, batch, spend)
    if reindexed is None:
        return report
    report.reindexed = reindexed
    if progress and reindexed:
        progress(f"addresses: {reindexed} re-indexed")
    report.finished = True
    return report


def _rotate_column(db: Database, raw: TableClause, name: str, batch: int, spend: Callable[[], bool]) -> int | None:
    """Rotate one column; None if the batch budget ran out first (run again to carry on)."""
    value, row_id = raw.c[name], raw.c.id
    done, after = 0, 0
    while True:
        if not spend():
            return None
        with db.session() as s:
            rows = s.execute(
                select(row_id, value).where(row_id > after, value.is_not(None)).order_by(row_id).limit(batch)
            ).all()
            for rid, token in rows:
                if cipher().is_current(token):
                    continue
                result = s.execute(
                    update(raw).where(row_id == rid, value == token).values({name: cipher().rotate(token)})
                )
                done += cast(CursorResult[Any], result).rowcount
        if len(rows) < batch:
            return done
        after = rows[-1][0]


def _reindex_addresses(db: Database, batch: int, spend: Callable[[], bool]) -> int | None:
    """Give every address the blind index of the newest key (the older ones stop matching when retired)."""
    done, after = 0, 0
    while True:
        if not spend():
            return None
        with db.session() as s:
            rows = s.scalars(select(Address).where(Address.id > after).order_by(Address.id).limit(batch)).all()
            for address in rows:
                current = cipher().blind_index(f"{address.channel}:{address.address}")
                if address.address_index == current:
                    continue
                result = s.execute(
                    update(Address)
                    .where(Address.id == address.id, Address.address_index == address.address_index)
                    .values(address_index=current)
                    .execution_options(synchronize_session=False)
                )
                done += cast(CursorResult[Any], result).rowcount
        if len(rows) < batch:
            return done
        after = rows[-1].id


def left_on_older_keys(db: Database) -> int:
    """How many stored values an older key is still needed for (0: it can be retired)."""
    count = 0
    with db.session() as s:
        for table_name, column_name in encrypted_columns():
            raw = table(table_name, column(column_name, Text))
            for token in s.scalars(select(raw.c[column_name]).where(raw.c[column_name].is_not(None))):
                count += not cipher().is_current(token)
        for address in s.scalars(select(Address)):
            count += address.address_index != cipher().blind_index(f"{address.channel}:{address.address}")
    return count
