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
