"""SystemConfig, Notice and AuditLog move from adminpanel to core, keeping their tables.

The tables stay as they are (the models name them with `db_table`): this migration only adds
the models to core's state, and adminpanel 0004 removes them from adminpanel's. The content
types move with them, so permissions already granted to staff groups keep working.
"""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


MOVED = ("systemconfig", "notice", "auditlog")


def move_content_types(apps, schema_editor, *, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label=source, model__in=MOVED).update(app_label=target)


def forwards(apps, schema_editor):
    move_content_types(apps, schema_editor, source="adminpanel", target="core")


def backwards(apps, schema_editor):
    move_content_types(apps, schema_editor, source="core", target="adminpanel")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("adminpanel", "0003_korean_field_labels"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('IMPORTANT', '중요'), ('GENERAL', '일반')], default='GENERAL', max_length=16, verbose_name='구분')),
                        ('title', models.CharField(max_length=200, verbose_name='제목')),
                        ('body', models.TextField(blank=True, verbose_name='내용')),
                        ('is_active', models.BooleanField(default=True, verbose_name='게시')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='생성 시각')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='수정 시각')),
                    ],
                    options={
                        'verbose_name': '공지',
                        'verbose_name_plural': '공지',
                        'db_table': 'adminpanel_notice',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='SystemConfig',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('shipping_fee_ca', models.DecimalField(decimal_places=2, default=Decimal('8.00'), max_digits=8, verbose_name='캘리포니아 배송비')),
                        ('shipping_fee_other', models.DecimalField(decimal_places=2, default=Decimal('10.00'), max_digits=8, verbose_name='기타 주 배송비')),
                        ('default_cart_timer_minutes', models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(7200)], verbose_name='기본 장바구니 타이머(분)')),
                        ('waitlist_promotion_minutes', models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1)], verbose_name='예비번호 승격 유지 시간(분)')),
                        ('max_per_user', models.PositiveIntegerField(blank=True, default=5, null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name='1인당 최대 수량(옵션별, 비우면 제한 없음)')),
                        ('low_stock_threshold', models.PositiveIntegerField(default=4, verbose_name='품절 임박 기준(개)')),
                        ('bank_transfer_enabled', models.BooleanField(default=True, verbose_name='계좌이체 사용')),
                        ('bank_name', models.CharField(blank=True, default='', max_length=100, verbose_name='은행명')),
                        ('bank_account_number', models.CharField(blank=True, default='', max_length=100, verbose_name='계좌번호')),
                        ('bank_account_holder', models.CharField(blank=True, default='', max_length=100, verbose_name='예금주')),
                        ('zelle_enabled', models.BooleanField(default=True, verbose_name='Zelle 사용')),
                        ('zelle_email', models.CharField(blank=True, default='', max_length=200, verbose_name='Zelle 이메일/전화')),
                        ('zelle_recipient_name', models.CharField(blank=True, default='', max_length=100, verbose_name='Zelle 수취인')),
                        ('payment_deadline_hours', models.PositiveIntegerField(default=24, verbose_name='입금 기한(시간)')),
                        ('unpaid_reminder_hours', models.PositiveIntegerField(default=6, verbose_name='미입금 알림(시간)')),
                        ('auto_cancel_hours', models.PositiveIntegerField(default=24, verbose_name='미입금 자동 취소(시간, 0=사용 안 함)')),
                        ('points_enabled', models.BooleanField(default=True, verbose_name='포인트 사용')),
                        ('points_earn_rate_percent', models.DecimalField(decimal_places=2, default=Decimal('5.00'), max_digits=5, verbose_name='적립률(%)')),
                        ('points_min_use', models.PositiveIntegerField(default=1000, verbose_name='최소 사용 포인트')),
                        ('points_max_use_percent', models.PositiveIntegerField(default=50, validators=[django.core.validators.MaxValueValidator(100)], verbose_name='최대 사용 비율(%)')),
                        ('points_expiry_months', models.PositiveIntegerField(default=12, verbose_name='포인트 유효기간(개월, 0=무기한)')),
                        ('alimtalk_enabled', models.BooleanField(default=False, verbose_name='알림톡 사용')),
                        ('chat_rate_limit_count', models.PositiveIntegerField(default=20, verbose_name='채팅 제한(메시지 수)')),
                        ('chat_rate_limit_seconds', models.PositiveIntegerField(default=10, verbose_name='채팅 제한(초)')),
                        ('business_name', models.CharField(blank=True, default='Dorami', max_length=200, verbose_name='상호')),
                        ('business_registration', models.CharField(blank=True, default='', max_length=100, verbose_name='사업자 등록번호')),
                        ('business_address', models.CharField(blank=True, default='', max_length=300, verbose_name='사업장 주소')),
                        ('contact_email', models.CharField(blank=True, default='', max_length=200, verbose_name='문의 이메일')),
                        ('contact_phone', models.CharField(blank=True, default='', max_length=50, verbose_name='문의 전화')),
                        ('notice_text', models.TextField(blank=True, default='', verbose_name='공지 문구')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='수정 시각')),
                    ],
                    options={
                        'verbose_name': '시스템 설정',
                        'verbose_name_plural': '시스템 설정',
                        'db_table': 'adminpanel_systemconfig',
                        'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='systemconfig_singleton'), models.CheckConstraint(condition=models.Q(('shipping_fee_ca__gte', 0), ('shipping_fee_other__gte', 0)), name='systemconfig_shipping_fee_non_negative')],
                    },
                ),
                migrations.CreateModel(
                    name='AuditLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(max_length=64, verbose_name='작업')),
                        ('object_type', models.CharField(max_length=100, verbose_name='대상 종류')),
                        ('object_id', models.CharField(blank=True, max_length=64, verbose_name='대상 ID')),
                        ('object_repr', models.CharField(blank=True, max_length=200, verbose_name='대상')),
                        ('before', models.JSONField(blank=True, null=True, verbose_name='변경 전')),
                        ('after', models.JSONField(blank=True, null=True, verbose_name='변경 후')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='생성 시각')),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='작업자')),
                    ],
                    options={
                        'verbose_name': '감사 로그',
                        'verbose_name_plural': '감사 로그',
                        'db_table': 'adminpanel_auditlog',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['object_type', 'object_id'], name='adminpanel__object__8c2a17_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
