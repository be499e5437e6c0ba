"""Streams and products: public reads over the same selectors as the pages."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api import serializers as s
from api.pagination import NewestFirst, Pages
from api.views.base import ApiListView, ApiView
from live import selectors as live_selectors
from live.models import ChatMessage, LiveStream
from shop import selectors as shop_selectors


def _stream_or_404(public_id: str) -> LiveStream:
    stream = live_selectors.stream_by_public_id(public_id)
    if stream is None:
        raise Http404
    return stream


class StreamList(ApiListView):
    pagination_class = Pages

    @extend_schema(
        operation_id="streams_list",
        parameters=[
            OpenApiParameter("status", str, enum=LiveStream.Status.values, required=False),
        ],
        responses=s.StreamSerializer(many=True),
    )
    def get(self, request):
        """Broadcasts, the newest schedule first (filter by `status`)."""
        streams = LiveStream.objects.order_by("-scheduled_at", "-created_at", "-id")
        status = request.query_params.get("status", "")
        if status in LiveStream.Status.values:
            streams = streams.filter(status=status)
        return self.page(streams, s.StreamSerializer)


class StreamCurrent(ApiView):
    @extend_schema(operation_id="streams_current", responses=s.StreamSerializer)
    def get(self, request):
        """The show on air, else the next scheduled one (404 when there is none)."""
        stream = live_selectors.current_stream()
        if stream is None:
            raise Http404
        return Response(s.StreamSerializer(stream).data)


class StreamDetail(ApiView):
    @extend_schema(operation_id="streams_detail", responses=s.StreamSerializer)
    def get(self, request, public_id: str):
        return Response(s.StreamSerializer(_stream_or_404(public_id)).data)


class StreamState(ApiView):
    @extend_schema(operation_id="streams_state", responses=s.RoomStateSerializer)
    def get(self, request, public_id: str):
        """The live room's state (what the live page refetches after a gap): sequence,
        viewers, stock per product and variant, the last chat messages."""
        state = live_selectors.live_room_state(stream=_stream_or_404(public_id))
        return Response(state)


class StreamChat(ApiListView):
    pagination_class = NewestFirst

    @extend_schema(operation_id="streams_chat", responses=s.ChatMessageSerializer(many=True))
    def get(self, request, public_id: str):
        """Chat history, newest first, by cursor (deleted messages left out)."""
        stream = _stream_or_404(public_id)
        messages = ChatMessage.objects.filter(stream=stream, is_deleted=False)
        return self.page(messages, s.ChatMessageSerializer)


class ProductList(ApiListView):
    pagination_class = Pages

    @extend_schema(
        operation_id="products_list",
        parameters=[
            OpenApiParameter("q", str, required=False, description="이름·설명 검색"),
            OpenApiParameter(
                "stream", str, required=False, description="방송 public_id: 그 방송의 상품"
            ),
            OpenApiParameter("in_stock", bool, required=False, description="구매 가능한 것만"),
        ],
        responses=s.ProductListSerializer(many=True),
    )
    def get(self, request):
        """The store's products (as the store page), or one show's (`stream`)."""
        public_id = request.query_params.get("stream", "")
        if public_id:
            stream = _stream_or_404(public_id)
            products = shop_selectors.stream_products(stream_id=stream.pk)
        else:
            query = request.query_params.get("q", "")
            products = shop_selectors.store_products(query=query).select_related("stream")
        if request.query_params.get("in_stock") in ("true", "1"):
            products = [p for p in products if p.status == "AVAILABLE" and p.open_variants]
        page = self.paginate_queryset(products)
        for product in page:
            if public_id:
                product.stream = stream
        return self.get_paginated_response(s.ProductListSerializer(page, many=True).data)


class ProductDetail(ApiView):
    @extend_schema(operation_id="products_detail", responses=s.ProductDetailSerializer)
    def get(self, request, product_id: int):
        product = shop_selectors.product_detail(product_id=product_id)
        if product is None:
            raise Http404
        return Response(s.ProductDetailSerializer(product).data)
