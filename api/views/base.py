"""The base of every API view: who is calling, the limits, the one error format."""

from __future__ import annotations

from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from api import errors
from api.authentication import SessionAuthentication, TokenAuthentication
from api.permissions import Anyone
from api.throttling import RateLimits


class ApiView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [Anyone]
    throttle_classes = [RateLimits]
    # {"POST": "cart_add"}: the settings.RATE_LIMITS entry a write counts against (as its page).
    rate_limits: dict[str, str] = {}

    def get_exception_handler(self):
        return errors.exception_handler

    def get_authenticate_header(self, request):
        return TokenAuthentication().authenticate_header(request)


class ApiListView(ApiView, GenericAPIView):
    """A list paged by `pagination_class` (the schema then describes the page around it)."""

    def page(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)
