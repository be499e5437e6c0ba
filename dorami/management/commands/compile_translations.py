"""Compile locale/*/LC_MESSAGES/*.po into .mo without GNU gettext (make run needs only Python)."""

import ast
import struct
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def parse_po(text: str) -> dict[str, str]:
    """Entries of a .po file as {msgid (with context prefix): msgstr}. Plural forms kept."""
    entries: dict[str, str] = {}
    current: dict[str, list[str]] = {}
    key = None

    def flush():
        if "msgid" in current:
            msgid = "".join(current["msgid"])
            if "msgctxt" in current:
                msgid = "".join(current["msgctxt"]) + "\x04" + msgid
            if "msgid_plural" in current:
                msgid += "\x00" + "".join(current["msgid_plural"])
                forms = sorted(k for k in current if k.startswith("msgstr["))
                msgstr = "\x00".join("".join(current[k]) for k in forms)
            else:
                msgstr = "".join(current.get("msgstr", []))
            fuzzy = current.get("#fuzzy")
            if (msgstr and not fuzzy) or msgid == "":
                entries[msgid] = msgstr
        current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            key = None
            continue
        if line.startswith("#,") and "fuzzy" in line:
            current["#fuzzy"] = ["1"]
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if key is None:
                raise CommandError(f"continuation line without a keyword: {raw!r}")
            current[key].append(ast.literal_eval(line))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid" and "msgid" in current and "msgstr" in "".join(current):
            flush()
        key = keyword
        current[key] = [ast.literal_eval(rest.strip())]
    flush()
    return entries


def write_mo(entries: dict[str, str], path: Path) -> None:
    keys = sorted(entries)
    ids = b""
    strs = b""
    offsets = []
    for k in keys:
        kb, vb = k.encode(), entries[k].encode()
        offsets.append((len(ids), len(kb), len(strs), len(vb)))
        ids += kb + b"\x00"
        strs += vb + b"\x00"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    body = struct.pack(f"{len(koffsets)}i", *koffsets) + struct.pack(f"{len(voffsets)}i", *voffsets)
    path.write_bytes(header + body + ids + strs)


class Command(BaseCommand):
    help = "Compile the project's .po files to .mo (pure Python; no gettext needed)."

    def handle(self, *args, **options):
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                entries = parse_po(po.read_text(encoding="utf-8"))
                write_mo(entries, po.with_suffix(".mo"))
                count += 1
                self.stdout.write(f"compiled {po} ({len(entries) - 1} messages)")
        if not count:
            raise CommandError("no .po files found under LOCALE_PATHS")
