#!/bin/sh
# SPDX-License-Identifier: MIT
# The option contract of the six tools (mirad(7), "Common options"): the
# same --help, --version and usage errors; -f is --force wherever a tool
# has --force and an unknown option elsewhere; -F is --format; every tool
# that reads a dataset takes --layout; --merge always joins the shards of
# one job, under one rule; and --help, the man page and the option table
# list the same options.
. "$MIRAD_SRCDIR/tests/cli/tap.sh"

TOOLS="mirad-fetch mirad-split mirad-convert mirad-augment mirad-stats mirad-eval"
FORCE_TOOLS="mirad-fetch mirad-convert mirad-augment"
FORMAT_TOOLS="mirad-split mirad-stats mirad-eval"
MERGE_TOOLS="mirad-convert mirad-augment mirad-stats mirad-eval"
PARTIAL_TOOLS="mirad-stats mirad-eval"
# Tools that read a dataset (mirad-fetch takes --layout too: the layout
# it expects).
DATASET_TOOLS="mirad-split mirad-convert mirad-augment mirad-stats mirad-eval"

has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
cd "$T" || exit 1

# expect_usage_error DESC REGEX: status 2, nothing on stdout, and on stderr
# one line matching REGEX and the hint.
expect_usage_error() {
	expect_status "$1: exit 2" 2
	expect_empty "$1: nothing on stdout" "$T/out"
	expect_grep "$1: the message" "$2" "$T/err"
	expect_eq "$1: one message line and the hint" \
		"$(wc -l <"$T/err") $(sed -n 2p "$T/err" | grep -c '^Try ')" "2 1"
}

## --help, --version and unknown options, in every tool
for t in $TOOLS; do
	run "$BIN/$t" --help
	expect_status "$t --help exits 0" 0
	expect_eq "$t --help: the usage on stdout" "$(head -1 "$T/out" | cut -d' ' -f1-2)" "Usage: $t"
	expect_empty "$t --help: nothing on stderr" "$T/err"
	cp "$T/out" "$T/help-$t"
	run "$BIN/$t" --version
	expect_status "$t --version exits 0" 0
	expect_grep "$t --version: the tool and its version" "^$t \\(mirad-tools\\) [0-9]+\\.[0-9]+" "$T/out"
	expect_eq "$t --version: one line names the tool" "$(grep -c "$t" "$T/out")" 1
	expect_empty "$t --version: nothing on stderr" "$T/err"
	run "$BIN/$t" --no-such-option
	expect_usage_error "$t --no-such-option" "^$t: unknown option '--no-such-option'\$"
	run "$BIN/$t" -Z
	expect_usage_error "$t -Z" "^$t: unknown option '-Z'\$"
done

## -f is --force where there is one, and unknown elsewhere
for t in $TOOLS; do
	if has "$FORCE_TOOLS" "$t"; then
		expect_grep "$t --help: -f, --force" "^  -f, --force " "$T/help-$t"
		# Both spellings reach the same later check.
		run "$BIN/$t" -f
		cp "$T/err" "$T/err-short"
		rc_short=$rc
		run "$BIN/$t" --force
		expect_eq "$t: -f and --force end alike" "$rc_short" "$rc"
		expect_same "$t: -f and --force say the same" "$T/err-short" "$T/err"
		expect_no_grep "$t: -f is known" "unknown option" "$T/err"
	else
		expect_no_grep "$t --help: no -f" "^  -f," "$T/help-$t"
		run "$BIN/$t" -f
		expect_usage_error "$t -f" "^$t: unknown option '-f'\$"
		run "$BIN/$t" --force
		expect_usage_error "$t --force" "^$t: unknown option '--force'\$"
	fi
	if has "$FORMAT_TOOLS" "$t"; then
		expect_grep "$t --help: -F, --format" "^  -F, --format=" "$T/help-$t"
		run "$BIN/$t" -F nonsense
		cp "$T/err" "$T/err-short"
		expect_usage_error "$t -F nonsense" "^$t: unknown format 'nonsense'"
		run "$BIN/$t" --format=nonsense
		expect_same "$t: -F and --format say the same" "$T/err-short" "$T/err"
	fi
done

## --layout: a name is checked by every tool
for t in $TOOLS; do
	run "$BIN/$t" --layout=nonsense
	expect_usage_error "$t --layout=nonsense" "^$t: unknown layout 'nonsense'"
done

## Behaviour on a small dataset
"$GEN" -o "$T/s" --scale 0.02 --categories chain_buckle --archive "$T/s.tar.gz" >/dev/null 2>&1
S=$T/s

# Each tool that reads a dataset takes --layout=mirad on a MIRAD tree.
run "$BIN/mirad-split" --layout=mirad "$S"
expect_status "mirad-split --layout=mirad exits 0" 0
cp "$T/out" "$T/manifest.jsonl"
run "$BIN/mirad-split" "$S"
expect_same "mirad-split: --layout=mirad as detected" "$T/manifest.jsonl" "$T/out"
run "$BIN/mirad-stats" --layout mirad -F csv "$S"
expect_status "mirad-stats --layout mirad exits 0" 0
cp "$T/out" "$T/stats.csv"
run "$BIN/mirad-stats" --format=csv "$S"
expect_same "mirad-stats: --layout mirad as detected" "$T/stats.csv" "$T/out"
run "$BIN/mirad-augment" -q -p node1 --layout=mirad -o "$T/aug" "$S"
expect_status "mirad-augment --layout=mirad exits 0" 0
run "$BIN/mirad-eval" --gt "$S" --maps "$T/nomaps"
cp "$T/err" "$T/eval.err"
rc_plain=$rc
run "$BIN/mirad-eval" --layout=mirad --gt "$S" --maps "$T/nomaps"
expect_eq "mirad-eval --layout=mirad: the same run" "$rc" "$rc_plain"
expect_same "mirad-eval --layout=mirad: the same messages" "$T/eval.err" "$T/err"
run "$BIN/mirad-convert" -q --layout=mirad --to mvtec -o "$T/conv" "$S"
expect_status "mirad-convert --layout=mirad exits 0" 0
cp "$T/out" "$T/conv.jsonl"
# --from: the deprecated spelling, same behaviour (and -f replaces).
run "$BIN/mirad-convert" -q --from=mirad --to mvtec -f -o "$T/conv" "$S"
expect_status "mirad-convert --from=mirad -f exits 0" 0
expect_same "mirad-convert --from is --layout" "$T/conv.jsonl" "$T/out"
expect_grep "mirad-convert --help: --from is deprecated" "--from=.*deprecated" "$T/help-mirad-convert"
run "$BIN/mirad-convert" --from=nonsense --to mvtec -o "$T/x" "$S"
expect_usage_error "mirad-convert --from=nonsense" "unknown layout 'nonsense'"

# A tree whose layout cannot be told: each tool says to name it with
# --layout (the library names no option; the tool adds the advice).
mkdir -p "$T/nolayout/just/a"
: >"$T/nolayout/just/a/file.txt"
for args in "mirad-split $T/nolayout" "mirad-stats $T/nolayout" \
	"mirad-convert -q --to mvtec -o $T/nl-conv $T/nolayout" \
	"mirad-augment -q -p node1 -o $T/nl-aug $T/nolayout" \
	"mirad-eval --gt $T/nolayout --maps $T/nolayout"; do
	t=${args%% *}
	# shellcheck disable=SC2086 # ARGS is a word list
	run "$BIN/$t" ${args#* }
	expect_status "$t on a tree of no known layout: exit 3" 3
	expect_grep "$t: the advice names --layout" \
		"^$t: .*nolayout: cannot tell the layout .*folders\); use --layout\$" "$T/err"
done

# -f and --force replace the folder the tool wrote; without them: exit 3.
run "$BIN/mirad-fetch" -q --archive "$T/s.tar.gz" -o "$T/fetched"
expect_status "mirad-fetch: first run exits 0" 0
for t in mirad-fetch mirad-convert mirad-augment; do
	case $t in
	mirad-fetch) set -- --archive "$T/s.tar.gz" -o "$T/fetched" ;;
	mirad-convert) set -- --to mvtec -o "$T/conv" "$S" ;;
	mirad-augment) set -- -p node1 -o "$T/aug" "$S" ;;
	esac
	run "$BIN/$t" -q "$@"
	expect_status "$t: an existing output without -f: exit 3" 3
	expect_grep "$t: it says how to replace it" "--force" "$T/err"
	run "$BIN/$t" -q -f "$@"
	expect_status "$t -f replaces it" 0
	run "$BIN/$t" -q --force "$@"
	expect_status "$t --force replaces it" 0
done

## --merge: one meaning and one rule
for t in $TOOLS; do
	if has "$MERGE_TOOLS" "$t"; then
		expect_grep "$t --help: --merge joins the shards" "^      --merge  .*(shard|partial)" "$T/help-$t"
		expect_grep "$t --help: --shard" "^      --shard=I/N " "$T/help-$t"
	elif [ "$t" = mirad-fetch ]; then
		run "$BIN/$t" --merge
		expect_usage_error "$t --merge" "^$t: unknown option '--merge'\$"
	fi
done
for t in $MERGE_TOOLS; do
	case $t in
	mirad-convert | mirad-augment) what="shard folders" out="-o $T/merged" ;;
	*) what="partial files" out="" ;;
	esac
	# shellcheck disable=SC2086
	run "$BIN/$t" --merge -q $out
	expect_usage_error "$t --merge without operands" "^$t: --merge needs the $what\$"
	run "$BIN/$t" --merge --shard 0/2 -o "$T/merged" "$T/part"
	expect_usage_error "$t --merge --shard" "^$t: --merge cannot be used with --shard\$"
	run "$BIN/$t" --merge --shard 2/2 -o "$T/merged" "$T/part"
	expect_usage_error "$t --shard 2/2" "^$t: invalid --shard '2/2' \\(I/N with 0 <= I < N, or slurm\\)\$"
	# An option of the job, as the user spelled it.
	case $t in
	mirad-eval) job=--strict ;;
	*) job=-j2 ;;
	esac
	run "$BIN/$t" --merge "$job" -o "$T/merged" "$T/part"
	expect_usage_error "$t --merge $job" "^$t: --merge takes the options from the shards: ${job%2} not allowed\$"
	run "$BIN/$t" --merge --layout=mirad -o "$T/merged" "$T/part"
	expect_usage_error "$t --merge --layout" "^$t: --merge takes the options from the shards: --layout not allowed\$"
done
run "$BIN/mirad-convert" --merge -f -q --progress --no-progress
expect_usage_error "mirad-convert --merge takes -f, -q and the progress options" \
	"^mirad-convert: no output folder \\(-o OUT\\)\$"
for t in $PARTIAL_TOOLS; do
	case $t in
	mirad-eval) set -- --gt "$S" --maps "$T/nomaps" ;;
	*) set -- "$S" ;;
	esac
	run "$BIN/$t" --merge --partial "$T/part"
	expect_usage_error "$t --merge --partial" "^$t: --merge cannot be used with --partial\$"
	run "$BIN/$t" --shard 0/2 "$@"
	expect_usage_error "$t --shard without --partial" "^$t: --shard needs --partial"
	run "$BIN/$t" --partial -F csv "$@"
	expect_usage_error "$t --partial -F" "^$t: --partial prints no table or report: -F not allowed\$"
done
run "$BIN/mirad-eval" --merge --gt "$S" "$T/part"
expect_usage_error "mirad-eval --merge --gt" "^mirad-eval: --merge takes the options from the shards: --gt not allowed\$"

# A real merge: the shards of stats give the single run's table.
for i in 0 1; do
	"$BIN/mirad-stats" -q --partial --shard "$i/2" -o "$T/st$i.json" "$S"
done
run "$BIN/mirad-stats" --merge -F csv -q "$T/st1.json" "$T/st0.json"
expect_status "mirad-stats --merge -F csv exits 0" 0
expect_same "mirad-stats --merge: the single run's table" "$T/stats.csv" "$T/out"
# convert: shard folders merged with -f over an existing folder.
for i in 0 1; do
	"$BIN/mirad-convert" -q --to mvtec --shard "$i/2" -o "$T/cp$i" "$S" >/dev/null
done
mkdir "$T/cm"
run "$BIN/mirad-convert" --merge -q -o "$T/cm" "$T/cp0" "$T/cp1"
expect_status "mirad-convert --merge onto an existing folder: exit 3" 3
run "$BIN/mirad-convert" --merge -q -f -o "$T/cm" "$T/cp0" "$T/cp1"
expect_status "mirad-convert --merge -f exits 0" 0

# mirad-split has no shards: its category merge is --merge-categories;
# --merge=NAME still works, with a warning, so that no script's output is
# lost (see mirad-split(1), HISTORY).
run "$BIN/mirad-split" --merge-categories=all "$S"
expect_status "mirad-split --merge-categories exits 0" 0
expect_empty "mirad-split --merge-categories: no warning" "$T/err"
expect_grep "mirad-split --merge-categories: the category is merged" '"category":"all"' "$T/out"
cp "$T/out" "$T/merged.jsonl"
run "$BIN/mirad-split" --merge all "$S"
expect_status "mirad-split --merge NAME (deprecated) exits 0" 0
expect_same "mirad-split --merge NAME: the same manifest" "$T/merged.jsonl" "$T/out"
expect_grep "mirad-split --merge NAME: a warning names the new spelling" \
	"^mirad-split: --merge is deprecated: use --merge-categories" "$T/err"
run "$BIN/mirad-split" --merge
expect_usage_error "mirad-split --merge without a name" "^mirad-split: option '--merge' needs an argument\$"
expect_grep "mirad-split --help: --merge is deprecated" "--merge=NAME +deprecated" "$T/help-mirad-split"

## --help, the man page and the option table list the same options
for t in $TOOLS; do
	man=$MIRAD_SRCDIR/man/$t.1
	src=$MIRAD_SRCDIR/src/$t.c
	# The long options: of --help, of the man page's option lists, and of
	# the tool's option table (with the shared options its parser takes).
	grep -oE -- '(^|[ ,[])--[a-z][a-z0-9-]*' "$T/help-$t" | sed 's/^[ ,[]//' | sort -u >"$T/help.opts"
	grep -E '^\.It Fl ' "$man" | grep -oE 'Fl -[a-z][a-z0-9-]*' | sed 's/^Fl -/--/' | sort -u >"$T/man.opts"
	tr '\n\t' '  ' <"$src" >"$T/src.flat"
	{
		grep -oE 'MIRAD_CLI_(TRUE|FALSE|STRING|UINT|CHOICE|CALL|ACTION)\( *"[a-z][a-z0-9-]*"' "$T/src.flat" |
			sed 's/.*"\([^"]*\)"$/--\1/'
		grep -q 'mirad_cli_options_parse(' "$T/src.flat" &&
			printf '%s\n' --help --version --quiet --progress --no-progress
		grep -q '\.dataset = ' "$T/src.flat" &&
			printf '%s\n' --layout --split-csv --root
		grep -q '\.merge = ' "$T/src.flat" && printf '%s\n' --shard --merge
		grep -q '\.partial = true' "$T/src.flat" && printf '%s\n' --partial
	} | sort -u >"$T/src.opts"
	expect_eq "$t: --help lists the options the man page lists" \
		"$(comm -3 "$T/help.opts" "$T/man.opts" | tr -d '\t' | tr '\n' ' ')" ""
	expect_eq "$t: --help lists the options the tool takes" \
		"$(comm -3 "$T/help.opts" "$T/src.opts" | tr -d '\t' | tr '\n' ' ')" ""
	# Every documented option is known to the tool.
	unknown=""
	while read -r o; do
		"$BIN/$t" "$o" </dev/null >/dev/null 2>"$T/probe.err"
		grep -q "unknown option" "$T/probe.err" && unknown="$unknown $o"
	done <"$T/man.opts"
	expect_eq "$t: every option of $t.1 is known" "$unknown" ""
	# The short forms: "-x, --long" in --help and ".It Fl x ..., Fl -long"
	# in the man page.
	grep -oE '^  -[a-zA-Z], --[a-z][a-z0-9-]*' "$T/help-$t" | sed 's/^  //' | sort -u >"$T/help.short"
	grep -E '^\.It Fl [a-zA-Z]( |$)' "$man" | grep -E 'Fl -[a-z]' |
		sed -E 's/^\.It Fl ([a-zA-Z]).*Fl -([a-z][a-z0-9-]*).*/-\1, --\2/' | sort -u >"$T/man.short"
	expect_eq "$t: --help and $t.1 give the same short options" \
		"$(comm -3 "$T/help.short" "$T/man.short" | tr -d '\t' | tr '\n' ' ')" ""
done

done_testing
