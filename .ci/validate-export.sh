#!/usr/bin/env bash
# Validates what `aws-auth-migrate export` writes with the ecosystem's own tools
# (issue 17; docs/iac-export.md, "How the output is checked"):
#   HashiCorp's HCL parser (npm @cdktf/hcl2json) and python-hcl2 on the Terraform files,
#   plus our own provider-schema check; cfn-lint on the CloudFormation templates; eksctl's
#   ClusterConfig JSON schema (tests/fixtures/) with jsonschema on the eksctl config.
# Cases: examples/aws-auth.yaml offline (with and without the example policy map), and a
# live emulator cluster that has entries already, before and after apply (written by the
# test export::live_… through AWS_AUTH_MIGRATE_EXPORT_SAMPLES).
# Installs the pinned tools into target/ci-export/ (a venv and an npm prefix) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/ci-export
if [ ! -x "$tools/venv/bin/python" ]; then
  python3 -m venv "$tools/venv"
fi
"$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
  python-hcl2==8.1.4 cfn-lint==1.58.0 jsonschema==4.26.0
if [ ! -f "$tools/node/node_modules/@cdktf/hcl2json/package.json" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools/node" @cdktf/hcl2json@0.21.0
fi

cargo build --quiet --bin aws-auth-migrate
bin=target/debug/aws-auth-migrate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for format in terraform terraform-module cloudformation eksctl; do
  mkdir -p "$out/offline/$format" "$out/offline-policy-map/$format"
  "$bin" export --format "$format" --file examples/aws-auth.yaml --out "$out/offline/$format"
  "$bin" export --format "$format" --file examples/aws-auth.yaml \
    --policy-map examples/policy-map.yaml --account 111122223333 \
    --out "$out/offline-policy-map/$format"
done
for dir in "$out"/offline*/*; do
  if [ -z "$(ls -A "$dir")" ]; then
    echo "export wrote nothing for $dir" >&2
    exit 1
  fi
done
AWS_AUTH_MIGRATE_EXPORT_SAMPLES="$out/live" \
  cargo test --quiet --test it export::live_cluster_with_entries >/dev/null

NODE_PATH="$tools/node/node_modules" "$tools/venv/bin/python" .ci/validate-export.py \
  --schema tests/fixtures/eksctl-clusterconfig-schema.json \
  --hcl2json .ci/hcl2json.js \
  --cfn-lint "$tools/venv/bin/cfn-lint" \
  "$out"
