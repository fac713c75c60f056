#!/usr/bin/env bash
# docs/cli.md is generated from `kiothc --help` and each subcommand's --help, so the reference
# cannot drift from the binary:
#   scripts/docs/cli-reference.sh [KIOTHC]           # rewrite docs/cli.md
#   scripts/docs/cli-reference.sh --check [KIOTHC]   # fail if docs/cli.md is out of date
# Prints 'cli-docs: N passed, M failed'.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mode=write
if [ "${1:-}" = "--check" ]; then mode=check; shift; fi
kiothc="${1:-${KIOTHC:-$repo/.build/debug/kiothc}}"
[ -x "$kiothc" ] || { echo "cli-docs: $kiothc is not executable; run swift build first" >&2; exit 1; }

generate() {
  # A fixed width and no inherited KIOTHC_* variables: the text is the same on every machine.
  local help=(env -i PATH="$PATH" COLUMNS=100 "$kiothc")
  echo "# kiothc command-line reference"
  echo
  echo "Generated from \`kiothc --help\` by \`scripts/docs/cli-reference.sh\`; do not edit by hand."
  echo
  echo '```'
  "${help[@]}" --help
  echo '```'
  # Every subcommand kiothc lists, in its order.
  for command in $("${help[@]}" --help | awk '/^SUBCOMMANDS:/ {on = 1; next} on && /^  [a-z][a-z-]* / {print $1}'); do
    echo
    echo "## kiothc $command"
    echo
    echo '```'
    "${help[@]}" "$command" --help
    echo '```'
    # A command group's own subcommands (kiothc store copy), each with its help.
    for sub in $("${help[@]}" "$command" --help | awk '/^SUBCOMMANDS:/ {on = 1; next} on && /^  [a-z][a-z-]* / {print $1}'); do
      echo
      echo "## kiothc $command $sub"
      echo
      echo '```'
      "${help[@]}" "$command" "$sub" --help
      echo '```'
    done
  done
}

target="$repo/docs/cli.md"
if [ "$mode" = write ]; then
  generate >"$target"
  echo "cli-docs: 1 passed, 0 failed (wrote docs/cli.md)"
elif diff -u "$target" <(generate) >/tmp/kiothc-cli-docs.diff; then
  echo "cli-docs: 1 passed, 0 failed"
else
  head -n 40 /tmp/kiothc-cli-docs.diff
  echo "docs/cli.md is out of date with kiothc --help: run scripts/docs/cli-reference.sh and commit docs/cli.md"
  echo "cli-docs: 0 passed, 1 failed"
  exit 1
fi
