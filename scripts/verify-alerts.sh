#!/usr/bin/env bash
# Checks the monitoring files: `promtool check rules` on the alert rules,
# `promtool test rules` on their unit tests (config/prometheus/alerts.test.yaml,
# synthetic series -> expected alerts), and that the Grafana dashboard is JSON.
# promtool comes from Debian's `prometheus` package (installed if missing; its
# server is not started by this script). Usage: scripts/verify-alerts.sh
source "$(dirname "$0")/lib.sh"
cd "$PRESSROOM_ROOT"

command -v promtool >/dev/null || ensure_apt prometheus

promtool check rules config/prometheus/alerts.yaml
(cd config/prometheus && promtool test rules alerts.test.yaml)
# Every dashboard query must be valid PromQL: they are checked as recording
# rules, with Grafana's variables replaced by plain values.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - config/grafana/pressroom-dashboard.json >"$work/dashboard-rules.yaml" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$queue", ".*")
        print(f"      - record: dashboard:panel_{panel['id']}:{target['refId']}")
        print(f"        expr: {json.dumps(expr)}")
PY
promtool check rules "$work/dashboard-rules.yaml"
log "alerts and dashboard: ok"
