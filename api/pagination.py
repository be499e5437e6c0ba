"""Lists that grow (orders, the points ledger, chat) page by cursor: stable while new rows
arrive, no page N to skip to. Catalog lists page by number."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100


class Pages(PageNumberPagination):
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
