"""A batch file is read in chunks of a bounded size, every row once and in order, whatever the file's size."""

from pathlib import Path

import pyarrow.fs
import pytest

from {{ cookiecutter.package_name }}.io import batch_files
from {{ cookiecutter.package_name }}.io.batch_files import Source, read_chunks


def test_a_csv_is_read_in_chunks_of_about_chunk_rows_every_row_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks and chunks, so that a small file spans many of both.
    monkeypatch.setattr(batch_files, "CSV_BLOCK_BYTES", 1 << 10)
    monkeypatch.setattr(batch_files, "CHUNK_ROWS", 1000)
    path = tmp_path / "batch.csv"
    path.write_text("id,x\n" + "".join(f"{i},{i / 7:.6f}\n" for i in range(10_500)))

    chunks = list(read_chunks(Source(pyarrow.fs.LocalFileSystem(), str(path), "batch.csv")))

    sizes = [chunk.num_rows for chunk in chunks]
    assert sum(sizes) == 10_500
    assert all(1000 <= size < 1100 for size in sizes[:-1]) and 0 < sizes[-1] < 1100, sizes
    assert [value for chunk in chunks for value in chunk.column("id").to_pylist()] == [str(i) for i in range(10_500)]
