#!/usr/bin/env bash
# The release workflow's version check, run from the repository root: a tag vX.Y.Z releases only when the
# chart's version and appVersion (charts/jobherald/Chart.yaml) and package.json's version are all X.Y.Z, so
# the chart that is pushed installs exactly the image that is pushed (values.yaml's image.tag defaults to
# appVersion). Prints version=X.Y.Z (for $GITHUB_OUTPUT); otherwise names every mismatch and exits 1.
#
# Usage: .github/scripts/release-version.sh vX.Y.Z[-PRERELEASE]
set -euo pipefail

tag=${1:?usage: release-version.sh vX.Y.Z}
if [[ ! $tag =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$ ]]; then
  echo "release: tag $tag is not vMAJOR.MINOR.PATCH[-PRERELEASE]" >&2
  exit 1
fi
version=${BASH_REMATCH[1]}

# A top-level key of Chart.yaml, quoted or not.
chart_field() {
  sed -n "s/^$1:[[:space:]]*[\"']\{0,1\}\([^\"'[:space:]]*\)[\"']\{0,1\}[[:space:]]*\$/\1/p" charts/jobherald/Chart.yaml
}
status=0
check() {
  if [[ $2 != "$version" ]]; then
    echo "release: $1 is '$2', the tag $tag says $version" >&2
    status=1
  fi
}
check "charts/jobherald/Chart.yaml version" "$(chart_field version)"
check "charts/jobherald/Chart.yaml appVersion" "$(chart_field appVersion)"
check "package.json version" "$(node -p 'require("./package.json").version')"
[[ $status -eq 0 ]] && echo "version=$version"
exit $status
