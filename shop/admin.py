"""Products in the Korean admin: options grid, images, bulk sold-out/delete, duplicate, reorder,
CSV/XLSX import. Every stock/hold-affecting write goes through `shop.services`."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Min, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from core.models import get_config
from dorami.templatetags.money import usd
from shop import services
from shop.models import MAX_STOCK, Product, ProductImage, ProductVariant, WaitlistEntry
from shop.services import ShopError
from shop.services.importer import ImportFileError, products_import

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def image_validate(upload) -> None:
    """jpg/png/gif/webp by content (Pillow), at most 5 MB."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("이미지는 5MB 이하여야 합니다"), code="image_too_large")
    from PIL import Image, UnidentifiedImageError

    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError(_("이미지 파일이 아닙니다"), code="image_invalid") from None
    finally:
        upload.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(
            _("JPG, PNG, GIF, WEBP 이미지만 올릴 수 있습니다"), code="image_format"
        )


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ["image", "sort_order"]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):  # a new upload (stored files were checked before)
            image_validate(image)
        return image


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    max_num = ProductImage.MAX_PER_PRODUCT
    validate_max = True
    verbose_name = _("이미지")
    verbose_name_plural = _("이미지 (최대 10장, JPG/PNG/GIF/WEBP, 5MB 이하)")


class VariantInlineForm(forms.ModelForm):
    class Meta:
        model = ProductVariant
        fields = ["color", "size", "price", "stock", "status", "sort_order"]

    def clean_stock(self):
        stock = self.cleaned_data.get("stock")
        if stock is None:
            return stock
        if not 0 <= stock <= MAX_STOCK:
            raise ValidationError(_("재고는 0~9999 사이여야 합니다"))
        if self.instance.pk and stock < self.instance.held:
            raise ValidationError(
                _("장바구니에 담긴 수량(%(n)s개)보다 적게 줄일 수 없습니다")
                % {"n": self.instance.held}
            )
        return stock


class ProductVariantInline(admin.TabularInline):
    """Options as a color × size table; the 'grid' button creates every combination."""

    model = ProductVariant
    form = VariantInlineForm
    extra = 0
    fields = ["color", "size", "price", "stock", "held_display", "status", "sort_order"]
    readonly_fields = ["held_display"]
    verbose_name = _("옵션")
    verbose_name_plural = _("옵션 (색상 × 사이즈)")

    @admin.display(description=_("보류(장바구니)"))
    def held_display(self, obj):
        return obj.held if obj and obj.pk else 0


class ShopServiceAdminMixin(admin.ModelAdmin):
    """Placed after AuditedModelAdmin in the bases so the audit wraps the service call."""

    def save_model(self, request, obj, form, change):
        services.product_save(product=obj)

    def delete_model(self, request, obj):
        services.product_delete(product_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_delete(product_id=product_id)


class VariantGridForm(forms.Form):
    colors = forms.CharField(
        label=_("색상 (쉼표로 구분)"), required=False, help_text=_("예: 블랙, 아이보리, 네이비")
    )
    sizes = forms.CharField(
        label=_("사이즈 (쉼표로 구분)"), required=False, help_text=_("예: S, M, L")
    )
    price = forms.DecimalField(
        label=_("가격"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )
    stock = forms.IntegerField(label=_("옵션별 재고"), min_value=0, max_value=MAX_STOCK, initial=0)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV 또는 XLSX 파일"),
        help_text=_(
            "열: name(상품명), price(가격), stock(재고), original_price(정가), description(설명), "
            "color(색상), size(사이즈), timer_minutes(타이머), is_new. CSV는 UTF-8 또는 CP949."
        ),
    )


@admin.register(Product)
class ProductAdmin(AuditedModelAdmin, ShopServiceAdminMixin):
    list_display = [
        "name",
        "stream",
        "price_display",
        "stock_display",
        "status",
        "is_featured",
        "hidden_from_store",
        "sort_order",
    ]
    list_display_links = ["name"]
    list_editable = ["sort_order"]
    list_filter = ["status", "manually_sold_out", "hidden_from_store", "is_featured", "stream"]
    search_fields = ["name", "description"]
    list_select_related = ["stream"]
    list_per_page = 50
    readonly_fields = ["status", "option_grid_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "stream", "description", "status"]}),
        (
            _("가격"),
            {"fields": ["price", "original_price", "discount_rate"]},
        ),
        (
            _("노출"),
            {"fields": ["sort_order", "is_new", "is_featured", "hidden_from_store", "expires_at"]},
        ),
        (_("품절/타이머"), {"fields": ["manually_sold_out", "timer_enabled", "timer_minutes"]}),
        (_("옵션"), {"fields": ["option_grid_link"]}),
    ]
    inlines = [ProductVariantInline, ProductImageInline]
    actions = [
        "action_mark_sold_out",
        "action_reopen",
        "action_hide",
        "action_show",
        "action_duplicate",
        "action_delete",
    ]
    change_list_template = "admin/shop/product/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _min_price=Min("variants__price"),
                _stock=Sum("variants__stock"),
                _held=Sum("variants__held"),
            )
        )

    def get_changeform_initial_data(self, request):

        initial = super().get_changeform_initial_data(request)
        initial.setdefault("timer_minutes", get_config().default_cart_timer_minutes)
        return initial

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by action_delete (releases holds)
        return actions

    @admin.display(description=_("가격"), ordering="_min_price")
    def price_display(self, obj):
        return usd(obj._min_price or obj.price)

    @admin.display(description=_("재고 / 보류"))
    def stock_display(self, obj):
        return f"{obj._stock or 0} / {obj._held or 0}"

    @admin.display(description=_("옵션 일괄 생성"))
    def option_grid_link(self, obj):
        if not obj or not obj.pk:
            return _("저장한 뒤 색상 × 사이즈로 옵션을 한 번에 만들 수 있습니다")
        url = reverse("admin:shop_product_variant_grid", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("색상 × 사이즈 옵션 생성"))

    # --- saving: the product through product_save, options through variant_save ---------

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductVariant:
            return super().save_formset(request, form, formset, change)
        product = form.instance
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                services.variant_delete(variant_id=deleted.instance.pk, actor=request.user)
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms or not variant_form.has_changed():
                continue
            data = variant_form.cleaned_data
            if not data:
                continue
            fields = {k: data[k] for k in ("color", "size", "price", "status", "sort_order")}
            try:
                if variant_form.instance.pk:
                    changed = set(variant_form.changed_data)
                    services.variant_save(
                        product_id=product.pk,
                        variant_id=variant_form.instance.pk,
                        stock=data["stock"] if "stock" in changed else None,
                        actor=request.user,
                        **{k: v for k, v in fields.items() if k in changed},
                    )
                else:
                    services.variant_save(
                        product_id=product.pk,
                        stock=data.get("stock") or 0,
                        actor=request.user,
                        **fields,
                    )
            except ShopError as error:
                messages.error(request, f"{variant_form.instance}: {error.message}")
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.product_default_variant_ensure(product_id=form.instance.pk)

    # --- actions ---------------------------------------------------------------------------

    @admin.action(
        description=_("선택한 상품 품절 처리 (장바구니 보류 해제)"), permissions=["change"]
    )
    def action_mark_sold_out(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_mark_sold_out(product_id=product_id, sold_out=True, actor=request.user)
        messages.success(request, _("품절 처리했습니다"))

    @admin.action(description=_("선택한 상품 판매 재개"), permissions=["change"])
    def action_reopen(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_mark_sold_out(
                product_id=product_id, sold_out=False, actor=request.user
            )
        messages.success(request, _("판매를 재개했습니다"))

    @admin.action(description=_("선택한 상품 숨기기 (장바구니 보류 해제)"), permissions=["change"])
    def action_hide(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_hide(product_id=product_id, hidden=True, actor=request.user)
        messages.success(request, _("숨겼습니다"))

    @admin.action(description=_("선택한 상품 다시 보이기"), permissions=["change"])
    def action_show(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_hide(product_id=product_id, hidden=False, actor=request.user)
        messages.success(request, _("다시 보이게 했습니다"))

    @admin.action(description=_("선택한 상품 복제 (숨김 상태로)"), permissions=["add"])
    def action_duplicate(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_duplicate(product_id=product_id, actor=request.user)
        messages.success(request, _("복제했습니다. 복사본은 숨김 상태입니다"))

    @admin.action(description=_("선택한 상품 삭제 (장바구니 보류 해제)"), permissions=["delete"])
    def action_delete(self, request, queryset):
        count = 0
        for product_id in list(queryset.values_list("pk", flat=True)):
            services.product_delete(product_id=product_id, actor=request.user)
            count += 1
        messages.success(request, _("%(n)s개 상품을 삭제했습니다") % {"n": count})

    # --- extra pages: option grid, import --------------------------------------------------

    def get_urls(self):
        extra = [
            path(
                "<int:product_id>/variant-grid/",
                self.admin_site.admin_view(self.variant_grid_view),
                name="shop_product_variant_grid",
            ),
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="shop_product_import",
            ),
        ]
        return extra + super().get_urls()

    def variant_grid_view(self, request, product_id: int):
        product = get_object_or_404(Product, pk=product_id)
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        form = VariantGridForm(request.POST or None, initial={"price": product.price})
        if request.method == "POST" and form.is_valid():
            created = services.variants_generate(
                product_id=product.pk,
                colors=form.cleaned_data["colors"],
                sizes=form.cleaned_data["sizes"],
                price=form.cleaned_data["price"],
                stock=form.cleaned_data["stock"],
                actor=request.user,
            )
            messages.success(request, _("옵션 %(n)s개를 만들었습니다") % {"n": len(created)})
            return redirect("admin:shop_product_change", product.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("색상 × 사이즈 옵션 생성"),
            "product": product,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/shop/product/variant_grid.html", context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report, file_error = None, None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = products_import(
                    filename=upload.name, data=upload.read(), actor=request.user
                )
            except ImportFileError as error:
                file_error = error.message
        context = {
            **self.admin_site.each_context(request),
            "title": _("상품 가져오기 (CSV / XLSX)"),
            "form": form,
            "report": report,
            "file_error": file_error,
            "opts": self.model._meta,
        }
        return render(request, "admin/shop/product/import.html", context)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AuditedModelAdmin):
    list_display = ["number", "product", "variant", "user", "quantity", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["product__name", "user__email", "user__instagram_id"]
    list_select_related = ["product", "variant__product", "user"]
    readonly_fields = [f.name for f in WaitlistEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
