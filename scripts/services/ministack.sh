#!/usr/bin/env bash
# Starts ministack (an AWS emulator that, unlike moto, verifies presigned URLs
# and handles reserved characters in keys) on loopback, in its own virtualenv
# under var/ since it pins its own botocore. Creates an IAM user's key (the
# root test/test key skips verification) and a bucket, and prints the
# environment the storage tests read. Usage: ministack.sh start|stop
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_MINISTACK_PORT:-4599}"
VENV="$PRESSROOM_VAR/ministack-venv"
PIDFILE="$PRESSROOM_VAR/run/ministack-test-$PORT.pid"
STATE="$PRESSROOM_VAR/run/ministack-test-$PORT.env"
BUCKET="pressroom-presign"

case "${1:-start}" in
start)
    if [ ! -x "$VENV/bin/ministack" ]; then
        log "installing ministack into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "ministack==1.5.33" boto3 >"$PRESSROOM_VAR/log/pip-ministack.log" 2>&1 \
            || { cat "$PRESSROOM_VAR/log/pip-ministack.log" >&2; exit 1; }
    fi
    if port_open 127.0.0.1 "$PORT"; then
        if [ -f "$STATE" ]; then
            cat "$STATE"
            exit 0
        fi
        [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
        sleep 0.5
        port_open 127.0.0.1 "$PORT" && { log "port $PORT is taken by another process"; exit 1; }
    fi
    AUTH=true BIND_HOST=127.0.0.1 GATEWAY_PORT="$PORT" nohup "$VENV/bin/ministack" \
        >"$PRESSROOM_VAR/log/ministack-test.log" 2>&1 &
    echo $! >"$PIDFILE"
    wait_for_port 127.0.0.1 "$PORT" 60
    "$VENV/bin/python" - "$PORT" "$BUCKET" >"$STATE.tmp" <<'PY'
import json, sys, boto3
port, bucket = sys.argv[1], sys.argv[2]
endpoint = f"http://127.0.0.1:{port}"
root = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
iam = boto3.client("iam", **root)
iam.create_user(UserName="pressroom-presign")
iam.put_user_policy(UserName="pressroom-presign", PolicyName="s3-all",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="pressroom-presign")["AccessKey"]
boto3.client("s3", **root).create_bucket(Bucket=bucket)
print(f"export PRESSROOM_TEST_MINISTACK_ENDPOINT={endpoint}")
print(f"export PRESSROOM_TEST_MINISTACK_ACCESS_KEY={key['AccessKeyId']}")
print(f"export PRESSROOM_TEST_MINISTACK_SECRET_KEY={key['SecretAccessKey']}")
print(f"export PRESSROOM_TEST_MINISTACK_BUCKET={bucket}")
PY
    mv "$STATE.tmp" "$STATE"
    log "ministack started on 127.0.0.1:$PORT (auth enforced)"
    cat "$STATE"
    ;;
stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE" "$STATE"
    ;;
esac
