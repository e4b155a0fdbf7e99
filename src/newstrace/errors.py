"""Library errors. The CLI turns these into one clean message and a non-zero exit at the edge."""

from __future__ import annotations


class NewstraceError(Exception):
    """Base class for errors a user can act on."""


class InputError(NewstraceError):
    """An input file or record could not be read. Names the file, the record and the reason."""

    def __init__(self, file: str, record: str | None, reason: str):
        self.file = file
        self.record = record
        self.reason = reason
        where = f"{file}" + (f" [record {record}]" if record is not None else "")
        super().__init__(f"{where}: {reason}")


class NothingIngested(NewstraceError):
    """A whole run produced no article."""


class StoreError(NewstraceError):
    """The DuckDB store is missing, locked, or of an unknown schema."""


class ModelError(NewstraceError):
    """A shipped model file is missing or of a format this version cannot read."""


class OutputError(NewstraceError):
    """An output file or folder could not be written: a full disk, a read-only folder, a missing permission."""
