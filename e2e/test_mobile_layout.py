"""Every shopper page at 390×844: no horizontal overflow, no two fixed elements on top of each
other. Screenshots go to $DORAMI_SCREENSHOT_DIR when it is set (for looking at them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`horizontal overflow: ${document.documentElement.scrollWidth} > ${width}`);
  }
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const fixed = Array.from(document.querySelectorAll("body *")).filter((el) => {
    const position = getComputedStyle(el).position;
    return (position === "fixed" || position === "sticky") && visible(el);
  });
  // Only the outermost fixed boxes count (a fixed child inside a fixed parent is layout).
  const roots = fixed.filter((el) => !fixed.some((other) => other !== el && other.contains(el)));
  const name = (el) => el.tagName.toLowerCase() + "." + String(el.className).split(" ").join(".");
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      const a = roots[i].getBoundingClientRect();
      const b = roots[j].getBoundingClientRect();
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
        Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
      if (overlap) problems.push(`${name(roots[i])} overlaps ${name(roots[j])}`);
    }
  }
  return problems;
}"""


def layout_problems(page) -> list[str]:
    return page.evaluate(LAYOUT_PROBLEMS)


def shoot(page, name: str) -> None:
    folder = os.environ.get("DORAMI_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.fixture
def shop_world(user_factory):
    from orders.tests.factories import hold, make_stream, make_variant
    from shop.models import ProductVariant

    shopper = user_factory(profile_complete=True)
    stream = make_stream(title="금요 신상 라이브", status="LIVE", started_at=timezone.now())
    featured = make_variant(price="39.00", stock=3, stream=stream, name="캐시미어 라운드 니트")
    ProductVariant.objects.create(
        product=featured.product, price=featured.price, stock=1, color="블랙", size="M"
    )
    make_variant(price="25.00", stock=9, stream=stream, name="울 머플러")
    stream.featured_product = featured.product
    stream.notice_text = "오늘 밤 9시까지 주문하시면 내일 발송됩니다"
    stream.save()
    store_item = make_variant(price="59.00", stock=5, name="데일리 코트")
    hold(user=shopper, variant=store_item, quantity=1)
    return {"shopper": shopper, "stream": stream, "store_item": store_item}


PAGES = [
    ("home", "/"),
    ("store", "/store/"),
    ("product", "/products/{product}/"),
    ("cart", "/cart/"),
    ("checkout", "/checkout/"),
    ("live", "/live/{public_id}/"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_page_fits_the_phone(page, asgi_live_server, login, shop_world, name, path):
    # given a logged-in shopper with something in the cart and a live show on air
    login(shop_world["shopper"])
    url = asgi_live_server.url + path.format(
        product=shop_world["store_item"].product_id, public_id=shop_world["stream"].public_id
    )

    # when the page is open on a phone
    page.goto(url)
    page.wait_for_load_state("networkidle") if name != "live" else page.wait_for_timeout(1500)
    shoot(page, name)

    # then nothing sticks out sideways and no fixed element covers another
    assert layout_problems(page) == []


BOX = "(el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1


def test_live_overlays_leave_each_other_and_the_input_alone(
    page, context, asgi_live_server, login, shop_world
):
    # given a live show with a notice, watched by a logged-in shopper
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(shop_world["shopper"])
    page.goto(f"{asgi_live_server.url}/live/{shop_world['stream'].public_id}/")
    sound = page.locator("[data-unmute]").evaluate(BOX)
    notice = page.locator("[data-notice-box]").evaluate(BOX)

    # when the shopper shares the show (the link is copied and a toast says so)
    page.evaluate("() => { Object.defineProperty(navigator, 'share', { value: undefined }); }")
    page.locator("[data-share]").click()
    toast = page.locator("[data-toast]")
    expect(toast).to_have_text("링크를 복사했습니다")

    # then the sound chip, the notice, the toast and the chat input do not cover each other,
    # and the room fills the screen to its bottom edge (no black band under the input)
    actions = page.locator(".live-actions").evaluate(BOX)
    assert not _overlap(sound, notice)
    assert not _overlap(toast.evaluate(BOX), actions)
    assert abs(actions[3] - page.viewport_size["height"]) <= 1
    assert layout_problems(page) == []
