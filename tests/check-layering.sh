#!/bin/sh
# The layering of the processes, checked on the objects the build made:
#   frontend  may use common/ only;
#   broker    may use common/ only (main() joins it to the spawner);
#   spawner   may use common/ and the C library, nothing else;
#   common    knows no role;
#   audit/    (dispatch-mcp-audit) uses common/ only.
# And: no exported mutable global anywhere, no cycle between the files of
# broker/.  Then the check is run on libraries with a forbidden reference
# added, to show that it fails when it should.
set -u
b=${TEST_BUILDDIR:-.}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

defs() { nm -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' |
    sort -u; }
undefs() { nm -u "$1" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u; }
libc=$($cc -print-file-name=libc.so.6)
nm -D --defined-only "$libc" | awk '{ sub(/@.*/, "", $3); print $3 }' |
    sort -u >"$tmp/libc"

# check DIR: print each violation, return how many there were.
check() {
	d=$1
	bad=0
	for r in frontend broker spawner common; do
		defs "$d/lib$r.a" >"$tmp/$r.def"
		# What it takes from outside itself.
		undefs "$d/lib$r.a" | comm -23 - "$tmp/$r.def" >"$tmp/$r.undef"
	done
	uses() {	# role, forbidden role
		comm -12 "$tmp/$1.undef" "$tmp/$2.def" |
		    sed "s/^/layering: $1 uses $2: /"
	}
	{
		uses frontend broker; uses frontend spawner
		uses broker frontend; uses broker spawner
		uses spawner frontend; uses spawner broker
		uses common frontend; uses common broker; uses common spawner
		if [ -n "$(ls "$d"/audit/*.o 2>/dev/null)" ]; then
			nm -u "$d"/audit/*.o | awk 'NF == 2 { print $2 }' |
			    sort -u >"$tmp/audit.undef"
			uses audit frontend; uses audit broker
			uses audit spawner
		fi
		sort -u "$tmp/common.def" "$tmp/libc" >"$tmp/allowed"
		grep -Ev '^__(asan|ubsan|lsan|sanitizer)_' "$tmp/spawner.undef" |
		    comm -23 - "$tmp/allowed" |
		    sed 's/^/layering: spawner uses neither common\/ nor libc: /'
		for r in frontend broker spawner common; do
			nm -g --defined-only "$d/lib$r.a" |
			    awk -v r="$r" 'NF == 3 && $2 ~ /^[BDGSCV]$/ {
				print "layering: exported mutable global in " \
				    r ": " $3 }'
		done
		# broker/: which object uses which, as tsort(1) pairs.
		nm -A "$d/libbroker.a" 2>/dev/null | awk '
		{ split($1, p, ":"); o = p[2] }
		$(NF-1) ~ /^[TDBR]$/ { def[$NF] = o }
		$(NF-1) == "U" { use[o, $NF] = 1 }
		END { for (k in use) { split(k, q, SUBSEP)
			if (q[2] in def && def[q[2]] != q[1])
				print q[1], def[q[2]] } }' >"$tmp/pairs"
		tsort "$tmp/pairs" 2>&1 >/dev/null | sed -n \
		    's/^tsort: .*: input contains a loop:$/layering: broker\/ files depend on each other in a cycle:/p;
		    s/^tsort: \(.*\.o\)$/layering:   \1/p'
	} >"$tmp/out"
	cat "$tmp/out"
	bad=$(wc -l <"$tmp/out")
	return $((bad > 0 ? 1 : 0))
}

echo "layering: checking $b"
check "$b" || exit 1
echo "layering: the build holds"

# The same check must catch each of these, added on purpose.
tamper() {	# library, C source, what it should report
	rm -rf "$tmp/t"
	mkdir "$tmp/t"
	cp "$b"/lib*.a "$tmp/t/"
	printf '%s\n' "$2" >"$tmp/t/x.c"
	$cc -c -o "$tmp/t/x.o" "$tmp/t/x.c" || return 1
	ar q "$tmp/t/lib$1.a" "$tmp/t/x.o" 2>/dev/null
	if check "$tmp/t" >"$tmp/t/report"; then
		echo "layering: FAILED to catch: $3"
		return 1
	fi
	grep -q "$3" "$tmp/t/report" || { echo "layering: wrong report for: $3"
	    cat "$tmp/t/report"; return 1; }
	echo "layering: caught, as it should: $(head -1 "$tmp/t/report")"
}
rc=0
tamper frontend 'void broker_main(void *); void x(void) { broker_main(0); }' \
    'frontend uses broker' || rc=1
tamper frontend 'int spawner_start(void *, int *); int x(void) { return spawner_start(0, 0); }' \
    'frontend uses spawner' || rc=1
tamper broker 'void frontend_main(int, void *); void x(void) { frontend_main(0, 0); }' \
    'broker uses frontend' || rc=1
tamper spawner 'void tools_init(void); void x(void) { tools_init(); }' \
    'spawner uses frontend' || rc=1
tamper spawner 'void *event_base_new(void); void *x(void) { return event_base_new(); }' \
    'spawner uses neither' || rc=1
tamper common 'void lane_start(void); void x(void) { lane_start(); }' \
    'common uses broker' || rc=1
tamper broker 'int mutable_state = 1;' 'exported mutable global' || rc=1
tamper broker 'void lane_start(void); void spawnreq_send(void) { lane_start(); }' \
    'cycle' || rc=1
exit $rc
