#!/bin/bash
# The Kubernetes manifests in container/kubernetes/: valid against the Kubernetes schemas, and the
# linuxguard container's securityContext, volumes, env and probes equal to what test-container.sh proved
# with runc (the PRODUCTION settings of oci-config.py). The validator (kubernetes-models, js-yaml) comes
# from the npm registry, installed once into the build tree.
#
# Usage: test-kubernetes.sh SOURCE-DIR BUILD-DIR
set -u
SRC=$(cd "${1:?usage: test-kubernetes.sh SOURCE-DIR BUILD-DIR}" && pwd)
BUILD=${2:?usage: test-kubernetes.sh SOURCE-DIR BUILD-DIR}
. "$SRC/tests/lib/tap.sh"
HERE=$SRC/tests/container

command -v node >/dev/null && command -v npm >/dev/null || skip_all_unless_ci "node and npm are needed (apt-get install nodejs npm)"

# node_modules keyed by package.json: reinstalled only when it changes.
DEPS=$BUILD/tests/container/k8s-validate
KEY=$(sha256sum "$HERE/k8s/package.json" | cut -c1-16)
if [ ! -f "$DEPS/.installed-$KEY" ]; then
	rm -rf "$DEPS" && mkdir -p "$DEPS" && cp "$HERE/k8s/package.json" "$DEPS/"
	if ! (cd "$DEPS" && timeout 300 npm install --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
		sed 's/^/#   /' "$DEPS/npm.log" | tail -5
		skip_all_unless_ci "npm install of the schema validator failed (no registry?)"
	fi
	touch "$DEPS/.installed-$KEY"
fi

PROD=$(mktemp)
trap 'rm -f "$PROD"' EXIT
python3 "$HERE/oci-config.py" --print-production >"$PROD"
LINUXGUARD_K8S_MODULES=$DEPS/node_modules node "$HERE/k8s/k8s-check.mjs" "$PROD" "$SRC"/container/kubernetes/*.yaml
