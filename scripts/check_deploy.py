"""Validates docker/ and k8s/ with linters and schemas from package registries.

Run through scripts/check-deploy.sh, which installs the tools. Checks:
  - every Kubernetes manifest against the Kubernetes JSON schemas (kubernetes-validate,
    strict: unknown fields fail), the ServiceMonitor against the prometheus-operator CRD's
    models (cloudcoil), with unknown fields failing too;
  - k8s/kustomization.yaml lists exactly the manifests in k8s/;
  - k8s/frontier-configmap.yaml is scripts/k8s-frontier.sh's output for the default model;
  - docker/compose.yaml against the Compose specification's JSON schema, and every bind
    mount and build path in it exists;
  - every COPY source in docker/Dockerfile* exists and is let through by .dockerignore,
    and every workspace member is copied (cargo needs them all to build any one);
  - the Dockerfiles' Rust version is rust-toolchain.toml's.
Cross-references with the server itself (flags, env vars, routes, metrics) are checked by
`server/tests/deploy.rs`.
"""

import fnmatch
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml
from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor

ROOT = pathlib.Path(__file__).resolve().parent.parent
failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def ok(message):
    print(f"ok   {message}")


def strip_empty(value):
    """A manifest without nulls and empty containers (the model dump drops them)."""
    if isinstance(value, dict):
        out = {k: strip_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [strip_empty(v) for v in value]
    return value


def check_k8s(schema_version):
    manifests = sorted(p for p in (ROOT / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    kustomization = yaml.safe_load((ROOT / "k8s/kustomization.yaml").read_text())
    listed = sorted(kustomization["resources"])
    if listed != [p.name for p in manifests]:
        fail(f"k8s/kustomization.yaml lists {listed}, k8s/ has {[p.name for p in manifests]}")
    else:
        ok(f"k8s/kustomization.yaml lists all {len(listed)} manifests")
    core = []
    for path in manifests:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "ServiceMonitor":
                try:
                    model = ServiceMonitor.model_validate(doc)
                except Exception as e:  # noqa: BLE001 - pydantic's error says what is wrong
                    fail(f"{path.name}: {e}")
                    continue
                dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
                if strip_empty(dumped) != strip_empty(doc):
                    fail(f"{path.name}: fields the ServiceMonitor CRD does not know: "
                         f"{json.dumps(doc)} vs {json.dumps(dumped)}")
                else:
                    ok(f"{path.name}: ServiceMonitor valid against monitoring.coreos.com/v1")
            else:
                core.append(path)
    core = sorted(set(core))
    result = subprocess.run(
        ["kubernetes-validate", "--strict", "-k", schema_version, *map(str, core)],
        capture_output=True, text=True,
    )
    print(result.stdout, end="")
    if result.returncode != 0 or "ERROR" in result.stdout:
        fail(f"kubernetes-validate: {result.stderr.strip()}")
    else:
        ok(f"{len(core)} manifests valid against Kubernetes {schema_version} (strict)")


def check_frontier_configmap():
    frontier = ROOT / "models/sst2/frontier.json"
    generated = subprocess.run(
        [str(ROOT / "scripts/k8s-frontier.sh"), str(frontier)],
        capture_output=True, text=True, check=True,
    ).stdout
    committed = (ROOT / "k8s/frontier-configmap.yaml").read_text()
    if generated != committed:
        fail("k8s/frontier-configmap.yaml is not scripts/k8s-frontier.sh models/sst2/frontier.json")
        return
    data = yaml.safe_load(committed)["data"]["frontier.json"]
    if data != frontier.read_text():
        fail("the ConfigMap's frontier.json differs from models/sst2/frontier.json")
    else:
        ok("k8s/frontier-configmap.yaml carries models/sst2/frontier.json byte for byte")


def check_compose(schema_path):
    path = ROOT / "docker/compose.yaml"
    compose = yaml.safe_load(path.read_text())
    schema = json.loads(pathlib.Path(schema_path).read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose))
    for e in errors:
        fail(f"compose.yaml: {'/'.join(map(str, e.path))}: {e.message}")
    if not errors:
        ok("docker/compose.yaml valid against the Compose specification schema")
    before = len(failures)
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = (path.parent / build["context"]).resolve()
            if not (context / build["dockerfile"]).is_file():
                fail(f"compose.yaml: {name}: no {build['dockerfile']} in {context}")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")) and not (path.parent / source).exists():
                fail(f"compose.yaml: {name}: mount source {source} does not exist")
    if len(failures) == before:
        ok("docker/compose.yaml: build files and mount sources exist")


def dockerignore_allows(relative):
    """Whether .dockerignore (last matching pattern wins) lets `relative` into the context."""
    allowed = True
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        parts = pathlib.PurePosixPath(relative).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            allowed = negate
    return allowed


def workspace_members():
    """The `members` of the root Cargo.toml's `[workspace]`."""
    text = (ROOT / "Cargo.toml").read_text()
    block = re.search(r"^members\s*=\s*\[(.*?)\]", text, re.M | re.S)
    if not block:
        fail("Cargo.toml: no workspace members found")
        return []
    return re.findall(r'"([^"]+)"', block.group(1))


def check_dockerfiles():
    toolchain = re.search(r'channel\s*=\s*"([^"]+)"', (ROOT / "rust-toolchain.toml").read_text())
    for path in sorted((ROOT / "docker").glob("Dockerfile*")):
        text = path.read_text()
        version = re.search(r"^ARG RUST_VERSION=(\S+)", text, re.M)
        if not version or version.group(1) != toolchain.group(1):
            fail(f"{path.name}: RUST_VERSION is not rust-toolchain.toml's {toolchain.group(1)}")
        copies, before = 0, len(failures)
        sources = set()
        for line in text.splitlines():
            words = line.split()
            if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
                continue
            for source in words[1:-1]:
                copies += 1
                sources.add(source.rstrip("/"))
                if not (ROOT / source).exists():
                    fail(f"{path.name}: COPY {source}: not in the repository")
                elif not dockerignore_allows(source):
                    fail(f"{path.name}: COPY {source}: excluded by .dockerignore")
        # cargo needs every workspace member's sources, even to build one package.
        for member in workspace_members():
            if member not in sources:
                fail(f"{path.name}: workspace member {member}/ is never copied")
            elif not dockerignore_allows(f"{member}/src/lib.rs"):
                fail(f"{path.name}: workspace member {member}/ is excluded by .dockerignore")
        if len(failures) == before:
            ok(
                f"{path.name}: Rust {toolchain.group(1)}, {copies} COPY sources present and "
                f"allowed, every workspace member copied"
            )


def main():
    schema_version, compose_schema = sys.argv[1], sys.argv[2]
    check_k8s(schema_version)
    check_frontier_configmap()
    check_compose(compose_schema)
    check_dockerfiles()
    if failures:
        print(f"{len(failures)} deployment check(s) failed")
        sys.exit(1)
    print("deployment checks passed")


if __name__ == "__main__":
    main()
