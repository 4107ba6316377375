"""Manifest I/O: Parquet native, Open-Sora CSV, JSONL.

A manifest is a list of rows; a row is a plain dict. Column types come from the catalogue that the ops
declare (`vidcurate.columns.catalogue()`). How values are stored:

- Parquet: a declared scalar column gets its Arrow type. Nested columns (declared `list[...]`/`json`, and
  any column holding lists, dicts or tuples, or mixing scalar kinds such as [12, 40, "too short"]) are
  stored as JSON text and listed in the schema metadata under `JSON_KEY`, so reading gives back exactly the
  values written (tuples come back as lists). Other undeclared columns keep their natural Arrow type (ints
  mixed with floats: float64; bytes: binary), as does a declared column whose values do not fit its type.
- CSV: declared nested columns are JSON text, decoded on read. Undeclared lists and dicts are written as
  JSON text too but read back as that text: CSV has no place to record the type.
- JSONL: native JSON values; numpy scalars and arrays are written as plain numbers and lists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vidcurate.columns import Column, catalogue
from vidcurate.errors import ConfigError

Row = dict[str, Any]

FORMATS = (".parquet", ".csv", ".jsonl")
#: Parquet schema metadata key: JSON list of the columns stored as JSON text
JSON_KEY = b"vidcurate.json"

_ARROW = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}
#: value kinds (see `_kind`) that a declared scalar type stores without loss
_FITS = {"int": {"int"}, "float": {"int", "float"}, "str": {"str"}, "bool": {"bool"}}
_NATURAL = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bytes": pa.binary()}


def stable_id(relpath: str) -> str:
    """A readable id that depends only on the file's location: sanitised stem + hash of the relpath."""
    stem = safe_name(Path(relpath).stem)[:48] or "video"
    digest = hashlib.sha1(relpath.replace(os.sep, "/").encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def safe_name(text: str) -> str:
    """File-name-safe version of an id: letters, digits, '-', '_' and '.' only; no leading dot (hidden file)
    or dash (read as an option by command-line tools that are handed the name)."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "_", text)).strip("._-")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"manifest {path}: unknown extension {suffix!r}; use one of {', '.join(FORMATS)}")
    return suffix


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists; anything else unchanged."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    return value


def _json_default(value: Any) -> Any:
    plain = _plain(value)
    return str(value) if plain is value else plain


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _loads(value: str) -> Any:
    """Decode JSON text; text that is not JSON (hand-written CSV, older manifests) stays as it is."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, (list, tuple, dict)):
        return "nested"
    return type(value).__name__


def _column(values: list[Any], col: Column | None) -> tuple[pa.Array, bool]:
    """One column's Arrow array, and whether it holds JSON text."""
    values = [_plain(v) for v in values]
    kinds = {_kind(v) for v in values if v is not None}
    nested = (col is not None and col.nested) or "nested" in kinds
    if not nested and (len(kinds) <= 1 or kinds == {"int", "float"}):
        if col is not None and kinds <= _FITS[col.type]:
            typ: pa.DataType | None = _ARROW[col.type]
        elif not kinds:
            typ = pa.null()
        elif len(kinds) == 2:
            typ = pa.float64()
        else:
            typ = _NATURAL.get(next(iter(kinds)))
        try:
            return pa.array(values, type=typ), False
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    return pa.array([None if v is None else _dumps(v) for v in values], type=pa.string()), True


def with_json_meta(table: pa.Table, names: Iterable[str]) -> pa.Table:
    """The table with `JSON_KEY` metadata listing `names` (in column order), or without the key if none."""
    names = set(names)
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != JSON_KEY}
    listed = [n for n in table.column_names if n in names]
    if listed:
        meta[JSON_KEY] = json.dumps(listed).encode()
    return table.replace_schema_metadata(meta or None)


def json_columns(table_or_schema: pa.Table | pa.Schema) -> set[str]:
    """Columns holding JSON text: those listed under `JSON_KEY`, plus catalogued nested columns stored as
    strings (CSV, and Parquet written before the metadata existed)."""
    schema = table_or_schema.schema if isinstance(table_or_schema, pa.Table) else table_or_schema
    meta = schema.metadata or {}
    listed = set(json.loads(meta[JSON_KEY])) if JSON_KEY in meta else set()
    known = catalogue()
    legacy = {f.name for f in schema if f.name in known and known[f.name].nested and pa.types.is_string(f.type)}
    return (listed | legacy) & set(schema.names)


def rows_to_table(rows: list[Row]) -> pa.Table:
    """Build an Arrow table; column order follows first appearance, nested values become JSON text."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    known = catalogue()
    arrays: dict[str, pa.Array] = {}
    nested = []
    for name in names:
        arrays[name], is_json = _column([r.get(name) for r in rows], known.get(name))
        if is_json:
            nested.append(name)
    return with_json_meta(pa.table(arrays), nested)


def table_to_rows(table: pa.Table) -> list[Row]:
    """Rows from an Arrow table, decoding JSON columns and dropping nulls for compactness."""
    nested = json_columns(table)
    return [{k: _loads(v) if k in nested and isinstance(v, str) else v for k, v in rec.items() if v is not None}
            for rec in table.to_pylist()]


def iter_rows(path: str | Path, batch_size: int = 2048) -> Iterator[Row]:
    """The rows of a manifest, streamed: Parquet one batch of `batch_size` rows and JSONL one line at a time in
    memory (CSV is read whole)."""
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise ConfigError(f"manifest {path} does not exist")
    if fmt == ".parquet":
        source = pq.ParquetFile(path)
        for batch in source.iter_batches(batch_size=batch_size):
            yield from table_to_rows(pa.Table.from_batches([batch], schema=source.schema_arrow))
    elif fmt == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield {k: v for k, v in json.loads(line).items() if v is not None}
    else:
        yield from read(path)


def read(path: str | Path) -> list[Row]:
    """Read a manifest in any supported format."""
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise ConfigError(f"manifest {path} does not exist")
    if fmt == ".parquet":
        return table_to_rows(pq.read_table(path))
    if fmt == ".csv":
        text = csv_text(path)
        header = next(csv.reader(io.StringIO(text)), [])
        repeated = sorted({n for n in header if header.count(n) > 1})
        if repeated:
            raise ConfigError(f"manifest {path}: column '{repeated[0]}' appears more than once in the header")
        opts = pacsv.ConvertOptions(strings_can_be_null=False, column_types=_csv_types(header))
        try:
            table = pacsv.read_csv(io.BytesIO(text.encode("utf-8")), convert_options=opts)
        except pa.ArrowInvalid as e:
            raise ConfigError(f"manifest {path}: not a readable CSV: {' '.join(str(e).split())[:300]}") from None
        return [{k: v for k, v in r.items() if v not in (None, "")} for r in table_to_rows(table)]
    with path.open(encoding="utf-8") as fh:
        return [{k: v for k, v in json.loads(line).items() if v is not None} for line in fh if line.strip()]


def csv_text(path: Path) -> str:
    """A CSV file's text: UTF-8 with or without a BOM, or UTF-16 with a BOM (Excel's 'Unicode text'). An empty
    file, or one in another encoding, is a ConfigError."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ConfigError(f"manifest {path} is empty (a CSV needs at least a header with a `path` column)")
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"manifest {path}: not UTF-8 or UTF-16 text ({e.reason} at byte {e.start})") from None


def _csv_types(header: list[str]) -> dict[str, pa.DataType]:
    known = catalogue()
    return {n: pa.string() for n in header if n in known and (known[n].type == "str" or known[n].nested)}


def write(rows: Iterable[Row], path: str | Path) -> Path:
    """Write a manifest atomically (temp name, then rename) in the format given by the extension."""
    path = Path(path)
    fmt = _format(path)
    rows = list(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if fmt == ".jsonl":
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, default=_json_default) + "\n")
    elif fmt == ".csv":
        _write_csv(rows, tmp)
    else:
        table = rows_to_table(rows) if rows else pa.table({"path": pa.array([], pa.string())})
        pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def _csv_cell(value: Any, nested: bool) -> Any:
    value = _plain(value)
    if value is None:
        return ""
    return _dumps(value) if nested or isinstance(value, (list, tuple, dict)) else value


def _write_csv(rows: list[Row], path: Path) -> None:
    """Minimal quoting, as pandas writes Open-Sora's meta CSVs."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    known = catalogue()
    nested = {n: n in known and known[n].nested for n in names}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names or ["path"])
        for row in rows:
            writer.writerow([_csv_cell(row.get(n), nested[n]) for n in names])


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Concatenate shard tables whose columns may differ (missing columns become nulls).

    A column that is JSON text in any shard, or whose types disagree across shards (other than ints with
    floats), becomes JSON text in all of them; the result's `JSON_KEY` lists the union.
    """
    nested = set().union(*(json_columns(t) for t in tables))
    types: dict[str, set[pa.DataType]] = {}
    for t in tables:
        for f in t.schema:
            if not pa.types.is_null(f.type):
                types.setdefault(f.name, set()).add(f.type)
    for name, found in types.items():
        if len(found) > 1 and not all(pa.types.is_integer(x) or pa.types.is_floating(x) for x in found):
            nested.add(name)
    parts = [as_json_text(t, nested - json_columns(t)).replace_schema_metadata(None) for t in tables]
    table = pa.concat_tables(parts, promote_options="permissive")
    return with_json_meta(table, nested)


def as_json_text(table: pa.Table, names: set[str]) -> pa.Table:
    """The table with the named columns (those it has) re-encoded as JSON text."""
    for name in names & set(table.column_names):
        values = table.column(name).to_pylist()
        encoded = pa.array([None if v is None else _dumps(v) for v in values], type=pa.string())
        table = table.set_column(table.column_names.index(name), name, encoded)
    return table


def catalogue_markdown() -> str:
    """The README's column table: the base columns and those declared by the ops shipped in `vidcurate`."""
    lines = ["| column | type | unit | produced by | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {c.unit} | {c.op} | {c.doc} |"
              for c in catalogue(package="vidcurate").values()]
    return "\n".join(lines)


def _update_readme(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    start = text.index("<!-- columns")
    end = text.index("<!-- /columns -->")
    begin = text.index("\n", start) + 1
    readme.write_text(text[:begin] + catalogue_markdown() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    _update_readme(Path(__file__).resolve().parents[2] / "README.md")
