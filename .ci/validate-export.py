#!/usr/bin/env python3
"""Validates what `aws-auth-migrate export` writes with the ecosystem's own tools.

Usage: validate-export.py --schema EKSCTL_SCHEMA --hcl2json .ci/hcl2json.js DIR...

Every file under each DIR is checked by its kind:
- *.tf: parsed by HashiCorp's HCL parser (npm @cdktf/hcl2json, through node) and by
  python-hcl2; then, since the AWS provider cannot be installed here, a schema check
  of our own on the parsed resources: only the provider's documented attributes,
  `type` in its enum, ARNs that are ARNs, EKS's access-scope rules, no username with a
  prefix EKS reserves, node types without groups, username or policies, and import
  blocks that target a resource of the file with the provider's import ID format;
- *.cfn.yaml: cfn-lint --non-zero-exit-code error (warnings do not fail);
- import-resources.json: every identifier names a resource of the import template;
- YAML of kind ClusterConfig: jsonschema Draft 7 against eksctl's published schema,
  plus the rules eksctl checks in Go that the schema does not (validateAccessEntries).

Prints one line per file and a summary; exit 1 on any problem.
"""

import argparse
import json
import os
import re
import subprocess
import sys

import hcl2
import jsonschema
import yaml
from hcl2 import SerializationOptions

PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:(iam|sts)::\d{12}:(role|user|assumed-role)/\S+$")
POLICY_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
PROVIDER_TYPES = {"EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "STANDARD"}
NODE_TYPES = {"EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"}
EKSCTL_TYPES = {"STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX"}
RESERVED_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
META = {"depends_on", "count", "for_each", "provider", "lifecycle"}
ENTRY_ATTRS = {"cluster_name", "principal_arn", "type", "kubernetes_groups", "user_name", "tags"}
ASSOCIATION_ATTRS = {"cluster_name", "principal_arn", "policy_arn", "access_scope"}


def scope_problems(kind, namespaces):
    if kind not in ("cluster", "namespace"):
        return [f"access scope type {kind!r} is not cluster or namespace"]
    if kind == "cluster" and namespaces:
        return ["a cluster scope takes no namespaces"]
    if kind == "namespace" and not namespaces:
        return ["a namespace scope needs at least one namespace"]
    return []


def username_problems(name):
    if name is None:
        return []
    for p in RESERVED_PREFIXES:
        if name.startswith(p) and not name.startswith("system:node:"):
            return [f"username {name!r} starts with {p!r}, which EKS reserves"]
    if "{{SessionName}}" in name and ":{{SessionName}}" not in name:
        return [f"username {name!r}: {{{{SessionName}}}} must follow a ':'"]
    return []


def unwrap(v):
    """hcl2json gives blocks as lists of one body, references as ${...}."""
    if isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict):
        return v[0]
    return v


def check_terraform(doc):
    """Own schema check on hcl2json's output of one file."""
    problems = []
    declared = set()
    resources = doc.get("resource", {})
    for kind, named in resources.items():
        for name, bodies in named.items():
            body = unwrap(bodies)
            address = f"{kind}.{name}"
            declared.add(address)
            attrs = set(body) - META
            if kind == "aws_eks_access_entry":
                extra = attrs - ENTRY_ATTRS
                if extra:
                    problems.append(f"{address}: unknown attributes {sorted(extra)}")
                for need in ("cluster_name", "principal_arn"):
                    if need not in body:
                        problems.append(f"{address}: no {need}")
                arn = body.get("principal_arn", "")
                if not PRINCIPAL_ARN.match(arn):
                    problems.append(f"{address}: principal_arn {arn!r} is not an IAM principal ARN")
                t = body.get("type", "STANDARD")
                if t not in PROVIDER_TYPES:
                    problems.append(f"{address}: type {t!r} is not one of {sorted(PROVIDER_TYPES)}")
                if t in NODE_TYPES and ("kubernetes_groups" in body or "user_name" in body):
                    problems.append(f"{address}: a {t} entry takes no groups or username")
                problems += [f"{address}: {p}" for p in username_problems(body.get("user_name"))]
                groups = body.get("kubernetes_groups", [])
                if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                    problems.append(f"{address}: kubernetes_groups is not a list of strings")
                elif any(g.startswith("system:") for g in groups):
                    problems.append(f"{address}: EKS refuses groups starting with system:")
            elif kind == "aws_eks_access_policy_association":
                extra = attrs - ASSOCIATION_ATTRS
                missing = ASSOCIATION_ATTRS - attrs
                if extra:
                    problems.append(f"{address}: unknown attributes {sorted(extra)}")
                if missing:
                    problems.append(f"{address}: missing {sorted(missing)}")
                if not PRINCIPAL_ARN.match(body.get("principal_arn", "")):
                    problems.append(f"{address}: principal_arn is not an IAM principal ARN")
                if not POLICY_ARN.match(body.get("policy_arn", "")):
                    problems.append(f"{address}: policy_arn {body.get('policy_arn')!r} is not an access policy ARN")
                scopes = body.get("access_scope", [])
                if not isinstance(scopes, list) or len(scopes) != 1:
                    problems.append(f"{address}: access_scope must appear exactly once")
                else:
                    scope = scopes[0]
                    extra = set(scope) - {"type", "namespaces"}
                    if extra:
                        problems.append(f"{address}: access_scope has unknown attributes {sorted(extra)}")
                    problems += [f"{address}: {p}" for p in scope_problems(scope.get("type"), scope.get("namespaces", []))]
            else:
                problems.append(f"{address}: not a resource type export writes")
    for imp in doc.get("import", []):
        to = imp.get("to", "")
        ident = imp.get("id", "")
        target = to[2:-1] if to.startswith("${") and to.endswith("}") else to
        if target.startswith("module."):
            # terraform-aws-eks addresses: module.NAME.aws_eks_access_entry.this["KEY"]
            if not re.match(r'^module\.[A-Za-z0-9_-]+\.(aws_eks_access_entry|aws_eks_access_policy_association)\.this\["[^"]+"\]$', target):
                problems.append(f"import to {target!r}: not an address of terraform-aws-eks's access entries")
        elif target not in declared:
            problems.append(f"import to {target!r}: no such resource in the file")
        if ".aws_eks_access_policy_association." in f".{target}" or target.startswith("aws_eks_access_policy_association."):
            parts = ident.split("#")
            if len(parts) != 3 or not PRINCIPAL_ARN.match(parts[1]) or not POLICY_ARN.match(parts[2]):
                problems.append(f"import {target}: id {ident!r} is not CLUSTER#PRINCIPAL_ARN#POLICY_ARN")
        else:
            cluster, _, arn = ident.partition(":")
            if not cluster or not PRINCIPAL_ARN.match(arn):
                problems.append(f"import {target}: id {ident!r} is not CLUSTER:PRINCIPAL_ARN")
    return problems


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref X) kept as plain values."""


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)


def check_import_resources(path):
    problems = []
    template = os.path.join(os.path.dirname(path), "import-template.cfn.yaml")
    with open(path, encoding="utf-8") as f:
        items = json.load(f)
    with open(template, encoding="utf-8") as f:
        resources = (yaml.load(f, Loader=CfnLoader) or {}).get("Resources", {})
    for it in items:
        rid = it.get("LogicalResourceId")
        if it.get("ResourceType") != "AWS::EKS::AccessEntry":
            problems.append(f"{rid}: ResourceType is not AWS::EKS::AccessEntry")
        if set(it.get("ResourceIdentifier", {})) != {"ClusterName", "PrincipalArn"}:
            problems.append(f"{rid}: the identifier is not {{ClusterName, PrincipalArn}}")
        res = resources.get(rid)
        if res is None:
            problems.append(f"{rid}: not a resource of {os.path.basename(template)}")
            continue
        if res.get("DeletionPolicy") not in ("Retain", "RetainExceptOnCreate"):
            problems.append(f"{rid}: an imported resource needs DeletionPolicy Retain")
        if res.get("Properties", {}).get("PrincipalArn") != it["ResourceIdentifier"].get("PrincipalArn"):
            problems.append(f"{rid}: PrincipalArn differs from the template's")
    return problems


def check_eksctl(doc, validator):
    problems = [f"schema: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(doc)]
    entries = ((doc.get("accessConfig") or {}).get("accessEntries")) or []
    seen = set()
    for i, e in enumerate(entries):
        where = f"accessEntries[{i}]"
        arn = e.get("principalARN", "")
        if not PRINCIPAL_ARN.match(arn):
            problems.append(f"{where}: principalARN {arn!r} is not an IAM principal ARN")
        if arn in seen:
            problems.append(f"{where}: {arn} twice")
        seen.add(arn)
        t = e.get("type", "STANDARD")
        if t not in EKSCTL_TYPES:
            problems.append(f"{where}: type {t!r} is not one eksctl takes")
        if t in NODE_TYPES and (e.get("kubernetesGroups") or e.get("kubernetesUsername") or e.get("accessPolicies")):
            problems.append(f"{where}: a {t} entry takes no groups, username or policies")
        problems += [f"{where}: {p}" for p in username_problems(e.get("kubernetesUsername"))]
        for j, p in enumerate(e.get("accessPolicies") or []):
            if not POLICY_ARN.match(p.get("policyARN", "")):
                problems.append(f"{where}.accessPolicies[{j}]: not a cluster access policy ARN")
            scope = p.get("accessScope") or {}
            problems += [f"{where}.accessPolicies[{j}]: {x}" for x in scope_problems(scope.get("type"), scope.get("namespaces") or [])]
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True, help="eksctl's ClusterConfig JSON schema")
    ap.add_argument("--hcl2json", required=True, help="the node script that runs @cdktf/hcl2json")
    ap.add_argument("--cfn-lint", default="cfn-lint")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    files = sorted(
        os.path.join(root, n) for d in args.dirs for root, _, names in os.walk(d) for n in names
    )
    results = {}  # file -> problems

    tf = [f for f in files if f.endswith(".tf")]
    if tf:
        run = subprocess.run(["node", args.hcl2json, *tf], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"hcl2json refused: {run.stderr.strip()}")
            return 1
        parsed = json.loads(run.stdout)
        for f in tf:
            problems = []
            try:
                with open(f, encoding="utf-8") as h:
                    hcl2.load(h, serialization_options=SerializationOptions(strip_string_quotes=True, explicit_blocks=False))
            except Exception as e:  # noqa: BLE001 (any parse error is the finding)
                problems.append(f"python-hcl2: {type(e).__name__}: {e}".splitlines()[0])
            problems += check_terraform(parsed[f])
            results[f] = problems

    cfn = [f for f in files if f.endswith(".cfn.yaml")]
    if cfn:
        run = subprocess.run([args.cfn_lint, "--non-zero-exit-code", "error", "--format", "parseable", *cfn], capture_output=True, text=True)
        for f in cfn:
            results[f] = [f"cfn-lint: {line}" for line in run.stdout.splitlines() if line.startswith(f + ":") and ":E" in line]
        if run.returncode != 0 and not any(results[f] for f in cfn):
            results[cfn[0]].append(f"cfn-lint exited {run.returncode}: {(run.stdout + run.stderr).strip()[:500]}")

    for f in files:
        if os.path.basename(f) == "import-resources.json":
            results[f] = check_import_resources(f)
        elif f.endswith((".yaml", ".yml")) and not f.endswith(".cfn.yaml"):
            with open(f, encoding="utf-8") as h:
                doc = yaml.safe_load(h)
            if isinstance(doc, dict) and doc.get("kind") == "ClusterConfig":
                results[f] = check_eksctl(doc, validator)

    failed = 0
    for f in sorted(results):
        if results[f]:
            failed += 1
            print(f"FAIL {f}")
            for p in results[f]:
                print(f"     {p}")
        else:
            print(f"ok   {f}")
    unchecked = [f for f in files if f not in results]
    for f in unchecked:
        print(f"FAIL {f}: no validator for this file")
    failed += len(unchecked)
    total = len(results) + len(unchecked)
    print(f"validate-export: {failed} of {total} files failed" if failed else f"validate-export: all {total} files valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
