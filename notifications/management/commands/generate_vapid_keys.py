from django.core.management.base import BaseCommand

from notifications.push import vapid_keys_generate


class Command(BaseCommand):
    help = "웹 푸시용 VAPID 키 한 쌍을 만들어 .env 형식으로 출력합니다."

    def handle(self, *args, **options):
        public, private = vapid_keys_generate()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
