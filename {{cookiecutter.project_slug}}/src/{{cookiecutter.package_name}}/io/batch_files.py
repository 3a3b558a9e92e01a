"""Batch scoring's files: the CSV and Parquet inputs read in chunks with pyarrow, the Parquet datasets written.

A chunk is about 65,000 rows, so that memory stays the same whatever the size of the file: pyarrow's
streaming CSV reader (`pyarrow.csv.open_csv`) and Parquet's row-group batches (`ParquetFile.iter_batches`).
Every CSV column is read as text, and a feature column the model takes as a number is converted afterwards: a
value that is not a number then rejects its row (core/batch_rows.py) instead of failing the whole block.
"""

import csv
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.fs
import pyarrow.parquet

from ..user_errors import UserError

# pyarrow's streaming CSV reader reads up to 32 blocks ahead on its I/O thread, however slowly they are scored: so
# the block is small (2 MB, 64 MB ahead at most), and blocks are gathered into chunks of CHUNK_ROWS rows for scoring
# and for the Parquet row groups, which stay large.
CSV_BLOCK_BYTES = 2 << 20
CHUNK_ROWS = 65_536
PARQUET_BATCH_ROWS = 32_768
SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class Source:
    """One input file: where it is (a path of `filesystem`) and how it is shown (source_file in the lineage)."""

    filesystem: pyarrow.fs.FileSystem
    path: str
    name: str

    @property
    def is_parquet(self) -> bool:
        return self.path.endswith(".parquet")


def list_sources(location: str, filesystem: pyarrow.fs.FileSystem | None = None) -> list[Source]:
    """The CSV and Parquet files of `location`: a file, or every such file under a folder (sorted, recursive).

    FileNotFoundError or ValueError with a sentence when there is nothing to score; UserError when an s3:// INPUT's
    bucket does not answer or refuses the keys.
    """
    if filesystem is None and location.startswith("s3://"):
        from .dvc_remote import s3_filesystem

        # pyarrow names an S3 object bucket/key, without the scheme.
        filesystem, path = s3_filesystem(Path.cwd()), location.removeprefix("s3://")
    elif filesystem is None:
        filesystem, path = pyarrow.fs.LocalFileSystem(), str(Path(location).resolve())
    else:
        path = location
    try:
        info = filesystem.get_file_info(path)
    except OSError as error:
        # The bucket's endpoint down or refusing the keys: one sentence (a missing file is NotFound, not an error).
        raise UserError(
            f"cannot read {location}: {str(error).splitlines()[0]}; check the DVC remote's endpointurl and keys "
            "(`dvc remote list`, docs/batch.md)"
        ) from None
    if info.type == pyarrow.fs.FileType.NotFound:
        raise FileNotFoundError(f"{location} does not exist")
    if info.type == pyarrow.fs.FileType.File:
        if not path.endswith(SUFFIXES):
            raise ValueError(f"{location} is neither a .csv nor a .parquet file")
        return [Source(filesystem, path, location)]
    found = filesystem.get_file_info(pyarrow.fs.FileSelector(path, recursive=True))
    files = sorted(f.path for f in found if f.type == pyarrow.fs.FileType.File and f.path.endswith(SUFFIXES))
    if not files:
        raise ValueError(f"{location} holds no .csv or .parquet file")
    base = path.rstrip("/")
    return [Source(filesystem, file, location.rstrip("/") + file[len(base) :]) for file in files]


def csv_header(source: Source) -> list[str]:
    """The column names of a CSV: its first line."""
    with source.filesystem.open_input_stream(source.path) as stream:
        first = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="").readline()
    return next(csv.reader([first]), [])


def columns_of(source: Source) -> list[str]:
    if source.is_parquet:
        with source.filesystem.open_input_file(source.path) as handle:
            return list(pyarrow.parquet.ParquetFile(handle).schema_arrow.names)
    return csv_header(source)


def row_count(source: Source) -> int | None:
    """Rows of a Parquet file from its footer; None for a CSV (known only once read)."""
    if not source.is_parquet:
        return None
    with source.filesystem.open_input_file(source.path) as handle:
        return int(pyarrow.parquet.ParquetFile(handle).metadata.num_rows)


def read_chunks(source: Source) -> Iterator[pa.Table]:
    """The file's rows, a chunk at a time; every column of a CSV as text (missing values as nulls)."""
    if source.is_parquet:
        with source.filesystem.open_input_file(source.path) as handle:
            for batch in pyarrow.parquet.ParquetFile(handle).iter_batches(batch_size=PARQUET_BATCH_ROWS):
                yield pa.Table.from_batches([batch])
        return
    columns = csv_header(source)
    convert = pyarrow.csv.ConvertOptions(column_types={name: pa.string() for name in columns}, strings_can_be_null=True)
    read = pyarrow.csv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    with source.filesystem.open_input_stream(source.path) as stream:
        reader = pyarrow.csv.open_csv(stream, read_options=read, convert_options=convert)
        gathered: list[pa.RecordBatch] = []
        for batch in reader:
            gathered.append(batch)
            if sum(part.num_rows for part in gathered) >= CHUNK_ROWS:
                yield pa.Table.from_batches(gathered)
                gathered = []
        if gathered:
            yield pa.Table.from_batches(gathered)


class DatasetWriter:
    """A Parquet dataset (a folder of part files) written a chunk at a time: one part file per input file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._writer: pyarrow.parquet.ParquetWriter | None = None
        self._parts = 0
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pyarrow.parquet.ParquetWriter(self.folder / f"part-{self._parts:05d}.parquet", table.schema)
            self._parts += 1
        self._writer.write_table(table)
        self.rows += table.num_rows

    def next_part(self) -> None:
        """Close the current part file: the next chunk (another input file, maybe other columns) starts a new one."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self, empty_schema: pa.Schema | None = None) -> None:
        self.next_part()
        if self._parts == 0 and empty_schema is not None:
            # No row at all: an empty part file still tells a reader the columns.
            pyarrow.parquet.write_table(empty_schema.empty_table(), self.folder / "part-00000.parquet")


def publish(staging: Path, targets: dict[str, Path], overwrite: bool) -> None:
    """Move what was written under `staging` (name -> final path) into place, then remove `staging`."""
    for name, target in targets.items():
        if target.exists():
            if not overwrite:
                raise FileExistsError(f"{target} exists: pass --overwrite to replace it, or choose another OUTPUT")
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        (staging / name).replace(target)
    shutil.rmtree(staging, ignore_errors=True)
