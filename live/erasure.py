"""Account deletion (`accounts.erasure`): the shopper's chat lines stay in the show's record,
signed "탈퇴한 회원" instead of their Instagram ID — in the database and, after commit, in each
show's recent history in Redis."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from live.models import ChatMessage
from live.services.chat import history_author_rename

DELETED_AUTHOR = "탈퇴한 회원"


def chat_erase(user) -> None:
    messages = ChatMessage.objects.filter(user=user)
    by_stream: dict[int, set[int]] = defaultdict(set)
    for message_id, stream_id in messages.values_list("pk", "stream_id"):
        by_stream[stream_id].add(message_id)
    messages.update(display_name=DELETED_AUTHOR, user=None)

    def rename() -> None:
        for stream_id, ids in by_stream.items():
            history_author_rename(stream_id=stream_id, message_ids=ids, name=DELETED_AUTHOR)

    transaction.on_commit(rename)
