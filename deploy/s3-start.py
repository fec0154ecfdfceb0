"""The S3 server of deploy/docker-compose.yml: moto's server, with jupyter-ide's bucket made."""

import os
import subprocess
import sys
import time

import boto3

# Every address of its container: it sits on the internal `data` network only.
LISTEN = "0.0.0.0"  # noqa: S104
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", LISTEN, "-p", "5000"])
client = boto3.client("s3", endpoint_url="http://127.0.0.1:5000")
for _ in range(120):
    try:
        client.create_bucket(Bucket=os.environ.get("S3_BUCKET", "jupyter-ide"))
        break
    except Exception:  # the server is still starting
        time.sleep(0.5)
sys.exit(server.wait())
