"""Demo accounts for `manage.py seed_demo` (idempotent)."""

from django.utils import timezone

from accounts.models import User

ADMIN_EMAIL = "admin@dorami.local"
ADMIN_PASSWORD = "dorami-admin"  # noqa: S105 — demo data only, printed by seed_demo

SHOPPERS = [
    {
        "email": "minji@dorami.local",
        "name": "김민지",
        "instagram_id": "@minji.style",
        "depositor_name": "김민지",
        "phone": "2135550101",
        "address": {
            "full_name": "김민지",
            "address1": "3250 Wilshire Blvd",
            "address2": "Suite 100",
            "city": "Los Angeles",
            "state": "CA",
            "zip": "90010",
        },
    },
    {
        "email": "jisoo@dorami.local",
        "name": "이지수",
        "instagram_id": "@jisoo_closet",
        "depositor_name": "JISOO LEE",
        "phone": "+12015550102",
        "address": {
            "full_name": "Jisoo Lee",
            "address1": "160 Main St",
            "address2": "",
            "city": "Fort Lee",
            "state": "NJ",
            "zip": "07024",
        },
    },
    {
        "email": "newbie@dorami.local",
        "name": "",
        "instagram_id": None,
        "depositor_name": "",
        "phone": "",
        "address": None,
    },
]


def seed_accounts() -> dict:
    admin, created = User.objects.get_or_create(
        email=ADMIN_EMAIL,
        defaults={"name": "관리자", "is_staff": True, "is_superuser": True},
    )
    if created:
        admin.set_password(ADMIN_PASSWORD)
        admin.save(update_fields=["password"])
    shoppers = []
    for data in SHOPPERS:
        user, created = User.objects.get_or_create(
            email=data["email"],
            defaults={
                "name": data["name"],
                "instagram_id": data["instagram_id"],
                "depositor_name": data["depositor_name"],
                "phone": data["phone"],
            },
        )
        if created:
            user.set_unusable_password()
            if data["address"]:
                user.shipping_address = data["address"]
                user.profile_completed_at = timezone.now()
            user.save()
        shoppers.append(user)
    return {"admin": admin, "shoppers": shoppers}
