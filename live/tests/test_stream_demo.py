"""Demo broadcast seed is idempotent."""

from live.demo import seed_live
from live.models import LiveStream, RestreamTarget


def test_seed_live_twice_creates_one_stream_and_one_target(db):
    first = seed_live()
    second = seed_live()

    assert first.pk == second.pk
    assert LiveStream.objects.count() == 1
    assert first.status == LiveStream.Status.PENDING
    assert RestreamTarget.objects.count() == 1
    assert not RestreamTarget.objects.get().enabled
