#!/usr/bin/env bash
# Starts moto in server mode on loopback with signature checking switched on,
# creates an IAM user with an access key and the test buckets, and prints the
# environment the storage tests read. Usage: s3.sh start|stop
# Idempotent: a running server is reused (its credentials are kept in var/).
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_S3_PORT:-5399}"
PIDFILE="$PRESSROOM_VAR/run/moto-test-$PORT.pid"
STATE="$PRESSROOM_VAR/run/moto-test-$PORT.env"
BUCKET="pressroom-test"

case "${1:-start}" in
start)
    # moto from the system's Python if it has moto and boto3, else from a
    # virtualenv of our own (a fresh Debian refuses system-wide pip installs).
    MOTO_SERVER=moto_server
    PYTHON=python3
    if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c "import boto3, moto" 2>/dev/null; then
        VENV="$PRESSROOM_VAR/moto-venv"
        if [ ! -x "$VENV/bin/moto_server" ]; then
            log "installing moto[server] into $VENV"
            python3 -m venv "$VENV"
            "$VENV/bin/pip" install -q "moto[server]>=5.2.1,<5.3" boto3 >"$PRESSROOM_VAR/log/pip-moto.log" 2>&1 \
                || { cat "$PRESSROOM_VAR/log/pip-moto.log" >&2; exit 1; }
        fi
        MOTO_SERVER="$VENV/bin/moto_server"
        PYTHON="$VENV/bin/python"
    fi
    if port_open 127.0.0.1 "$PORT"; then
        if [ -f "$STATE" ]; then
            cat "$STATE"
            exit 0
        fi
        # A server from a half-finished start: replace it.
        [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
        sleep 0.5
        port_open 127.0.0.1 "$PORT" && { log "port $PORT is taken by another process"; exit 1; }
    fi
    nohup "$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >"$PRESSROOM_VAR/log/moto-test.log" 2>&1 &
    echo $! >"$PIDFILE"
    wait_for_port 127.0.0.1 "$PORT"
    # While auth is still off: IAM user, key and buckets; then switch auth on.
    "$PYTHON" - "$PORT" "$BUCKET" >"$STATE.tmp" <<'PY'
import json, sys, boto3
port, bucket = sys.argv[1], sys.argv[2]
endpoint = f"http://127.0.0.1:{port}"
common = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **common)
iam.create_user(UserName="pressroom-test")
iam.put_user_policy(UserName="pressroom-test", PolicyName="s3-all",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="pressroom-test")["AccessKey"]
s3 = boto3.client("s3", **common)
for name in (bucket, bucket + "-bench"):
    s3.create_bucket(Bucket=name)
print(f"export PRESSROOM_TEST_S3_ENDPOINT={endpoint}")
print(f"export PRESSROOM_TEST_S3_ACCESS_KEY={key['AccessKeyId']}")
print(f"export PRESSROOM_TEST_S3_SECRET_KEY={key['SecretAccessKey']}")
print(f"export PRESSROOM_TEST_S3_BUCKET={bucket}")
print(f"export PRESSROOM_TEST_S3_REGION=us-east-1")
print(f"export PRESSROOM_TEST_S3_PYTHON={sys.executable}")
PY
    curl -sf -X POST -H "Content-Type: text/plain" --data-binary 0 "http://127.0.0.1:$PORT/moto-api/reset-auth" >/dev/null \
        || { log "could not switch moto auth on"; exit 1; }
    mv "$STATE.tmp" "$STATE"
    log "moto_server started on 127.0.0.1:$PORT (auth enforced)"
    cat "$STATE"
    ;;
stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE" "$STATE"
    ;;
esac
