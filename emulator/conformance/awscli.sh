#!/usr/bin/env bash
# AWS CLI v1 conformance against the emulator: a round trip of `aws eks`
# access-entry commands plus `aws sts` and `aws iam`, checked field by field.
# Run from anywhere: bash emulator/conformance/awscli.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

VENV=target/awscli-venv
SEED=emulator/conformance/seed.yaml

PYLIB=target/awscli-pylib
if [ -x "$VENV/bin/aws" ]; then
  AWS=("$VENV/bin/aws")
  PY="$VENV/bin/python"
elif [ -d "$PYLIB/awscli" ]; then
  AWS=(env "PYTHONPATH=$PYLIB" python3 -m awscli)
  PY=python3
else
  echo "== installing awscli (v1) from PyPI into $VENV"
  if python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet --disable-pip-version-check awscli; then
    AWS=("$VENV/bin/aws")
    PY="$VENV/bin/python"
  else
    # No venv module (e.g. Debian without python3-venv): a plain target directory instead.
    rm -rf "$VENV"
    echo "== venv unavailable; installing awscli into $PYLIB"
    python3 -m pip install --quiet --disable-pip-version-check --target "$PYLIB" awscli \
      || { echo "pip install awscli failed" >&2; exit 1; }
    AWS=(env "PYTHONPATH=$PYLIB" python3 -m awscli)
    PY=python3
  fi
fi

echo "== building eks-emulator"
cargo build --quiet -p eks-emulator --bin eks-emulator || exit 1
BIN=target/debug/eks-emulator

WORK=$(mktemp -d)
"$BIN" --seed "$SEED" --port 0 --kubeconfig "$WORK/kubeconfig" >"$WORK/out" 2>"$WORK/err" &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ENDPOINT=""
for _ in $(seq 1 300); do
  ENDPOINT=$(sed -n 's/^EKS_EMULATOR_ENDPOINT=//p' "$WORK/out")
  [ -n "$ENDPOINT" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "emulator exited early:" >&2
    cat "$WORK/err" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$ENDPOINT" ] || { echo "emulator did not start" >&2; exit 1; }
echo "== emulator at $ENDPOINT"

# Static credentials only: no profile, no config file, no metadata service.
export AWS_ENDPOINT_URL="$ENDPOINT"
export AWS_ACCESS_KEY_ID=AKIDADMIN
export AWS_SECRET_ACCESS_KEY=emulator-secret
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE

PASSED=0
FAILED=0
CLUSTER=demo
ACCT=111122223333
DEV="arn:aws:iam::$ACCT:role/dev"
VIEW="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; echo "     expected: $2"; echo "     actual:   $3"; }

# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "$2" "$3"; fi
}

# jq-free JSON access: field FILE PYTHON-EXPR (d is the document)
field() {
  "$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
v=eval(sys.argv[2])
print(v if isinstance(v,bool) else json.dumps(v) if isinstance(v,(list,dict)) or v is None else v)' "$1" "$2" 2>/dev/null || echo "<unreadable>"
}

# run NAME ARGS... : runs aws, stores stdout in $WORK/last.json, stderr in $WORK/last.err, rc in RC
run() {
  "${AWS[@]}" "$@" >"$WORK/last.json" 2>"$WORK/last.err"
  RC=$?
}

J="$WORK/last.json"

run eks create-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" \
  --kubernetes-groups devs viewers --username 'dev:{{SessionName}}' --tags team=a --output json
expect "create-access-entry exit code" 0 "$RC"
expect "create: principalArn" "$DEV" "$(field "$J" 'd["accessEntry"]["principalArn"]')"
expect "create: username" 'dev:{{SessionName}}' "$(field "$J" 'd["accessEntry"]["username"]')"
expect "create: groups" '["devs", "viewers"]' "$(field "$J" 'd["accessEntry"]["kubernetesGroups"]')"
expect "create: type" STANDARD "$(field "$J" 'd["accessEntry"]["type"]')"
expect "create: tags" '{"team": "a"}' "$(field "$J" 'd["accessEntry"]["tags"]')"
expect "create: entry ARN prefix" True "$(field "$J" 'd["accessEntry"]["accessEntryArn"].startswith("arn:aws:eks:us-east-1:111122223333:access-entry/demo/role/111122223333/dev/")')"

run eks describe-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" --output json
expect "describe-access-entry exit code" 0 "$RC"
expect "describe: groups" '["devs", "viewers"]' "$(field "$J" 'd["accessEntry"]["kubernetesGroups"]')"
# CLI v1 prints timestamps as received (cli_timestamp_format=none): epoch seconds.
expect "describe: createdAt is epoch seconds" True "$(field "$J" 'isinstance(d["accessEntry"]["createdAt"], (int, float)) and d["accessEntry"]["createdAt"] > 1.7e9')"

SSO="arn:aws:iam::$ACCT:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"
for p in "arn:aws:iam::$ACCT:role/r1" "arn:aws:iam::$ACCT:role/r2" "arn:aws:iam::$ACCT:role/r3" "$SSO"; do
  run eks create-access-entry --cluster-name "$CLUSTER" --principal-arn "$p" --output json
  expect "create $p" 0 "$RC"
done

run eks list-access-entries --cluster-name "$CLUSTER" --max-items 2 --page-size 1 --output json
expect "list page 1 exit code" 0 "$RC"
expect "list page 1 size" 2 "$(field "$J" 'len(d["accessEntries"])')"
TOKEN=$(field "$J" 'd.get("NextToken", "")')
expect "list page 1 has NextToken" True "$( [ -n "$TOKEN" ] && echo True || echo False )"
FIRST=$(field "$J" 'd["accessEntries"]')
run eks list-access-entries --cluster-name "$CLUSTER" --max-items 2 --page-size 1 --starting-token "$TOKEN" --output json
expect "list page 2 size" 2 "$(field "$J" 'len(d["accessEntries"])')"
SECOND=$(field "$J" 'd["accessEntries"]')
expect "pages do not overlap" True "$("$PY" -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(not set(a) & set(b))' "$FIRST" "$SECOND")"
run eks list-access-entries --cluster-name "$CLUSTER" --page-size 2 --output json
expect "full list (CLI follows nextToken)" 5 "$(field "$J" 'len(d["accessEntries"])')"
expect "full list has no NextToken" False "$(field "$J" '"NextToken" in d')"

run eks associate-access-policy --cluster-name "$CLUSTER" --principal-arn "$DEV" --policy-arn "$VIEW" \
  --access-scope type=namespace,namespaces=team-a,team-b --output json
expect "associate-access-policy exit code" 0 "$RC"
expect "associate: policy" "$VIEW" "$(field "$J" 'd["associatedAccessPolicy"]["policyArn"]')"
expect "associate: namespaces" '["team-a", "team-b"]' "$(field "$J" 'd["associatedAccessPolicy"]["accessScope"]["namespaces"]')"
run eks associate-access-policy --cluster-name "$CLUSTER" --principal-arn "$DEV" --policy-arn "$VIEW" \
  --access-scope type=cluster --output json
expect "re-associate replaces scope" cluster "$(field "$J" 'd["associatedAccessPolicy"]["accessScope"]["type"]')"

run eks list-associated-access-policies --cluster-name "$CLUSTER" --principal-arn "$DEV" --output json
expect "list-associated exit code" 0 "$RC"
expect "list-associated: one policy" 1 "$(field "$J" 'len(d["associatedAccessPolicies"])')"
expect "list-associated: scope" cluster "$(field "$J" 'd["associatedAccessPolicies"][0]["accessScope"]["type"]')"

run eks list-access-entries --cluster-name "$CLUSTER" --associated-policy-arn "$VIEW" --output json
expect "filter by associated policy" "[\"$DEV\"]" "$(field "$J" 'd["accessEntries"]')"

run eks disassociate-access-policy --cluster-name "$CLUSTER" --principal-arn "$DEV" --policy-arn "$VIEW" --output json
expect "disassociate exit code" 0 "$RC"
run eks list-associated-access-policies --cluster-name "$CLUSTER" --principal-arn "$DEV" --output json
expect "after disassociate: none" 0 "$(field "$J" 'len(d["associatedAccessPolicies"])')"

run eks update-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" --kubernetes-groups ops --output json
expect "update: groups replaced" '["ops"]' "$(field "$J" 'd["accessEntry"]["kubernetesGroups"]')"
expect "update: omitted username reset" "arn:aws:sts::$ACCT:assumed-role/dev/{{SessionName}}" "$(field "$J" 'd["accessEntry"]["username"]')"

run eks delete-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" --output json
expect "delete-access-entry exit code" 0 "$RC"
run eks describe-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" --output json
expect "describe after delete fails" True "$( [ "$RC" = 254 ] || [ "$RC" = 255 ] && echo True || echo False )"
expect "describe after delete: message" True "$(grep -q "ResourceNotFoundException" "$WORK/last.err" && grep -q "The specified principalArn could not be found" "$WORK/last.err" && echo True || echo False)"

run eks create-access-entry --cluster-name "$CLUSTER" --principal-arn "$DEV" --kubernetes-groups system:masters --output json
expect "system: group refused (exit 254/255)" True "$( [ "$RC" = 254 ] || [ "$RC" = 255 ] && echo True || echo False )"
expect "system: group message" True "$(grep -q "An error occurred (InvalidParameterException) when calling the CreateAccessEntry operation: The kubernetes group name system:masters is invalid, it cannot start with system:" "$WORK/last.err" && echo True || echo False)"

run eks create-access-entry --cluster-name "$CLUSTER" --principal-arn "arn:aws:iam::$ACCT:role/AWSReservedSSO_Admin_0123456789abcdef" --output json
expect "path-stripped SSO role refused" True "$(grep -q "The specified principalArn is invalid: invalid principal." "$WORK/last.err" && echo True || echo False)"

run eks describe-cluster --name "$CLUSTER" --output json
expect "describe-cluster: mode" API_AND_CONFIG_MAP "$(field "$J" 'd["cluster"]["accessConfig"]["authenticationMode"]')"
expect "describe-cluster: arn" "arn:aws:eks:us-east-1:$ACCT:cluster/demo" "$(field "$J" 'd["cluster"]["arn"]')"

run eks list-access-policies --output json
expect "list-access-policies has ClusterAdmin" True "$(field "$J" '"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" in [p["arn"] for p in d["accessPolicies"]]')"

run sts get-caller-identity --output json
expect "sts get-caller-identity exit code" 0 "$RC"
expect "sts: Arn" "arn:aws:iam::$ACCT:user/admin" "$(field "$J" 'd["Arn"]')"
expect "sts: Account" "$ACCT" "$(field "$J" 'd["Account"]')"

run iam get-role --role-name AWSReservedSSO_Admin_0123456789abcdef --output json
expect "iam get-role exit code" 0 "$RC"
expect "iam get-role: Arn keeps the path" "$SSO" "$(field "$J" 'd["Role"]["Arn"]')"
expect "iam get-role: Path" /aws-reserved/sso.amazonaws.com/ "$(field "$J" 'd["Role"]["Path"]')"
run iam get-role --role-name ghost --output json
expect "iam get-role unknown: NoSuchEntity" True "$(grep -q "NoSuchEntity" "$WORK/last.err" && grep -q "The role with name ghost cannot be found." "$WORK/last.err" && echo True || echo False)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
