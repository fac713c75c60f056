#!/usr/bin/env python3
"""Differential test: `kiothc slug` against Django's own `django.utils.text.slugify`.

SPEC §1.4 says a check's slug is Django's slugify(name), exactly. This script generates
names from a fixed seed (accents, ligatures, fullwidth forms, CJK, emoji, combining marks,
symbols, every ASCII control character, every kind of whitespace, dashes and underscores at
the ends, long names), slugifies them with Django and with `kiothc slug --format json`, and
prints every mismatch. Last line: `slugs: N passed, M failed`; exit 1 on any mismatch.

    scripts/differential/slugs.py [--kiothc PATH] [--count N] [--seed S]
    scripts/differential/slugs.py --emit-swift-table     # ~60 cases for the Swift tests

Django comes from a venv under `.build-venv/` (created on demand, `pip install django`);
when pip or PyPI is unavailable the script says why and exits 0 (it cannot judge), or 1 under
CI=true (scripts/skips.py).

Code points excluded from generation, and why:
  * U+0000 NUL: a process argument cannot contain it (C strings). The Swift table covers it.
  * U+D800-U+DFFF surrogates: not Unicode scalars; they cannot be encoded in UTF-8 argv,
    and a Swift String cannot hold them.
Code points unassigned in *Python's* Unicode database (unicodedata.unidata_version, 14.0.0
in Python 3.11) ARE generated: Swift's standard library knows a newer Unicode (16.0), but
Foundation's NFKD (`decomposedStringWithCompatibilityMapping`, swift-corelibs-foundation in
Swift 6.3) does not decompose the compatibility characters added after 14.0 (e.g. U+1CCD6
OUTLINED LATIN CAPITAL LETTER A, `<font> A` in Unicode 16), so both sides drop them and
agree: a run over every code point U+0001..U+10FFFF found 0 mismatches. Should a later
toolchain decompose them, mismatches on such code points are a Python-version artefact, not
a slugify difference; mismatch reports flag them, and `--exclude-unassigned` leaves them out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".build-venv"
DEFAULT_KIOTHC = REPO / ".build-scripts" / "debug" / "kiothc"


# --------------------------------------------------------------------------------------------
# Django, from the venv
# --------------------------------------------------------------------------------------------

def ensure_django() -> None:
    """Imports Django, or re-executes this script under the venv's Python (creating it)."""
    try:
        import django.utils.text  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("KIOTHC_SLUGS_IN_VENV"):
        skip("Django is not importable even inside the venv " + str(VENV))
    python = VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120,
                           stdout=subprocess.DEVNULL)
        probe = subprocess.run([str(python), "-c", "import django"], capture_output=True, timeout=60)
        if probe.returncode != 0:
            print(f"slugs: installing django into {VENV} ...", file=sys.stderr)
            install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "django"],
                                     capture_output=True, text=True, timeout=300)
            if install.returncode != 0:
                skip("pip install django failed (no PyPI access?):\n" + install.stderr.strip()[-2000:])
    except (OSError, subprocess.SubprocessError) as error:
        skip(f"cannot prepare the venv {VENV}: {error}")
    env = dict(os.environ, KIOTHC_SLUGS_IN_VENV="1")
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def skip(reason: str) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from skips import skip_group
    skip_group("slugs", f"Django unavailable: {reason}")


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

ASCII_WHITESPACE = "\t\n\v\f\r \x1c\x1d\x1e\x1f"
UNICODE_WHITESPACE = (
    "\u0085\u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200C))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff\u180e"
)
CONTROLS = "".join(chr(c) for c in range(0x01, 0x20)) + "\x7f" + "".join(chr(c) for c in range(0x80, 0xA0))
PUNCT = "!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~"
DASHES = "-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad"

# Pools of code points, as (start, end) inclusive ranges.
POOLS: dict[str, list[tuple[int, int]]] = {
    "ascii": [(0x20, 0x7E)],
    "latin-accented": [(0xC0, 0x24F), (0x1E00, 0x1EFF)],
    "combining": [(0x300, 0x36F), (0x1AB0, 0x1ACE), (0x1DC0, 0x1DFF), (0x20D0, 0x20F0), (0xFE20, 0xFE2F)],
    "ligatures": [(0xFB00, 0xFB06), (0x132, 0x133), (0x1C4, 0x1CC), (0x1F1, 0x1F3), (0x152, 0x153)],
    "fullwidth": [(0xFF01, 0xFF5E), (0xFF61, 0xFF9F), (0xFFE0, 0xFFEE)],
    "cjk": [(0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3), (0x3400, 0x4DBF), (0x3300, 0x33FF),
            (0xF900, 0xFAFF), (0x2F00, 0x2FD5)],
    "emoji": [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF),
              (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF), (0x1F3FB, 0x1F3FF), (0xFE0E, 0xFE0F), (0x200D, 0x200D)],
    "symbols": [(0x2100, 0x218B), (0x2460, 0x24FF), (0x2070, 0x209C), (0x00A1, 0x00BF), (0x2200, 0x22FF),
                (0x3200, 0x32FF), (0x1D400, 0x1D7FF), (0x1F100, 0x1F1AD), (0x2150, 0x215F), (0x20A0, 0x20C0)],
    "greek-cyrillic": [(0x370, 0x3FF), (0x400, 0x4FF), (0x1F00, 0x1FFF)],
    "letterlike-modifiers": [(0x2B0, 0x2FF), (0x1D2C, 0x1D7F), (0xA720, 0xA7FF)],
    "anything": [(0x1, 0x10FFFF)],
}


class Generator:
    def __init__(self, seed: int, exclude_unassigned: bool) -> None:
        self.rng = random.Random(seed)
        self.exclude_unassigned = exclude_unassigned

    def allowed(self, c: str) -> bool:
        cp = ord(c)
        if cp == 0 or 0xD800 <= cp <= 0xDFFF:
            return False
        if self.exclude_unassigned and unicodedata.category(c) == "Cn":
            return False
        return True

    def from_pool(self, pool: str) -> str:
        ranges = POOLS[pool]
        while True:
            start, end = self.rng.choice(ranges)
            c = chr(self.rng.randint(start, end))
            if self.allowed(c):
                return c

    def piece(self) -> str:
        r = self.rng.random()
        if r < 0.25:
            return self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        if r < 0.33:
            return self.rng.choice(ASCII_WHITESPACE + UNICODE_WHITESPACE)
        if r < 0.38:
            return self.rng.choice(CONTROLS)
        if r < 0.45:
            return self.rng.choice(PUNCT + DASHES)
        pool = self.rng.choice([p for p in POOLS if p != "anything"] + ["anything"])
        return self.from_pool(pool)

    def name(self) -> str:
        r = self.rng.random()
        if r < 0.05:
            length = self.rng.randint(100, 3000)          # long names
        elif r < 0.15:
            length = self.rng.randint(0, 3)
        else:
            length = self.rng.randint(1, 40)
        s = "".join(self.piece() for _ in range(length))
        # Dashes, underscores and whitespace at the ends, often.
        if self.rng.random() < 0.3:
            s = "".join(self.rng.choice("-_ \t" + "\u00a0\u3000") for _ in range(self.rng.randint(1, 4))) + s
        if self.rng.random() < 0.3:
            s = s + "".join(self.rng.choice("-_ \n" + "\u2028\u200b") for _ in range(self.rng.randint(1, 4)))
        return s


def fixed_cases() -> list[str]:
    """Deterministic names: every ASCII character, every whitespace kind, hand-picked cases."""
    names = list(SWIFT_TABLE_NAMES)
    for cp in range(0x01, 0x80):
        c = chr(cp)
        names += [c, f"a{c}b", f"{c}x{c}", f"A{c}{c}B"]
    for ws in ASCII_WHITESPACE + UNICODE_WHITESPACE:
        names += [f"a{ws}b", f"{ws}a{ws}", f"a-{ws}-b", f"a{ws}{ws}_{ws}b", f"_{ws}-x-{ws}_"]
    for c in CONTROLS + DASHES:
        names += [f"x{c}y", f"{c}{c}"]
    for start, end in POOLS["ligatures"] + [(0xFF01, 0xFF5E), (0x2460, 0x24FF), (0x2150, 0x218B), (0x2070, 0x209F)]:
        names += [f"a{chr(cp)}b" for cp in range(start, end + 1) if unicodedata.category(chr(cp)) != "Cn"]
    names += ["a" * 100, "A" * 101, "-" * 500, "_" * 500 + "x" + "_" * 500, "é" * 1000, "x " * 2000]
    return names


# Cases for the Swift test table: each should say something on its own.
SWIFT_TABLE_NAMES = [
    "Database Backup", "Café  Backup!", "__x__", "", " ", "---", "___", "-_-_-", "_-x-_",
    "Hello, World!", "  leading and trailing  ", "a--b", "a - b", "a_b", "a__b", "_a_", "a-_-b",
    "ÀÉÎÕÜ àéîõü", "Crème Brûlée", "Ærøskøbing", "Straße", "İstanbul", "ŁÓDŹ", "ÐÞþð", "ƒ",
    "ﬁle ﬀ ﬃ ﬆ", "Ĳssel", "œuvre", "ǅemal",
    "ＦＵＬＬ－ｗｉｄｔｈ　１２３", "ｶﾀｶﾅ",
    "日本語のチェック", "backup 日本 job", "데이터베이스", "🚀 deploy 🎉", "👩‍💻 dev", "🇱🇻 Riga",
    "e\u0301te\u0301", "n\u0303o", "a\u0308\u0323b", "\u0301",
    "™ ½ ² ℃ № ℡", "①②③ ⑴ ⒈", "Ⅻ ⅻ", "㎏ ㍻", "x² + y₂", "𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊",
    "a\tb\nc\vd\fe\rf", "a\x1cb\x1dc\x1ed\x1ff", "a\x00b", "a\x01b\x7fc", "a\x85b",
    "a\u00a0b", "a\u2003b\u2009c", "a\u200bb", "a\u3000b", "a\u2028b\u2029c", "a\ufeffb",
    "a\u2013b\u2014c", "-_ edge _-", "CamelCaseName", "v1.2.3-rc.1", "user@example.com",
    "C:\\path\\to", "quote\"d 'name'", "50% off", "a+b=c", "tab\tend\t",
    "x" * 120,
]


# --------------------------------------------------------------------------------------------
# Running kiothc
# --------------------------------------------------------------------------------------------

def kiothc_slugs(kiothc: str, names: list[str], batch: int) -> list[tuple[str, str]]:
    """(echoed name, slug) for each name, from `kiothc slug --format json -- NAME...`."""
    results: list[tuple[str, str]] = []
    i = 0
    while i < len(names):
        chunk: list[str] = []
        size = 0
        while i < len(names) and (len(chunk) < batch or size < 4096) and size < 1_000_000:
            chunk.append(names[i])
            size += len(names[i].encode("utf-8", "surrogateescape")) + 1
            i += 1
        # "--" so that names starting with '-' are not taken for options.
        proc = subprocess.run([kiothc, "slug", "--format", "json", "--", *chunk],
                              capture_output=True, timeout=60)
        if proc.returncode != 0:
            sys.exit(f"slugs: {kiothc} slug exited {proc.returncode} on a batch starting "
                     f"{chunk[0]!r}:\n{proc.stderr.decode('utf-8', 'replace')}")
        entries = json.loads(proc.stdout)
        if len(entries) != len(chunk):
            sys.exit(f"slugs: kiothc returned {len(entries)} entries for {len(chunk)} names")
        results += [(e["name"], e["slug"]) for e in entries]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiothc", default=os.environ.get("KIOTHC", str(DEFAULT_KIOTHC)),
                        help="path to the kiothc binary (default: $KIOTHC or .build-scripts/debug/kiothc)")
    parser.add_argument("--count", type=int, default=6000, help="random names besides the fixed cases")
    parser.add_argument("--seed", type=int, default=20240521)
    parser.add_argument("--batch", type=int, default=200, help="names per kiothc process")
    parser.add_argument("--exclude-unassigned", action="store_true",
                        help="leave out code points unassigned (Cn) in Python's Unicode database")
    parser.add_argument("--emit-swift-table", action="store_true",
                        help="print the Swift test table of interesting cases (Django's slugs) and exit")
    parser.add_argument("--all-code-points", action="store_true",
                        help="also test every code point U+0001..U+10FFFF alone, as 'a<c>B' (about 280,000 names)")
    parser.add_argument("--max-shown", type=int, default=50, help="mismatches printed in full")
    args = parser.parse_args()

    ensure_django()
    from django.utils.text import slugify

    if args.emit_swift_table:
        print(f"// Generated by scripts/differential/slugs.py --emit-swift-table from Django's slugify "
              f"(Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version}).")
        for name in SWIFT_TABLE_NAMES:
            print(f"({swift_literal(name)}, {swift_literal(slugify(name))}),")
        return 0

    if not os.access(args.kiothc, os.X_OK):
        sys.exit(f"slugs: {args.kiothc} is not an executable; build first (swift build) or pass --kiothc")

    generator = Generator(args.seed, args.exclude_unassigned)
    names = [n for n in fixed_cases() if "\x00" not in n]  # NUL cannot be passed in argv
    names += [generator.name() for _ in range(args.count)]
    fixed = len(names) - args.count
    if args.all_code_points:
        names += [f"a{chr(cp)}B" for cp in range(1, 0x110000) if generator.allowed(chr(cp))]

    ours = kiothc_slugs(args.kiothc, names, args.batch)
    passed = failed = echo_failed = 0
    shown = 0
    for name, (echoed, slug) in zip(names, ours):
        expected = slugify(name)
        ok = slug == expected
        if echoed != name:
            echo_failed += 1
            ok = False
        if ok:
            passed += 1
            continue
        failed += 1
        if shown < args.max_shown:
            shown += 1
            print(f"MISMATCH name={name!r}")
            print(f"  django={expected!r}")
            print(f"  kiothc={slug!r}" + ("" if echoed == name else f" (name echoed as {echoed!r})"))
            odd = sorted({c for c in name if unicodedata.category(c) == "Cn"})
            if odd:
                print("  (unassigned in Python's Unicode " + unicodedata.unidata_version + ": "
                      + ", ".join(f"U+{ord(c):04X}" for c in odd) + ")")
    if failed > shown:
        print(f"... and {failed - shown} more mismatches")
    print(f"slugs: django {__import__('django').__version__}, Python {sys.version.split()[0]} "
          f"(Unicode {unicodedata.unidata_version}), seed {args.seed}, {len(names)} names "
          f"({fixed} fixed + {args.count} generated"
          + (f" + {len(names) - fixed - args.count} single code points" if args.all_code_points else "") + "), "
          f"{sum(len(n) for n in names)} code points; excluded: NUL, surrogates"
          + (", unassigned (Cn)" if args.exclude_unassigned else "")
          + (f"; {echo_failed} names not echoed back intact" if echo_failed else ""))
    print(f"slugs: {passed} passed, {failed} failed")
    return 1 if failed else 0


def swift_literal(s: str) -> str:
    """A Swift string literal for s; non-printables (controls, whitespace other than ' ',
    combining marks, format characters) as \\u{...} escapes, so the table is readable."""
    out = ['"']
    for c in s:
        cp = ord(c)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\x00":
            out.append("\\0")
        elif c == " ":
            out.append(c)
        elif cp < 0x80 and c.isprintable():
            out.append(c)
        elif cp >= 0x80 and unicodedata.category(c)[0] in "LNPS" and unicodedata.category(c) != "Sk" \
                and c not in "\u3000\u00a0" and not unicodedata.category(c).startswith("Z"):
            out.append(c)
        else:
            out.append(f"\\u{{{cp:X}}}")
    out.append('"')
    return "".join(out)


if __name__ == "__main__":
    sys.exit(main())
