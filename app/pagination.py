"""Pages of a query's results, the same two queries whatever the table's size."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from app.extensions import db

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 200
# Beyond this the offset would overflow the database's integers; nobody pages that far.
MAX_PAGE = 100_000


def paginate(query: Select[Any], per_page: int = DEFAULT_PER_PAGE) -> Pagination:
    """One page of the query, the page number taken from ?page= (junk means page 1)."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(
        query,
        page=min(max(page, 1), MAX_PAGE),
        per_page=min(per_page, MAX_PER_PAGE),
        error_out=False,
    )
