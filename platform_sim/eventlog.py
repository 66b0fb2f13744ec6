"""The world's event log: one row per chat, kept in memory or streamed to a Parquet file.

A small world keeps its step frames in memory (``World.events_frame()`` concatenates them).
A world given a path writes them in chunks of ``chunk_rows`` rows to one Parquet file with
``pyarrow.parquet.ParquetWriter``, so memory stays bounded whatever the number of steps:
100,000 people write 25,000 chats a step, ~300 bytes each with their replies.
Both give the same frame back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["EventLog"]


class EventLog:
    """Step frames (same columns each step), in memory or streamed to ``path``."""

    def __init__(self, path: str | Path | None = None, chunk_rows: int = 100_000) -> None:
        self.path = None if path is None else Path(path)
        self.chunk_rows = chunk_rows
        self.n_rows = 0
        self._frames: list[pd.DataFrame] = []  # all of them, or the unwritten chunk
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._closed = False

    def append(self, frame: pd.DataFrame) -> None:
        """Add one step's rows."""
        if self._closed:
            raise RuntimeError(f"the event log {self.path} is closed; it takes no more rows")
        self._frames.append(frame)
        self.n_rows += len(frame)
        self._buffered += len(frame)
        if self.path is not None and self._buffered >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        frames = [f for f in self._frames if len(f)]
        self._frames, self._buffered = [], 0
        if not frames:
            return
        table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.path, self._schema)
        self._writer.write_table(table.cast(self._schema))

    def close(self) -> None:
        """Write what is buffered and finish the file (no-op in memory or when closed)."""
        if self.path is None or self._closed:
            return
        self._flush()
        if self._writer is None:  # no rows at all: an empty file, as to_parquet would write
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame().to_parquet(self.path, index=False)
        else:
            self._writer.close()
        self._closed = True

    def frame(self) -> pd.DataFrame:
        """All rows so far, one DataFrame; a streamed log is closed first and read back."""
        if self.path is None:
            return pd.concat(self._frames, ignore_index=True) if self._frames else pd.DataFrame()
        self.close()
        return pd.read_parquet(self.path)
