#!/bin/bash
# Keeps README.md, linuxguard(8), linuxguard.conf(5) and the shipped agent.conf true: every flag,
# environment variable, config key, command and exit status the binary knows is documented in each
# place a user looks for it. The lists come from the binary itself, so a new setting without docs fails.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-docs.sh linuxguard SOURCE-ROOT}
SRC=${2:?usage: test-docs.sh linuxguard SOURCE-ROOT}
help=$("$LG" start --help)
readme=$(cat "$SRC/README.md")
man8=$(cat "$SRC/man/linuxguard.8.scd")
man5=$(cat "$SRC/man/linuxguard.conf.5.scd")
conf=$(cat "$SRC/etc/agent.conf")

flags=$(printf '%s\n' "$help" | grep -oE '^  --[a-z-]+' | tr -d ' ' | sort -u)
envs=$(printf '%s\n' "$help" | grep -oE 'env: LINUXGUARD_[A-Z_]+' | cut -d' ' -f2 | sort -u)
keys=$(printf '%s\n' "$help" | grep -oE 'config: [a-z_.]+' | cut -d' ' -f2 | sort -u)
[ -n "$flags" ] && [ -n "$envs" ] && [ -n "$keys" ]
ok $? "start --help lists flags, environment variables and config keys"

for f in $flags; do
	contains "$man8" "*$f*" "linuxguard(8) documents $f"
	contains "$readme" "\`$f" "README documents $f"
done
for e in $envs; do
	contains "$man8" "$e" "linuxguard(8) names $e"
	contains "$readme" "$e" "README names $e"
done
for k in $keys; do
	contains "$man5" "*$k =*" "linuxguard.conf(5) documents $k"
	contains "$readme" "$k" "README's table names $k"
	contains "$conf" "${k##*.} =" "agent.conf shows ${k} with its default"
done

commands=$("$LG" help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' ')
[ -n "$commands" ]; ok $? "linuxguard help lists commands"
for c in $commands; do
	contains "$man8" "*$c*" "linuxguard(8) documents the $c command"
	contains "$readme" "linuxguard $c" "README shows linuxguard $c"
done

statuses=$(grep -oE '= [0-9]+,' "$SRC/src/core/exit-status.h" | grep -oE '[0-9]+')
for st in $statuses; do
	like "$readme" "^\| $st \|" "README's exit status table has $st"
	like "$man8" "^\|  $st\$" "linuxguard(8)'s exit status table has $st"
done

done_testing
