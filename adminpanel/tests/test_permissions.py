"""Admin pages outside the model admins follow the same permissions."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import staff_with

pytestmark = pytest.mark.django_db


def test_sales_dashboard_needs_order_view_permission():
    for perms, shown in ((("adminpanel.view_notice",), False), (("orders.view_order",), True)):
        client = Client()
        client.force_login(staff_with(*perms))
        html = client.get(reverse("admin:index")).content.decode()
        assert ('data-testid="revenue-7d"' in html) is shown, perms
