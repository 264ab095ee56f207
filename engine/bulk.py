"""Writing many rows fast, with a progress bar: COPY on PostgreSQL (psycopg 3), batched inserts elsewhere
(used by the bulk seeder, engine.seed)."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, func, select, text as sql

from .api import Engine

BATCH = 10_000


class Progress:
    """tqdm when installed, else one stderr line rewritten in place."""

    def __init__(self, total: int, label: str, enabled: bool = True):
        self.total, self.label, self.enabled, self.done = total, label, enabled, 0
        self.started = self._last = time.perf_counter()
        self._bar = None
        if enabled:
            try:
                from tqdm import tqdm  # optional, never a dependency

                self._bar = tqdm(total=total, desc=label, unit="row", unit_scale=True, file=sys.stderr)
            except ImportError:
                self._draw()

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        elif time.perf_counter() - self._last > 0.25 or self.done >= self.total:
            self._draw()

    def _draw(self) -> None:
        self._last = time.perf_counter()
        elapsed = self._last - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        pct = 100.0 * self.done / self.total if self.total else 100.0
        width = 30
        fill = int(width * pct / 100)
        eta = (self.total - self.done) / rate if rate else 0.0
        sys.stderr.write(f"\r{self.label:<12} [{'#' * fill}{'.' * (width - fill)}] {pct:5.1f}% "
                         f"{self.done:,}/{self.total:,} {rate:,.0f}/s eta {eta:4.0f}s ")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self._draw()
            sys.stderr.write("\n")
            sys.stderr.flush()


class Writer:
    """Rows into a table: COPY on PostgreSQL (psycopg 3), executemany in batches elsewhere."""

    def __init__(self, eng: Engine):
        self.eng = eng
        self.pg = eng.db.engine.dialect.name == "postgresql"

    def write(self, table: Any, columns: list[str], rows: Iterable[tuple], progress: Progress | None = None) -> int:
        count = 0
        if self.pg:
            raw = self.eng.db.engine.raw_connection()
            try:
                cur = raw.cursor()
                cols = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                        if progress is not None and count % 5000 == 0:
                            progress.update(5000)
                raw.commit()
            finally:
                raw.close()
            if progress is not None:
                progress.update(count % 5000)
            return count
        # rows carry JSON columns as text (what COPY takes); SQLAlchemy's JSON type wants the values
        json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        with self.eng.db.engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            for row in rows:
                if json_at:
                    row = tuple(json.loads(v) if i in json_at and isinstance(v, str) else v for i, v in enumerate(row))
                batch.append(dict(zip(columns, row)))
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    count += len(batch)
                    if progress is not None:
                        progress.update(len(batch))
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
                count += len(batch)
                if progress is not None:
                    progress.update(len(batch))
        return count

    def reserve_ids(self, table: Any, count: int) -> int:
        """The first of ``count`` consecutive ids nobody else will get."""
        with self.eng.db.engine.begin() as conn:
            if self.pg:
                seq = conn.execute(sql(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")).scalar_one()
                first = conn.execute(sql("SELECT nextval(:s)"), {"s": seq}).scalar_one()
                top = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
                first = max(first, top + 1)
                conn.execute(sql("SELECT setval(:s, :v)"), {"s": seq, "v": first + max(count, 1) - 1})
                return int(first)
            return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
