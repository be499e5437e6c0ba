import factory
from django.utils import timezone

from accounts.models import User

DEFAULT_ADDRESS = {
    "full_name": "Test Shopper",
    "address1": "3250 Wilshire Blvd",
    "address2": "",
    "city": "Los Angeles",
    "state": "CA",
    "zip": "90010",
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"쇼퍼{n}")
    status = User.Status.ACTIVE

    class Params:
        profile_complete = factory.Trait(
            instagram_id=factory.Sequence(lambda n: f"@shopper_{n}"),
            depositor_name=factory.Sequence(lambda n: f"입금자{n}"),
            phone="2135550100",
            profile_completed_at=factory.LazyFunction(timezone.now),
        )

    @factory.post_generation
    def address(obj, create, extracted, **kwargs):
        # A complete profile gets the default address unless one is given.
        if extracted is None and obj.profile_completed_at is not None:
            extracted = dict(DEFAULT_ADDRESS)
        if extracted:
            obj.shipping_address = extracted
            if create:
                obj.save(update_fields=["shipping_address_encrypted", "address_key_version"])


def staff_with(*perms: str, **extra) -> User:
    """A staff member (not superuser) holding exactly `perms` ("app_label.codename"); the
    wildcard "*.view" gives every view permission."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    user = UserFactory(is_staff=True, profile_complete=True, **extra)
    query = Q(pk__in=[])
    for perm in perms:
        if perm == "*.view":
            query |= Q(codename__startswith="view_")
        else:
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
    found = Permission.objects.filter(query)
    assert "*.view" in perms or found.count() == len(perms), f"unknown permission in {perms}"
    user.user_permissions.set(found)
    return user
