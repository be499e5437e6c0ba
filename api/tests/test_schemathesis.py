"""Property-based tests from the schema: every operation, a live server on PostgreSQL.

Schemathesis generates requests from `/api/schema/` as the server serves it and sends them
with a staff member's device token (who may use every endpoint, shopper ones included), so
the answers are the real ones, not a wall of 401s. Each operation must answer without a
server error and within its schema: documented status, content type, body and headers.
Bounded by `MAX_EXAMPLES` per operation (the whole run well under two minutes).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import checks

from accounts.tests.factories import UserFactory
from api.services import api_token_create
from api.tests.conftest import token_for
from live.models import ChatMessage, LiveStream
from orders.tests.factories import hold, make_order
from points.services import points_adjust
from shop.models import WaitlistEntry
from shop.tests.factories import ProductFactory, VariantFactory

MAX_EXAMPLES = 8
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def make_world() -> tuple[str, dict]:
    """Rows for the generated requests to find: the token they are sent with, and the path
    parameters naming real rows (half the examples of an operation with parameters use
    them, half are generated)."""
    seller = UserFactory(is_staff=True, is_superuser=True, profile_complete=True)
    shopper = UserFactory(profile_complete=True)
    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    product = ProductFactory(stream=stream)
    variant = VariantFactory(product=product, stock=50)
    store_variant = VariantFactory(product=ProductFactory(timer_enabled=False), stock=50)
    sold_out = VariantFactory(stock=0)
    line = hold(user=seller, variant=store_variant, quantity=1)
    entry = WaitlistEntry.objects.create(
        user=seller, product=sold_out.product, variant=sold_out, quantity=1, number=1
    )
    order = make_order(user=seller, items=[(variant, 1)])
    make_order(user=shopper, items=[(variant, 1)])
    points_adjust(user=seller, amount=2000, reason="행사 참여 적립 포인트", actor=seller)
    ChatMessage.objects.create(stream=stream, user=shopper, display_name="@a", body="안녕하세요")
    token = token_for(seller)
    spare, _raw = api_token_create(user=seller, name="예비 기기")
    known = {
        "public_id": stream.public_id,
        "product_id": product.pk,
        "variant_id": variant.pk,
        "line_id": line.pk,
        "entry_id": entry.pk,
        "order_id": order.order_id,
        "token_id": spare.pk,
    }
    return token, known


def strategy(operation, known: dict):
    generated = operation.as_strategy()
    names = [p.name for p in operation.path_parameters]
    if not names:
        return generated
    real = operation.as_strategy(path_parameters={name: known[name] for name in names})
    return st.one_of(generated, real)


def last_the_token_revocation(operation) -> bool:
    """Revoking runs last: a generated id may be the id of the token the run is sent with."""
    return operation.method.upper() == "DELETE" and "/auth/tokens/" in operation.path


@pytest.mark.django_db(transaction=True)
def test_every_operation_answers_within_its_schema(live_server, settings):
    # given: limits out of the way (the limits have their own tests) and a world with a token
    settings.RATE_LIMITS = {
        name: tuple((scope, 1_000_000, window) for scope, _n, window in rules)
        for name, rules in settings.RATE_LIMITS.items()
    }
    token, known = make_world()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=last_the_token_revocation
    )
    assert len(operations) > 30
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}

    def run_operation(operation) -> None:
        label = operation.label

        @given(case=strategy(operation, known))
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(base_url=live_server.url, headers=headers)
            statuses.setdefault(label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        run()

    for operation in operations:
        try:
            run_operation(operation)
        except (Exception, BaseExceptionGroup) as error:
            failures[operation.label] = f"{type(error).__name__}: {error}"[:2000]

    # then: no server error and no schema violation on any operation
    report = "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    assert failures == {}, report
    # and the token opened the doors: most operations answered something other than 401/403
    refused = [label for label, seen in statuses.items() if seen <= {401, 403}]
    assert refused == []
