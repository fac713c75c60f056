#!/usr/bin/env python3
"""Differential test: `kiothc schedule` against `cronsim` and `oncalendar` themselves.

SPEC §3 says cron schedules are evaluated as the `cronsim` library does and OnCalendar
schedules as the `oncalendar` library does (Healthchecks uses both). This script generates, from
a fixed seed, thousands of expressions (valid and invalid) x time zones x start instants —
including instants around every DST transition of 2026 in a set of zones with unusual rules —
evaluates each with the Python libraries exactly as Healthchecks calls them, and with the
hidden batch mode `kiothc schedule --batch -`, and compares:

  * validity: Healthchecks' own validators (hc/front/validators.py: CronValidator,
    OnCalendarValidator) accept the expression  <=>  `Schedule(parsing:)` accepts it;
  * the next N times, to the second (as UTC instants), from
    `CronSim(expr, last_ping.astimezone(ZoneInfo(tz)))` and `OnCalendar(expr, <same>)`.

Last line: `schedules: N passed, M failed`; exit 1 on any mismatch.

    scripts/differential/schedules.py [--kiothc PATH] [--seed S] [--scale F] [--verbose]

cronsim and oncalendar (pinned versions) come from a venv under `.build-venv/` (created on
demand); when Python's venv/pip or PyPI is unavailable the script says why and exits 0, or 1
under CI=true (scripts/skips.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".build-venv"
DEFAULT_KIOTHC = REPO / ".build-scripts" / "debug" / "kiothc"
PINNED = ["cronsim==2.9", "oncalendar==1.1"]


# --------------------------------------------------------------------------------------------
# The reference libraries, from the venv
# --------------------------------------------------------------------------------------------

def ensure_references() -> None:
    """Imports the pinned libraries, or re-executes this script under the venv's Python."""
    try:
        from importlib.metadata import version
        import cronsim  # noqa: F401
        import oncalendar  # noqa: F401
        if [f"cronsim=={version('cronsim')}", f"oncalendar=={version('oncalendar')}"] == PINNED:
            return
    except ImportError:
        pass
    if os.environ.get("KIOTHC_SCHEDULES_IN_VENV"):
        skip(f"{' and '.join(PINNED)} are not importable even inside the venv {VENV}")
    python = VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120,
                           stdout=subprocess.DEVNULL)
        probe = subprocess.run(
            [str(python), "-c",
             "from importlib.metadata import version as v; "
             "assert [f'cronsim=={v(\"cronsim\")}', f'oncalendar=={v(\"oncalendar\")}'] == "
             + repr(PINNED)],
            capture_output=True, timeout=60)
        if probe.returncode != 0:
            print(f"schedules: installing {' '.join(PINNED)} into {VENV} ...", file=sys.stderr)
            install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PINNED],
                                     capture_output=True, text=True, timeout=300)
            if install.returncode != 0:
                skip("pip install failed (no PyPI access?):\n" + install.stderr.strip()[-2000:])
    except (OSError, subprocess.SubprocessError) as error:
        skip(f"cannot prepare the venv {VENV}: {error}")
    env = dict(os.environ, KIOTHC_SCHEDULES_IN_VENV="1")
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def skip(reason: str) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from skips import skip_group
    skip_group("schedules", f"reference libraries unavailable: {reason}")


# --------------------------------------------------------------------------------------------
# Zones and their 2026 transitions
# --------------------------------------------------------------------------------------------

# Every transition of 2026 in these zones is tested with start instants around it.
DST_ZONES = [
    "Europe/Riga",          # EET/EEST, transitions at 03:00/04:00 local
    "America/New_York",     # 02:00 gap, 01:00-02:00 fold
    "Australia/Lord_Howe",  # 30-minute DST, southern hemisphere
    "Asia/Kolkata",         # +05:30, no DST at all
    "Pacific/Chatham",      # +12:45/+13:45, transitions at 02:45/03:45
    "America/Santiago",     # transitions at midnight: 00:00 does not exist on the spring day
    "Europe/London",        # GMT/BST, 01:00 gap, 01:00-02:00 fold
    "Europe/Dublin",        # negative DST in the tz data (IST is standard, GMT is "DST")
    "America/Havana",       # transitions at midnight (00:00 -> 01:00, 01:00 -> 00:00)
    "Antarctica/Troll",     # +00 -> +02: a two-hour gap
    "America/St_Johns",     # -03:30/-02:30
    "Africa/Casablanca",    # DST suspended for Ramadan (offset goes *down* in spring)
    "Asia/Gaza",            # transitions on Saturday nights at 02:00, around Ramadan
    "America/Nuuk",         # EU-style rule at -01:00 local: transitions at 22:00/23:00 local
]
OTHER_ZONES = [
    "UTC", "Asia/Kathmandu", "Asia/Tehran", "America/Sao_Paulo", "Pacific/Kiritimati",
    "Etc/GMT+12", "Australia/Adelaide", "Asia/Calcutta", "US/Eastern", "Europe/Chisinau",
    "America/Asuncion", "Pacific/Apia", "Asia/Tokyo",
]
ALL_ZONES = DST_ZONES + OTHER_ZONES


def transitions(zone_name: str, year: int) -> list[tuple[int, int, int]]:
    """(UTC instant, offset before, offset after) of each offset change in `year`."""
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(zone_name)

    def offset(ts: int) -> int:
        return int(datetime.fromtimestamp(ts, zone).utcoffset().total_seconds())

    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    found = []
    previous = offset(start)
    for ts in range(start + 3600, end + 1, 3600):
        current = offset(ts)
        if current != previous:
            low, high = ts - 3600, ts  # offset(low) == previous, offset(high) == current
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == previous:
                    low = middle
                else:
                    high = middle
            found.append((high, previous, current))
            previous = current
    return found


# --------------------------------------------------------------------------------------------
# Expression generators
# --------------------------------------------------------------------------------------------

MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()


def cased(rng: random.Random, text: str) -> str:
    return text if rng.random() < 0.7 else (text.lower() if rng.random() < 0.5 else text.title())


def cron_number_field(rng: random.Random, low: int, high: int, names: list[str] | None = None,
                      name_base: int = 0) -> str:
    def value() -> str:
        v = rng.randint(low, high)
        if names and rng.random() < 0.3 and 0 <= v - name_base < len(names):
            return cased(rng, names[v - name_base])
        return str(v)

    def term() -> str:
        kind = rng.random()
        if kind < 0.45:
            return value()
        if kind < 0.7:
            a, b = sorted([rng.randint(low, high), rng.randint(low, high)])
            return f"{a}-{b}"
        if kind < 0.85:
            return ranged_step(rng, low, high)
        return f"{value()}/{rng.randint(1, 20)}"

    roll = rng.random()
    if roll < 0.25:
        return "*"
    if roll < 0.4:
        return f"*/{rng.choice([1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 61])}"
    if roll < 0.75:
        return term()
    return ",".join(term() for _ in range(rng.randint(2, 4)))


def ranged_step(rng: random.Random, low: int, high: int) -> str:
    """`a-b/n`, a third of them with equal ends (`a-a/n`): cronsim 2.9 reads `50-50/3` as 50
    only, where 2.8 read it as `50/3` (50 and every third value up to the field's end)."""
    a, b = sorted([rng.randint(low, high), rng.randint(low, high)])
    if rng.random() < 0.35:
        b = a
    return f"{a}-{b}/{rng.randint(1, 7)}"


# Each field's range, for the expressions that put a ranged step in every field in turn.
CRON_FIELD_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_ranged_steps(rng: random.Random) -> list[str]:
    """One expression per field with `a-a/n` or `a-b/n` there and `*` elsewhere."""
    expressions = []
    for index, (low, high) in enumerate(CRON_FIELD_RANGES):
        fields = ["*", "*", "*", "*", "*"]
        fields[index] = ranged_step(rng, low, high)
        expressions.append(" ".join(fields))
    return expressions


def cron_dom(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return "L"
    if roll < 0.12:
        return "LW"
    if roll < 0.14:
        return rng.choice(["L/2", "LW/3", "1,L", "15,LW", "28-31"])
    return cron_number_field(rng, 1, 31)


def cron_dow(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return f"{rng.randint(0, 7)}L"
    if roll < 0.16:
        day = cased(rng, rng.choice(DAYS)) if rng.random() < 0.5 else str(rng.randint(0, 7))
        return f"{day}#{rng.randint(1, 5)}"
    if roll < 0.22:
        a, b = sorted(rng.sample(range(7), 2))
        return f"{cased(rng, DAYS[a])}-{cased(rng, DAYS[b])}"
    if roll < 0.26:
        return ",".join([f"{rng.randint(0, 7)}L", f"{rng.choice(DAYS)}#{rng.randint(1, 5)}",
                         str(rng.randint(0, 7))][: rng.randint(2, 3)])
    return cron_number_field(rng, 0, 7, DAYS, 0)


INVALID_CRON_TERMS = {
    0: ["60", "-1", "1-", "*/0", "5/", "a", "1,,2", "?", "L", "1-60", "30-10", "1.5", "", "*/x"],
    1: ["24", "*/0", "25-26", "H", "1,", "0-24", "?", "5-3"],
    2: ["0", "32", "LW/0", "L-5", "1-32", "W", "5L", "31-1", "L,", "15W"],
    3: ["0", "13", "JANUARY", "DEC-JAN", "*/0", "?", "1-13", "L", "FOO"],
    4: ["8", "MON#6", "MON#0", "FRIL", "L", "8L", "SUN-MON#2", "MON-SUNDAY", "7-1",
        "#2", "MON#", "1#1#1", "LW", "*/0", "5L/2", "MONDAY"],
}


def gen_cron(rng: random.Random) -> str:
    fields = [
        cron_number_field(rng, 0, 59) if rng.random() < 0.6 else str(rng.choice([0, 0, 5, 15, 30, 45])),
        cron_number_field(rng, 0, 23) if rng.random() < 0.6 else str(rng.randint(0, 23)),
        cron_dom(rng) if rng.random() < 0.5 else "*",
        cron_number_field(rng, 1, 12, MONTHS, 1) if rng.random() < 0.4 else "*",
        cron_dow(rng) if rng.random() < 0.5 else "*",
    ]
    if rng.random() < 0.12:
        index = rng.randrange(5)
        fields[index] = rng.choice(INVALID_CRON_TERMS[index]) or "*"
        if rng.random() < 0.3:
            fields[index] = rng.choice(["1", "*"]) + "," + fields[index]
    separator = " " if rng.random() < 0.9 else rng.choice(["  ", "\t", " \t "])
    return separator.join(fields)


DST_CRON = [
    "0 2 * * *", "30 2 * * *", "0 3 * * *", "30 3 * * *", "0 1 * * *", "30 1 * * *",
    "0 0 * * *", "15 0 * * *", "45 2 * * *", "0 4 * * *", "59 23 * * *", "0 22 * * *",
    "*/15 * * * *", "0 * * * *", "30 * * * *", "* * * * *", "0 */2 * * *", "5 2-3 * * *",
    "0,30 1,2 * * *", "*/20 1-3 * * *", "0 0 * * SUN", "30 2 * * SUN", "0 2 L * *",
    "15,45 * * * *", "0 0-4 * * *", "*/7 2 * * *", "0 2 29 3 *", "30 0 * * SAT",
]


def oc_weekdays(rng: random.Random) -> str:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    full = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    def one() -> str:
        i = rng.randrange(7)
        return cased(rng, rng.choice([names[i], names[i], full[i]]))

    roll = rng.random()
    if roll < 0.35:
        return one()
    if roll < 0.6:
        a, b = sorted(rng.sample(range(7), 2))
        return f"{names[a]}{rng.choice(['..', '-'])}{names[b]}"
    text = ",".join(one() for _ in range(rng.randint(2, 3)))
    return text + ("," if rng.random() < 0.1 else "")


def oc_component(rng: random.Random, low: int, high: int, width: int = 2, star: float = 0.3) -> str:
    def value(v: int | None = None) -> str:
        v = rng.randint(low, high) if v is None else v
        return str(v).zfill(width) if rng.random() < 0.7 else str(v)

    roll = rng.random()
    if roll < star:
        return "*"
    if roll < 0.6:
        return value()
    if roll < 0.72:
        a, b = sorted([rng.randint(low, high), rng.randint(low, high)])
        return f"{value(a)}..{value(b)}"
    if roll < 0.85:
        return f"{value()}/{rng.randint(1, 15)}"
    if roll < 0.92:
        a, b = sorted([rng.randint(low, high), rng.randint(low, high)])
        return f"{value(a)}..{value(b)}/{rng.randint(1, 6)}"
    return ",".join(value() for _ in range(rng.randint(2, 3)))


def oc_date(rng: random.Random) -> str:
    roll = rng.random()
    year = rng.choice(["*", "*", "*", "2026", "2027", "26", "2025..2027", "2026,2028", "2024/2", "1999"])
    month = oc_component(rng, 1, 12)
    if roll < 0.15:
        day = "~" + rng.choice(["1", "2", "7", "1..3", "3/2", "28", "29"])
        return f"{year}-{month}{day}" if rng.random() < 0.5 else f"{month}{day}"
    day = oc_component(rng, 1, 31)
    return f"{year}-{month}-{day}" if rng.random() < 0.7 else f"{month}-{day}"


def oc_time(rng: random.Random) -> str:
    hour = oc_component(rng, 0, 23, star=0.25)
    minute = oc_component(rng, 0, 59, star=0.2)
    if rng.random() < 0.5:
        return f"{hour}:{minute}"
    return f"{hour}:{minute}:{oc_component(rng, 0, 59, star=0.1)}"


SHORTHANDS = ["minutely", "hourly", "daily", "monthly", "weekly", "yearly", "annually",
              "quarterly", "semiannually"]
INVALID_OC = ["*:*/15", "25:00", "12:60", "Mon..Sun..", "*-13-01", "Foo", "1:2:3:4", "*-*-~29",
              "Mon Tue 12:00", "* 12:00", "12:00 Mars/Olympus", "12:00 europe/riga",
              "Funday 12:00", "*-*-* *-*", "2026-02-30", "1969-01-01", "*-*-31/0", "12:00:60",
              "*-2-", "--", "Mon..Fri 2026-01-01 12:00 UTC extra", "12:00.5", "mon..2", "~5",
              "12:00\n\ndaily", "12:00 UTC UTC", "*-*-* *:*:*.5", "2200-01-01", "Mon,,Tue",
              "Sat..Mon", "daily UTC2", "12:00 Europe/Rига"]


def gen_oncalendar_line(rng: random.Random) -> str:
    if rng.random() < 0.1:
        line = cased(rng, rng.choice(SHORTHANDS))
    else:
        parts = []
        if rng.random() < 0.3:
            parts.append(oc_weekdays(rng))
        if rng.random() < 0.55:
            parts.append(oc_date(rng))
        if rng.random() < 0.8 or not parts:
            parts.append(oc_time(rng))
        line = " ".join(parts)
    if rng.random() < 0.15:
        line += " " + rng.choice(ALL_ZONES)
    return line


def gen_oncalendar(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(INVALID_OC)
    lines = [gen_oncalendar_line(rng) for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 3))]
    return "\n".join(lines)


DST_ONCALENDAR = [
    "02:30", "03:00", "01:30", "00:00", "00:30", "*-*-* 02:00:00", "hourly", "daily", "*:0/15",
    "*:30", "Sun 02:30", "*-*-* 01..03:00:00", "02:30 UTC", "01:59:59", "03:45",
    "02:30\n03:30", "00:00\n00:00 UTC", "*:00,30", "Sat,Sun 00:15", "*-*~01 02:30", "minutely",
]


# --------------------------------------------------------------------------------------------
# Evaluation by the references, as Healthchecks calls them
# --------------------------------------------------------------------------------------------

def is_cron(expr: str) -> bool:
    stripped = expr.strip()
    return "\n" not in stripped and len(stripped.split()) == 5


def reference(expr: str, tz: str, after: float, count: int) -> dict:
    from zoneinfo import ZoneInfo
    from cronsim import CronSim, CronSimError
    from oncalendar import OnCalendar, OnCalendarError

    cron = is_cron(expr)
    # Validity: hc/front/validators.py CronValidator / OnCalendarValidator.
    try:
        if cron:
            next(CronSim(expr, datetime(2000, 1, 1)))
        else:
            for line in expr.strip().split("\n"):
                if len(line.split()) > 4:
                    return {"error": True}
            next(OnCalendar(expr, datetime(2000, 1, 1, tzinfo=timezone.utc)))
    except (CronSimError, OnCalendarError, StopIteration):
        return {"error": True}
    except Exception as error:  # noqa: BLE001 - the validator would not catch it either
        return {"error": True, "crash": repr(error)}

    # hc/api/models.py Check.get_grace_start: last_ping.astimezone(ZoneInfo(tz)).
    start = datetime.fromtimestamp(after, tz=timezone.utc).astimezone(ZoneInfo(tz))
    iterator = CronSim(expr, start) if cron else OnCalendar(expr, start)
    times = []
    for _ in range(count):
        try:
            times.append(int(next(iterator).astimezone(timezone.utc).timestamp()))
        except StopIteration:
            break
    return {"next": times, "kind": "cron" if cron else "oncalendar"}


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

YEAR_START = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
YEAR_END = int(datetime(2028, 1, 1, tzinfo=timezone.utc).timestamp())
AROUND = [-7200, -5400, -3600, -1800, -61, -1, 0, 1, 59, 900, 1800, 3599, 3600, 5400, 7200]


def random_instant(rng: random.Random) -> float:
    ts = rng.randint(YEAR_START, YEAR_END)
    if rng.random() < 0.3:
        ts -= ts % 3600  # exactly on an hour: the boundary cases
    if rng.random() < 0.3:
        return ts + rng.randint(1, 999) / 1000
    return float(ts)


TRANSITIONS: list[tuple[str, int, int, int]] = []


def build_cases(seed: int, scale: float) -> list[dict]:
    rng = random.Random(seed)
    cases: list[dict] = []

    def add(group: str, expr: str, tz: str, after: float, count: int = 4) -> None:
        cases.append({"group": group, "expr": expr, "tz": tz, "after": after, "count": count})

    for _ in range(int(2600 * scale)):
        expr = gen_cron(rng)
        for _ in range(2):
            add("cron-random", expr, rng.choice(ALL_ZONES), random_instant(rng))
    for _ in range(int(120 * scale)):
        for expr in cron_ranged_steps(rng):
            add("cron-ranged-step", expr, rng.choice(ALL_ZONES), random_instant(rng))
    for _ in range(int(1100 * scale)):
        expr = gen_oncalendar(rng)
        for _ in range(2):
            add("oncalendar-random", expr, rng.choice(ALL_ZONES), random_instant(rng))

    # Far from today: beyond the last transition in the TZif files (the POSIX rule footer from
    # 2037 on), and before 1970.
    for low, high, group in ((2037, 2100, "far-future"), (1900, 1970, "before-1970")):
        first = int(datetime(low, 1, 1, tzinfo=timezone.utc).timestamp())
        last = int(datetime(high, 1, 1, tzinfo=timezone.utc).timestamp())
        for _ in range(int(300 * scale)):
            zone, start = rng.choice(DST_ZONES), float(rng.randint(first, last))
            add(f"cron-{group}", rng.choice(DST_CRON), zone, start)
            add(f"oncalendar-{group}", rng.choice(DST_ONCALENDAR), zone, start)

    # Every 2026 transition of the DST zones, with starts around it (and in a fold, through it).
    for zone in DST_ZONES:
        for instant, before, after in transitions(zone, 2026):
            TRANSITIONS.append((zone, instant, before, after))
            offsets = list(AROUND)
            shift = abs(before - after)
            offsets += [shift // 2, shift - 1, shift, shift + 1, -shift // 2]
            for delta in offsets:
                start = float(instant + delta)
                for expr in DST_CRON:
                    add("cron-dst", expr, zone, start, 3)
                for expr in DST_ONCALENDAR:
                    add("oncalendar-dst", expr, zone, start, 3)
                for _ in range(max(1, int(2 * scale))):
                    add("cron-dst-random", gen_cron(rng), zone, start + rng.randint(0, 999) / 1000, 3)
                    add("oncalendar-dst-random", gen_oncalendar(rng), zone, start, 3)
    return cases


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiothc", default=os.environ.get("KIOTHC", str(DEFAULT_KIOTHC)),
                        help="path to the kiothc binary (default: $KIOTHC or .build-scripts/debug/kiothc)")
    parser.add_argument("--seed", type=int, default=20260329)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of random cases")
    parser.add_argument("--verbose", action="store_true", help="print every mismatch, not the first 40")
    args = parser.parse_args()

    ensure_references()
    if not os.access(args.kiothc, os.X_OK):
        sys.exit(f"schedules: {args.kiothc} is not an executable; build first (swift build) or pass --kiothc")

    from importlib.metadata import version
    begun = time.monotonic()
    cases = build_cases(args.seed, args.scale)
    expected = [reference(c["expr"], c["tz"], c["after"], c["count"]) for c in cases]
    python_seconds = time.monotonic() - begun

    begun = time.monotonic()
    request = "".join(json.dumps({k: c[k] for k in ("expr", "tz", "after", "count")}) + "\n" for c in cases)
    run = subprocess.run([args.kiothc, "schedule", "--batch", "-"], input=request, capture_output=True,
                         text=True, timeout=600)
    swift_seconds = time.monotonic() - begun
    if run.returncode != 0:
        sys.exit(f"schedules: kiothc schedule --batch failed ({run.returncode}):\n{run.stderr[-2000:]}")
    actual = [json.loads(line) for line in run.stdout.splitlines()]
    if len(actual) != len(cases):
        sys.exit(f"schedules: kiothc answered {len(actual)} lines for {len(cases)} cases")

    passed = failed = 0
    groups: dict[str, list[int]] = {}
    crashes = 0
    for case, want, got in zip(cases, expected, actual):
        crashes += "crash" in want
        if want.get("error"):
            ok = "error" in got
        else:
            ok = "error" not in got and got.get("next") == want["next"] and got.get("kind") == want["kind"]
        tally = groups.setdefault(case["group"], [0, 0, 0])
        tally[0 if ok else 1] += 1
        tally[2] += bool(want.get("error"))
        if ok:
            passed += 1
            continue
        failed += 1
        if failed <= 40 or args.verbose:
            def show(result: dict) -> str:
                if "next" in result:
                    return "[" + ", ".join(datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                                           for t in result["next"]) + "]"
                return "error " + json.dumps(result.get("error"), ensure_ascii=False) + (
                    f" ({result['crash']})" if "crash" in result else "")
            start = datetime.fromtimestamp(case["after"], timezone.utc).isoformat()
            print(f"MISMATCH {json.dumps(case['expr'], ensure_ascii=False)} tz={case['tz']} after={start}\n"
                  f"  reference: {show(want)}\n  kiothc:    {show(got)}")

    print(f"references: cronsim {version('cronsim')}, oncalendar {version('oncalendar')}; "
          f"seed {args.seed}; python {python_seconds:.1f}s, kiothc {swift_seconds:.1f}s")
    for group, (ok, bad, invalid) in sorted(groups.items()):
        print(f"  {group:24} {ok + bad:6} cases ({invalid} invalid expressions), {bad} failed")
    zones = sorted({zone for zone, *_ in TRANSITIONS})
    print(f"  DST transitions of 2026 covered: {len(TRANSITIONS)} in {len(zones)} zones "
          f"({len(DST_ZONES) - len(zones)} of the listed zones have none: "
          f"{', '.join(sorted(set(DST_ZONES) - set(zones))) or '-'})")
    if crashes:
        print(f"  note: {crashes} cases where the reference raised an unexpected exception (treated as invalid)")
    print(f"schedules: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
