"""Text into the DuckDB SQL that the package writes: every value and every name quoted one way.
(In the dbt project the macro census_string_literal does the same for the models' SQL.)"""

from __future__ import annotations


def literal(text: str) -> str:
    """``text`` as an SQL string literal: in single quotes, its own single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier: in double quotes, its own double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
