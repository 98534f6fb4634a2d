"""boto3 side of bench/storage: the same objects, sizes and repetitions as
StorageBench, through boto3's transfer manager (upload_file/download_file,
its defaults: multipart from 8 MiB, 8 MiB parts, 10 threads, unless
BENCH_MULTIPART_THRESHOLD, BENCH_PART_SIZE or BENCH_CONCURRENCY set them for
both clients)."""
import json, os, sys, tempfile, time, uuid

import boto3
from boto3.s3.transfer import TransferConfig

sizes = [int(s) for s in os.environ.get("BENCH_SIZES_MIB", "1,16,128").split(",")]
s3 = boto3.client(
    "s3", endpoint_url=os.environ["BENCH_ENDPOINT"], region_name=os.environ.get("BENCH_REGION", "us-east-1"),
    aws_access_key_id=os.environ["BENCH_ACCESS_KEY"], aws_secret_access_key=os.environ["BENCH_SECRET_KEY"],
)
bucket = os.environ["BENCH_BUCKET"]
run = uuid.uuid4().hex[:8]


# The same overrides as StorageBench, so both clients can be run with one
# part size and concurrency; unset, each runs with its own defaults.
transfer = {}
if os.environ.get("BENCH_MULTIPART_THRESHOLD"):
    transfer["multipart_threshold"] = int(os.environ["BENCH_MULTIPART_THRESHOLD"])
if os.environ.get("BENCH_PART_SIZE"):
    transfer["multipart_chunksize"] = int(os.environ["BENCH_PART_SIZE"])
if os.environ.get("BENCH_CONCURRENCY"):
    transfer["max_concurrency"] = int(os.environ["BENCH_CONCURRENCY"])
config = TransferConfig(**transfer)


def repetitions(mib):
    return 30 if mib <= 1 else 8 if mib <= 16 else 3


with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_WORKDIR")) as work:
    warm = os.path.join(work, "warm")
    with open(warm, "wb") as f:
        f.write(os.urandom(1 << 20))
    s3.upload_file(warm, bucket, f"boto3-{run}/warmup")
    s3.download_file(bucket, f"boto3-{run}/warmup", os.path.join(work, "warm-out"))
    for mib in sizes:
        src = os.path.join(work, f"src-{mib}")
        with open(src, "wb") as f:
            f.write(os.urandom(mib << 20))
        keys = [f"boto3-{run}/{mib}MiB-{i}" for i in range(repetitions(mib))]
        start = time.perf_counter()
        for key in keys:
            s3.upload_file(src, bucket, key, Config=config)
        put = time.perf_counter() - start
        dst = os.path.join(work, f"dst-{mib}")
        start = time.perf_counter()
        for key in keys:
            s3.download_file(bucket, key, dst, Config=config)
        get = time.perf_counter() - start
        for direction, seconds in (("PUT", put), ("GET", get)):
            print(json.dumps({"client": "boto3", "direction": direction, "size_mib": mib, "objects": len(keys),
                              "seconds": seconds, "mib_per_s": mib * len(keys) / seconds}), flush=True)
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
        os.remove(src)
    s3.delete_object(Bucket=bucket, Key=f"boto3-{run}/warmup")
