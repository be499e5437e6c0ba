"""Restream: copy a LIVE stream to other platforms with one FFmpeg process per enabled target.

Targets are edited by staff (studio, admin) through the `restream_target_*` services. The
processes belong to one long-running worker (`manage.py run_restream`, `RestreamWorker`) that
polls the database: every LIVE stream × enabled target gets a process; a crash restarts it after
2/4/8 s (× RESTREAM_BACKOFF_SCALE), at most 3 times, only while the stream is LIVE; the end of
the stream (or a disabled/edited target) stops it with SIGTERM, then SIGKILL after 5 s. The
session row (`RestreamSession`) carries the state IDLE/CONNECTING/ACTIVE/FAILED/STOPPED and is
announced to staff after every change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from core.services import audit_log_record
from live import realtime
from live.models import LiveStream, RestreamSession, RestreamTarget
from live.services.errors import InvalidInput

logger = logging.getLogger("live.restream")

BACKOFF_SECONDS = (2, 4, 8)
MAX_RESTARTS = len(BACKOFF_SECONDS)
RTMP_URL = re.compile(r"^rtmps?://[^\s/]+(?:/\S*)?$")


# --- Targets (staff) --------------------------------------------------------------------------


def _clean_target_fields(
    *, name: str, platform: str, rtmp_url: str, stream_key: str
) -> dict[str, str]:
    name = (name or "").strip()
    rtmp_url = (rtmp_url or "").strip()
    stream_key = (stream_key or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("이름은 1~100자로 입력하세요.")
    if platform not in RestreamTarget.Platform.values:
        raise InvalidInput("플랫폼을 선택하세요.")
    if not RTMP_URL.match(rtmp_url) or len(rtmp_url) > 500:
        raise InvalidInput("RTMP 주소는 rtmp:// 또는 rtmps:// 로 시작해야 합니다.")
    if len(stream_key) > 500 or any(ch.isspace() for ch in stream_key):
        raise InvalidInput("스트림 키에는 공백을 넣을 수 없습니다.")
    return {"name": name, "platform": platform, "rtmp_url": rtmp_url, "stream_key": stream_key}


@transaction.atomic
def restream_target_create(
    *,
    name: str,
    rtmp_url: str,
    stream_key: str = "",
    platform: str = RestreamTarget.Platform.CUSTOM,
    enabled: bool = True,
    mute_audio: bool = False,
    actor=None,
) -> RestreamTarget:
    fields = _clean_target_fields(
        name=name, platform=platform, rtmp_url=rtmp_url, stream_key=stream_key
    )
    target = RestreamTarget.objects.create(**fields, enabled=enabled, mute_audio=mute_audio)
    _audit(actor, "restream_target_create", target, after=_target_audit_fields(target))
    logger.info("restream.target_created target_id=%s actor=%s", target.pk, _actor(actor))
    return target


@transaction.atomic
def restream_target_update(
    *,
    target: RestreamTarget,
    name: str,
    rtmp_url: str,
    stream_key: str,
    platform: str,
    enabled: bool,
    mute_audio: bool,
    actor=None,
) -> RestreamTarget:
    """Edit a target. A running relay restarts with the new settings (the worker notices)."""
    fields = _clean_target_fields(
        name=name, platform=platform, rtmp_url=rtmp_url, stream_key=stream_key
    )
    target = RestreamTarget.objects.select_for_update().get(pk=target.pk)
    before = _target_audit_fields(target)
    old_key = target.stream_key
    for attr, value in {**fields, "enabled": enabled, "mute_audio": mute_audio}.items():
        setattr(target, attr, value)
    target.save()
    after = _target_audit_fields(target)
    changed = sorted(k for k in after if before[k] != after[k])
    if changed or old_key != target.stream_key:
        _audit(
            actor,
            "restream_target_update",
            target,
            before={k: before[k] for k in changed},
            after={
                **{k: after[k] for k in changed},
                **({"stream_key_replaced": True} if old_key != target.stream_key else {}),
            },
        )
    logger.info("restream.target_updated target_id=%s actor=%s", target.pk, _actor(actor))
    return target


@transaction.atomic
def restream_target_set_enabled(
    *, target: RestreamTarget, enabled: bool, actor=None
) -> RestreamTarget:
    target = RestreamTarget.objects.select_for_update().get(pk=target.pk)
    before = target.enabled
    target.enabled = enabled
    target.save(update_fields=["enabled", "updated_at"])
    _audit(
        actor,
        "restream_target_toggle",
        target,
        before={"enabled": before},
        after={"enabled": enabled},
    )
    logger.info(
        "restream.target_enabled target_id=%s enabled=%s actor=%s",
        target.pk,
        enabled,
        _actor(actor),
    )
    return target


@transaction.atomic
def restream_target_set_mute(
    *, target: RestreamTarget, mute_audio: bool, actor=None
) -> RestreamTarget:
    target = RestreamTarget.objects.select_for_update().get(pk=target.pk)
    before = target.mute_audio
    target.mute_audio = mute_audio
    target.save(update_fields=["mute_audio", "updated_at"])
    _audit(
        actor,
        "restream_target_toggle",
        target,
        before={"mute_audio": before},
        after={"mute_audio": mute_audio},
    )
    return target


@transaction.atomic
def restream_target_delete(*, target: RestreamTarget, actor=None) -> None:
    """Delete a target; its running relays stop on the worker's next poll."""
    target = RestreamTarget.objects.select_for_update().filter(pk=target.pk).first()
    if target is None:
        return
    _audit(actor, "restream_target_delete", target, before=_target_audit_fields(target))
    logger.info("restream.target_deleted target_id=%s actor=%s", target.pk, _actor(actor))
    RestreamTarget.objects.filter(pk=target.pk).delete()


def _actor(actor) -> object:
    return getattr(actor, "pk", None)


def _target_audit_fields(target: RestreamTarget) -> dict:
    """What the audit log keeps of a target: never its stream key, only whether one is set."""
    return {
        "name": target.name,
        "platform": target.platform,
        "rtmp_url": target.rtmp_url,
        "enabled": target.enabled,
        "mute_audio": target.mute_audio,
        "has_stream_key": bool(target.stream_key),
    }


def _audit(actor, action: str, target: RestreamTarget, before=None, after=None) -> None:
    if actor is not None:
        audit_log_record(
            actor=actor, action=f"live.{action}", obj=target, before=before, after=after
        )


# --- Sessions (worker) ------------------------------------------------------------------------


def _save_and_announce(session: RestreamSession, fields: list[str]) -> RestreamSession:
    session.save(update_fields=[*fields, "updated_at"])
    realtime.announce_restream_state(session)
    return session


@transaction.atomic
def restream_session_connecting(
    *, stream_id: int, target_id: int, pid: int | None, fresh: bool
) -> RestreamSession:
    """A process was (re)started. `fresh` starts a new run (restart count back to 0)."""
    session, _ = RestreamSession.objects.select_for_update().get_or_create(
        stream_id=stream_id, target_id=target_id
    )
    session.state = RestreamSession.State.CONNECTING
    session.pid = pid
    session.stopped_at = None
    if fresh:
        session.restart_count = 0
        session.last_error = ""
        session.started_at = timezone.now()
    else:
        session.restart_count += 1
    return _save_and_announce(
        session, ["state", "pid", "stopped_at", "restart_count", "last_error", "started_at"]
    )


@transaction.atomic
def restream_session_active(*, session_id: int) -> RestreamSession | None:
    session = RestreamSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.state != RestreamSession.State.CONNECTING:
        return session
    session.state = RestreamSession.State.ACTIVE
    return _save_and_announce(session, ["state"])


@transaction.atomic
def restream_session_failed(*, session_id: int, error: str) -> RestreamSession | None:
    session = RestreamSession.objects.select_for_update().filter(pk=session_id).first()
    active_states = {RestreamSession.State.CONNECTING, RestreamSession.State.ACTIVE}
    if session is None or session.state not in active_states:
        return session
    session.state = RestreamSession.State.FAILED
    session.pid = None
    session.last_error = (error or "")[-2000:]
    return _save_and_announce(session, ["state", "pid", "last_error"])


@transaction.atomic
def restream_session_stopped(*, session_id: int) -> RestreamSession | None:
    session = RestreamSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.state == RestreamSession.State.STOPPED:
        return session
    session.state = RestreamSession.State.STOPPED
    session.pid = None
    session.stopped_at = timezone.now()
    return _save_and_announce(session, ["state", "pid", "stopped_at"])


@transaction.atomic
def restream_sessions_reset_orphans() -> int:
    """At worker start: sessions a previous worker left CONNECTING/ACTIVE own no process."""
    orphans = RestreamSession.objects.select_for_update().filter(
        state__in=[RestreamSession.State.CONNECTING, RestreamSession.State.ACTIVE]
    )
    count = 0
    for session in orphans:
        session.state = RestreamSession.State.IDLE
        session.pid = None
        _save_and_announce(session, ["state", "pid"])
        count += 1
    return count


# --- FFmpeg -----------------------------------------------------------------------------------


def restream_input_url(public_id: str) -> str:
    """The stream as the media server plays it: by its public id (the publish key is only
    needed to publish, never to play)."""
    return f"{settings.RESTREAM_INPUT_BASE_URL.rstrip('/')}/{public_id}"


def restream_output_url(target: RestreamTarget) -> str:
    if not target.stream_key:
        return target.rtmp_url
    return f"{target.rtmp_url.rstrip('/')}/{target.stream_key}"


def ffmpeg_command(
    *, public_id: str, target: RestreamTarget, progress_path: str | None = None
) -> list[str]:
    """`ffmpeg -i rtmp://<media>/live/<public id> -c copy [-an] -f flv <target>/<target key>`."""
    command = [settings.RESTREAM_FFMPEG_BIN, "-hide_banner", "-nostdin", "-loglevel", "warning"]
    if progress_path:
        command += ["-progress", progress_path]
    command += ["-i", restream_input_url(public_id), "-c", "copy"]
    if target.mute_audio:
        command.append("-an")
    command += ["-f", "flv", restream_output_url(target)]
    return command


def _redact(command: list[str], target: RestreamTarget) -> str:
    text = " ".join(command)
    return text.replace(target.stream_key, "***") if target.stream_key else text


@dataclass
class Relay:
    """One stream × target the worker is responsible for."""

    stream_id: int
    target_id: int
    target_version: str
    session_id: int | None = None
    process: subprocess.Popen | None = None
    started: float = 0.0
    active: bool = False
    restarts: int = 0
    restart_at: float | None = None
    exhausted: bool = False
    kill_at: float | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="restream-")))

    @property
    def log_path(self) -> Path:
        return self.workdir / "ffmpeg.log"

    @property
    def progress_path(self) -> Path:
        return self.workdir / "progress"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def error_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    def reported_progress(self) -> bool:
        try:
            return b"progress=" in self.progress_path.read_bytes()[-4096:]
        except OSError:
            return False

    def cleanup(self) -> None:
        for path in (self.log_path, self.progress_path):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.workdir.rmdir()


class RestreamWorker:
    """Owns the FFmpeg processes. Call `tick()` repeatedly (`run()` does, once per `poll`)."""

    def __init__(self, *, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds
        self.relays: dict[tuple[int, int], Relay] = {}
        self._stopping = False

    # configuration read per call so tests can shrink them
    @staticmethod
    def backoff(restarts_done: int) -> float:
        return BACKOFF_SECONDS[restarts_done] * settings.RESTREAM_BACKOFF_SCALE

    @staticmethod
    def active_after() -> float:
        return settings.RESTREAM_ACTIVE_AFTER_SECONDS

    @staticmethod
    def kill_after() -> float:
        return getattr(settings, "RESTREAM_KILL_AFTER_SECONDS", 5.0)

    def desired(self) -> dict[tuple[int, int], tuple[str, RestreamTarget]]:
        streams = list(LiveStream.objects.live().values_list("pk", "public_id"))
        if not streams:
            return {}
        targets = list(RestreamTarget.objects.filter(enabled=True))
        return {
            (stream_id, target.pk): (public_id, target)
            for stream_id, public_id in streams
            for target in targets
        }

    def tick(self) -> None:
        now = time.monotonic()
        desired = {} if self._stopping else self.desired()
        for key, relay in list(self.relays.items()):
            wanted = desired.get(key)
            if wanted is None or wanted[1].updated_at.isoformat() != relay.target_version:
                self._stop(key, relay, now)
                continue
            public_id, target = wanted
            if relay.process is not None:
                self._watch(relay, now)
            elif relay.restart_at is not None and now >= relay.restart_at:
                relay.restart_at = None
                relay.restarts += 1
                self._start(relay, public_id=public_id, target=target, fresh=False)
        for key, (public_id, target) in desired.items():
            if key not in self.relays:
                relay = Relay(
                    stream_id=key[0],
                    target_id=key[1],
                    target_version=target.updated_at.isoformat(),
                )
                self.relays[key] = relay
                self._start(relay, public_id=public_id, target=target, fresh=True)

    def _start(self, relay: Relay, *, public_id: str, target: RestreamTarget, fresh: bool) -> None:
        relay.progress_path.unlink(missing_ok=True)
        command = ffmpeg_command(
            public_id=public_id, target=target, progress_path=str(relay.progress_path)
        )
        try:
            with relay.log_path.open("wb") as log:
                relay.process = subprocess.Popen(  # noqa: S603 (argument list, no shell)
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
                )
        except OSError as exc:
            relay.process = None
            session = restream_session_connecting(
                stream_id=relay.stream_id, target_id=relay.target_id, pid=None, fresh=fresh
            )
            relay.session_id = session.pk
            self._crashed(relay, f"ffmpeg could not start: {exc}", time.monotonic())
            return
        relay.started = time.monotonic()
        relay.active = False
        session = restream_session_connecting(
            stream_id=relay.stream_id,
            target_id=relay.target_id,
            pid=relay.process.pid,
            fresh=fresh,
        )
        relay.session_id = session.pk
        logger.info(
            "restream.started stream_id=%s target_id=%s pid=%s restarts=%s cmd=%s",
            relay.stream_id,
            relay.target_id,
            relay.process.pid,
            session.restart_count,
            _redact(command, target),
        )

    def _watch(self, relay: Relay, now: float) -> None:
        code = relay.process.poll()
        if code is None:
            if not relay.active and (
                now - relay.started >= self.active_after() or relay.reported_progress()
            ):
                relay.active = True
                restream_session_active(session_id=relay.session_id)
            return
        relay.process = None
        self._crashed(relay, f"exit {code}: {relay.error_tail()}", now)

    def _crashed(self, relay: Relay, error: str, now: float) -> None:
        restream_session_failed(session_id=relay.session_id, error=error)
        if relay.restarts < MAX_RESTARTS:
            delay = self.backoff(relay.restarts)
            relay.restart_at = now + delay
            logger.warning(
                "restream.crashed stream_id=%s target_id=%s restart_in=%.2fs error=%s",
                relay.stream_id,
                relay.target_id,
                delay,
                error[-300:].replace("\n", " | "),
            )
        else:
            relay.exhausted = True
            logger.error(
                "restream.gave_up stream_id=%s target_id=%s restarts=%s error=%s",
                relay.stream_id,
                relay.target_id,
                relay.restarts,
                error[-300:].replace("\n", " | "),
            )

    def _stop(self, key: tuple[int, int], relay: Relay, now: float) -> None:
        """SIGTERM, then SIGKILL once `kill_after` has passed; forget the relay once it exited."""
        process = relay.process
        if process is not None and process.poll() is None:
            if relay.kill_at is None:
                process.send_signal(signal.SIGTERM)
                relay.kill_at = now + self.kill_after()
                logger.info(
                    "restream.stopping stream_id=%s target_id=%s pid=%s",
                    relay.stream_id,
                    relay.target_id,
                    process.pid,
                )
                return
            if now < relay.kill_at:
                return
            process.kill()
            process.wait(timeout=5)
            logger.warning("restream.killed stream_id=%s pid=%s", relay.stream_id, process.pid)
        if relay.session_id is not None:
            restream_session_stopped(session_id=relay.session_id)
        relay.cleanup()
        del self.relays[key]

    def shutdown(self) -> None:
        """Stop every process (SIGTERM, SIGKILL after 5 s) and mark the sessions STOPPED."""
        self._stopping = True
        deadline = time.monotonic() + self.kill_after() + 5
        while self.relays and time.monotonic() < deadline:
            self.tick()
            if self.relays:
                time.sleep(0.1)

    def run(self, *, should_stop=lambda: False) -> None:
        reset = restream_sessions_reset_orphans()
        logger.info("restream.worker_started pid=%s orphans_reset=%s", os.getpid(), reset)
        try:
            while not should_stop():
                try:
                    self.tick()
                except Exception:  # the database blinked: keep the processes, try again
                    logger.exception("restream.tick_failed")
                finally:
                    close_old_connections()
                time.sleep(self.poll_seconds)
        finally:
            self.shutdown()
            logger.info("restream.worker_stopped")
