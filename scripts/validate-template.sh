#!/usr/bin/env bash
# Lints and validates template.yaml (or the file given as $1) offline: cfn-lint, then plain `sam validate`.
#
# Plain `sam validate` (not `--lint` alone) runs the SAM transform, which is what catches SAM-level
# mistakes such as a DefaultAuthorizer that names no defined authorizer. Both tools run offline;
# sam only needs a region name. Installs cfn-lint / aws-sam-cli with pip when they are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
template="${1:-template.yaml}"

missing=()
command -v cfn-lint >/dev/null 2>&1 || missing+=(cfn-lint)
command -v sam >/dev/null 2>&1 || missing+=(aws-sam-cli)
if ((${#missing[@]})); then
    echo "installing ${missing[*]} with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}"
    hash -r
fi

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

status=0

echo "== cfn-lint $template"
if cfn-lint "$template"; then
    echo "cfn-lint: no findings"
else
    echo "cfn-lint: FAILED" >&2
    status=1
fi

echo "== sam validate --template-file $template (region $AWS_DEFAULT_REGION)"
# sam prints feature-toggle chatter on stderr; keep real errors visible but drop that noise.
if sam validate --template-file "$template" 2> >(grep -v "not available in Feature Toggle Config" >&2); then
    echo "sam validate: ok"
else
    echo "sam validate: FAILED" >&2
    status=1
fi

exit "$status"
