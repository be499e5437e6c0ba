"""`manage.py run_job NAME`: run one periodic job of `dorami.celery.BEAT_SCHEDULE` once, now.

In-process, without a broker or worker (what an operator does when a job must run outside its
schedule, e.g. a backup before an upgrade). `--list` prints the table with each schedule.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dorami.celery import BEAT_SCHEDULE, app, schedule_text


class Command(BaseCommand):
    help = "Run one periodic job once, in this process (no broker or worker needed)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="a job name (see --list) or its task name")
        parser.add_argument("--list", action="store_true", help="print the jobs and schedules")

    def handle(self, *args, name=None, **options):
        if options["list"] or not name:
            if not options["list"]:
                raise CommandError("Give a job name, or --list to see them.")
            width = max(len(job) for job in BEAT_SCHEDULE)
            for job, entry in BEAT_SCHEDULE.items():
                self.stdout.write(
                    f"{job:<{width}}  {schedule_text(entry['schedule'])}  ({entry['task']})"
                )
            return
        entry = BEAT_SCHEDULE.get(name) or next(
            (e for e in BEAT_SCHEDULE.values() if e["task"] == name), None
        )
        if entry is None:
            raise CommandError(f"No job {name!r}. Jobs: {', '.join(BEAT_SCHEDULE)}")
        app.loader.import_default_modules()
        task = app.tasks.get(entry["task"])
        if task is None:
            raise CommandError(f"Task {entry['task']} is not registered.")
        self.stdout.write(f"running {name} ({entry['task']}) ...")
        result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=False)
        if result.failed():
            raise CommandError(f"{name} failed: {result.result!r}")
        self.stdout.write(self.style.SUCCESS(f"{name} done: {result.result!r}"))
