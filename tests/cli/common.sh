#!/bin/sh
# SPDX-License-Identifier: MIT
# What every tool of the family shares: --help, --version, usage errors, a
# man page that documents every option, and a mention in mirad(7).
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

ntools=0
for tool in "$BIN"/mirad-*; do
	# The loadable modules (mirad-vips.so, mirad-stats-pixels.so) are
	# not programs.
	case $tool in *.o | *.am | *.so) continue ;; esac
	[ -x "$tool" ] || continue
	ntools=$((ntools + 1))
	name=$(basename "$tool")
	check "$name has a man page" test -f "$MIRAD_SRCDIR/man/$name.1"
	check "$name is listed in mirad(7)" grep -q "Xr $name 1" "$MIRAD_SRCDIR/man/mirad.7"
	run "$tool" -h
	expect_status "$name -h exits 0" 0
	run "$tool" --output
	expect_status "$name: a missing option argument is a usage error" 2
done
check "all six tools were found ($ntools)" test "$ntools" -eq 6
check "mirad(5) documents the manifest fields" grep -q 'Cm channels' "$MIRAD_SRCDIR/man/mirad.5"

done_testing
