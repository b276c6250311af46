#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's layering (build-aux/check-layers, docs/ARCHITECTURE.md): no
# module includes one of a higher layer or forms a cycle inside its layer,
# and the check itself catches a planted upward include, a module with no
# layer and a planted cycle.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"
CHECK=$MIRAD_SRCDIR/build-aux/check-layers

run sh "$CHECK" "$MIRAD_SRCDIR/src/lib"
expect_status "src/lib: no upward include" 0
expect_empty "src/lib: nothing reported" "$T/out"

mkdir "$T/lib"
cp "$MIRAD_SRCDIR"/src/lib/mirad_*.[ch] "$T/lib/"
printf '#include "mirad_cli.h"\n' >>"$T/lib/mirad_fs.c"
run sh "$CHECK" "$T/lib"
expect_status "a base module including the front end fails" 1
expect_grep "the upward include is named" 'mirad_fs\.c: includes mirad_cli\.h \(layer 3 above 0\)$' "$T/out"

cp "$MIRAD_SRCDIR/src/lib/mirad_fs.c" "$T/lib/mirad_fs.c"
printf '/* new */\n' >"$T/lib/mirad_newthing.h"
run sh "$CHECK" "$T/lib"
expect_status "a module with no layer fails" 1
expect_grep "the module is named" "module 'newthing' has no layer" "$T/out"

rm "$T/lib/mirad_newthing.h"
printf '#include "mirad_fs.h"\n' >>"$T/lib/mirad_err.c"
run sh "$CHECK" "$T/lib"
expect_status "two base modules including each other fail" 1
expect_grep "the cycle is named" 'include cycle inside one layer: err fs$' "$T/out"

done_testing
