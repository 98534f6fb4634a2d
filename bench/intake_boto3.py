"""Reference sweep for bench/intake: boto3 lists a prefix of N drafts and
deletes them with DeleteObjects (1,000 a request), against the same moto.
No order check, no records: the floor any sweep of that store pays."""
import json, os, sys, time, uuid
from concurrent.futures import ThreadPoolExecutor
import boto3

count = int(os.environ.get("BENCH_SWEEP_OBJECTS", "10000"))
s3 = boto3.client("s3", endpoint_url=os.environ["BENCH_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["BENCH_ACCESS_KEY"], aws_secret_access_key=os.environ["BENCH_SECRET_KEY"])
bucket = os.environ["BENCH_BUCKET"]
prefix = f"boto3sweep{uuid.uuid4().hex[:6]}-"
with ThreadPoolExecutor(32) as pool:
    list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"{prefix}{i:05d}.jpg", Body=bytes([i % 251]) * 2048), range(count)))
started = time.monotonic()
deleted = 0
token = None
while True:
    kwargs = dict(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
    if token:
        kwargs["ContinuationToken"] = token
    page = s3.list_objects_v2(**kwargs)
    keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        deleted += len(keys)
    if not page.get("IsTruncated"):
        break
    token = page["NextContinuationToken"]
elapsed = time.monotonic() - started
assert deleted == count, (deleted, count)
print(json.dumps({"client": "boto3", "what": "sweep", "objects": deleted, "seconds": elapsed, "objects_per_s": deleted / elapsed}))
