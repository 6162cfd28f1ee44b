"""A lean multi-row INSERT for the ingest's hot path.

Django's ``bulk_create`` prepares every value through each field's full
conversion chain, which costs more than the database itself when a fetch
round stores tens of thousands of items. The columns written here are plain
text, integers, datetimes and JSON lists, so their conversion is done
directly. Works on SQLite (3.35 and later) and PostgreSQL, which both return
the new ids of a multi-row INSERT in the order of its rows.
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

# Rows per statement: far below SQLite's 32,766 parameters for our widths.
ROWS_PER_STATEMENT = 500


def _converter(field: Any) -> Any:
    if isinstance(field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        return lambda value: None if value is None else adapt(value)
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, ensure_ascii=False)
    return None


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``); return new ids if asked.

    ``fields`` are model field names; a foreign key takes the related id.
    """
    meta = model._meta
    model_fields: list[Any] = [meta.get_field(name) for name in fields]
    converters = [_converter(f) for f in model_fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in model_fields)
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    suffix = f" RETURNING {quote(str(meta.pk.column))}" if returning_ids else ""

    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            params: list[Any] = []
            for row in chunk:
                for value, convert in zip(row, converters, strict=True):
                    params.append(convert(value) if convert is not None else value)
            # Table and column names come from the model, never from input.
            table = quote(meta.db_table)
            values = ", ".join([row_marks] * len(chunk))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values}{suffix}"  # noqa: S608
            cursor.execute(sql, params)
            if returning_ids:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def update_rows(
    model: type[models.Model], fields: Sequence[str], objects: Sequence[models.Model]
) -> None:
    """Write ``fields`` of each object to its row, by primary key.

    One prepared UPDATE run for every object: Django's ``bulk_update`` builds
    a CASE expression per field and row instead, which grows with the batch.
    """
    if not objects:
        return
    meta = model._meta
    model_fields: list[Any] = [meta.get_field(name) for name in fields]
    converters = [_converter(f) for f in model_fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in model_fields)
    table = quote(meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608
    rows = []
    for obj in objects:
        values = [getattr(obj, f.attname) for f in model_fields]
        row = [
            convert(value) if convert is not None else value
            for value, convert in zip(values, converters, strict=True)
        ]
        row.append(obj.pk)
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
