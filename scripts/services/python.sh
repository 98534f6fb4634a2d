#!/usr/bin/env bash
# Not a server: a Python virtualenv with redis-py, in which the tests run the
# code of docs/integration.md (a shop's frontend talking to Pressroom with
# plain XADD/XREAD). Prints the interpreter the tests use.
# Usage: python.sh start|stop
source "$(dirname "$0")/../lib.sh"
VENV="$PRESSROOM_VAR/integration-venv"

case "${1:-start}" in
start)
    ensure_apt python3 python3-venv
    if ! "$VENV/bin/python" -c 'import redis' 2>/dev/null; then
        log "installing redis-py into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "redis>=5,<9" >"$PRESSROOM_VAR/log/pip-integration.log" 2>&1 \
            || { cat "$PRESSROOM_VAR/log/pip-integration.log" >&2; exit 1; }
    fi
    echo "export PRESSROOM_TEST_PYTHON=$VENV/bin/python"
    ;;
stop)
    ;;
esac
