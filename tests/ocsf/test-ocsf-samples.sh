#!/bin/bash
# Every shape the agent emits (event-samples: each event kind and variant, the heartbeat) validates
# against OCSF 1.1.0, and the stream holds each class and activity the agent maps to.
set -u
SAMPLES=${1:?usage: test-ocsf-samples.sh EVENT-SAMPLES OCSF-CHECK SCHEMA}
CHECK=${2:?usage: test-ocsf-samples.sh EVENT-SAMPLES OCSF-CHECK SCHEMA}
SCHEMA=${3:?usage: test-ocsf-samples.sh EVENT-SAMPLES OCSF-CHECK SCHEMA}
. "$(dirname "$0")/../lib/tap.sh"

out=$("$SAMPLES")
ok $? "event-samples encodes every kind of event"
expect=()
for t in 100701 100702 100703 100705 100799 100114 100104 100105 400101 100201 100301 600299; do
	expect+=(--expect-type "$t")
done
report=$(printf '%s\n' "$out" | "$CHECK" --schema "$SCHEMA" "${expect[@]}" - 2>&1)
ok $? "every sample validates against OCSF 1.1.0, each class and activity present" || printf '%s\n' "$report" | head -40 | sed 's|^|# |'
done_testing
