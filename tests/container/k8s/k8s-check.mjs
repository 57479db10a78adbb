// Validates the Kubernetes manifests against the Kubernetes schemas (kubernetes-models: the OpenAPI
// schemas of the API compiled to validators) and checks that the linuxguard container in each pod
// template runs with exactly the settings the runc container test proved (PRODUCTION, from
// tests/container/oci-config.py --print-production), translated the way containerd and CRI-O translate a
// securityContext. TAP on stdout.
//
// Usage: node k8s-check.mjs PRODUCTION.json MANIFEST.yaml...   (NODE_PATH: the installed node_modules)
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(process.env.LINUXGUARD_K8S_MODULES + "/");
const yaml = require("js-yaml");
const modules = process.env.LINUXGUARD_K8S_MODULES;

let n = 0, failed = 0;
const ok = (cond, name, detail) => {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail !== undefined) console.log(`#   ${JSON.stringify(detail)}`);
  }
};
const same = (got, want, name) => ok(JSON.stringify(got) === JSON.stringify(want), name, { got, want });

const [productionFile, ...manifests] = process.argv.slice(2);
const prod = JSON.parse(readFileSync(productionFile, "utf8"));

async function modelFor(doc) {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
  const path = `${modules}/kubernetes-models/${group ? group + "/" : ""}${version}/${doc.kind}.js`;
  const mod = await import(path);
  return mod[doc.kind];
}

const capsOf = (list) => (list || []).map((c) => (c.startsWith("CAP_") ? c : "CAP_" + c)).sort();
// "10m" (tmpfs size, bytes x 2^20) <-> "10Mi"
const sizeToMi = (s) => s.replace(/^(\d+)m$/, "$1Mi");

for (const file of manifests) {
  const docs = yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean);
  for (const doc of docs) {
    const where = `${basename(file)} ${doc.kind}/${doc.metadata?.name}`;
    let Model;
    try {
      Model = await modelFor(doc);
    } catch (e) {
      ok(false, `${where}: a known apiVersion/kind`, String(e));
      continue;
    }
    try {
      new Model(doc).validate();
      ok(true, `${where}: valid against the Kubernetes schema`);
    } catch (e) {
      ok(false, `${where}: valid against the Kubernetes schema`, e.message);
    }
    const pod = doc.spec?.template?.spec;
    if (!pod) continue;

    const c = (pod.containers || []).find((x) => x.name === "linuxguard");
    ok(!!c, `${where}: has a linuxguard container`);
    if (!c) continue;
    const psc = pod.securityContext || {}, sc = c.securityContext || {};
    const eff = (k) => (sc[k] !== undefined ? sc[k] : psc[k]);

    same(eff("runAsUser"), prod.uid, `${where}: runAsUser = the uid the runc test ran with`);
    same(eff("runAsGroup"), prod.gid, `${where}: runAsGroup = the gid the runc test ran with`);
    same(eff("runAsNonRoot"), true, `${where}: runAsNonRoot`);
    same(sc.readOnlyRootFilesystem, prod.readonlyRootfs, `${where}: readOnlyRootFilesystem = root.readonly of the runc test`);
    same(sc.allowPrivilegeEscalation, !prod.noNewPrivileges,
      `${where}: allowPrivilegeEscalation = !noNewPrivileges of the runc test`);
    ok(sc.privileged !== true, `${where}: not privileged`);
    same(sc.capabilities?.drop, ["ALL"], `${where}: capabilities drop ALL`);
    same(capsOf(sc.capabilities?.add), [...prod.capabilities].sort(),
      `${where}: capabilities add = exactly the set the runc test proved`);
    const sp = eff("seccompProfile") || {};
    same([sp.type, basename(sp.localhostProfile || "")], ["Localhost", basename(prod.seccompProfile)],
      `${where}: seccomp Localhost profile ${basename(prod.seccompProfile)} (the runc test's)`);
    ok(psc.fsGroup === undefined, `${where}: no fsGroup (it would make the token file group-readable)`);
    ok(!pod.hostPID, `${where}: no hostPID (the agent stays PID 1; eBPF sees the node anyway)`);

    const vol = (mountPath) => {
      const m = (c.volumeMounts || []).find((x) => x.mountPath === mountPath);
      return [m, m && (pod.volumes || []).find((v) => v.name === m.name)];
    };
    const [runMount, runVol] = vol("/run/linuxguard");
    same([runVol?.emptyDir?.medium, runVol?.emptyDir?.sizeLimit], ["Memory", sizeToMi(prod.runLinuxguard.size)],
      `${where}: /run/linuxguard is a memory emptyDir of ${prod.runLinuxguard.size}`);
    ok(runMount && !runMount.readOnly, `${where}: /run/linuxguard writable`);
    const [trMount, trVol] = vol(prod.tracefs.path);
    same([trVol?.hostPath?.path, !!trMount?.readOnly], [prod.tracefs.path, prod.tracefs.readOnly],
      `${where}: ${prod.tracefs.path} hostPath, read-only`);

    const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
    same(env.LINUXGUARD_NODE_NAME?.valueFrom?.fieldRef?.fieldPath, "spec.nodeName", `${where}: LINUXGUARD_NODE_NAME from the Downward API`);
    same(env.LINUXGUARD_POD_UID?.valueFrom?.fieldRef?.fieldPath, "metadata.uid", `${where}: LINUXGUARD_POD_UID from the Downward API`);
    const tokenFile = env.LINUXGUARD_ENROLL_TOKEN_FILE?.value || "";
    const secretMount = (c.volumeMounts || []).find((m) => tokenFile.startsWith(m.mountPath + "/"));
    const secretVol = secretMount && (pod.volumes || []).find((v) => v.name === secretMount.name);
    ok(tokenFile.startsWith("/run/secrets/") && secretVol?.secret && secretMount.readOnly,
      `${where}: the token is a file from a Secret under /run/secrets`, tokenFile);
    ok(tokenFile.includes("/..data/"), `${where}: the token path is the file itself (..data/KEY), not the KEY symlink`);
    same(secretVol?.secret?.defaultMode, 0o400, `${where}: token file mode 0400`);
    ok(!env.LINUXGUARD_ENROLL_TOKEN?.value, `${where}: no literal token in the manifest`);

    for (const p of ["livenessProbe", "readinessProbe"])
      same(c[p]?.exec?.command, ["/usr/bin/linuxguard", "health"], `${where}: ${p} runs linuxguard health`);
    ok(c.resources?.requests?.memory && c.resources?.limits?.memory && c.resources?.limits?.cpu,
      `${where}: resource requests and limits`);
  }
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
