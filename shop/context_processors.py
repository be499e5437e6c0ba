"""Template context every page gets from the shop."""

from django.utils.functional import SimpleLazyObject

from shop.selectors import cart_count


def cart(request):
    """The header's cart badge: one count query, run only by a page that shows it."""
    user = getattr(request, "user", None)
    return {"cart_count": SimpleLazyObject(lambda: cart_count(user=user))}
