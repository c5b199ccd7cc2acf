#!/usr/bin/env python3
"""A provider registry for tests: Terraform's provider registry protocol
(v1) over TLS on loopback, serving one release directory as
scripts/release.sh writes it.

    registry_server.py --dist DIR --cert PEM --key PEM --key-id KEYID
                       [--namespace eks-tools] [--type eks]

What it serves, as the public registry does:
  GET /.well-known/terraform.json            service discovery: providers.v1
  GET /v1/providers/NS/TYPE/versions         every version and platform in DIR
  GET /v1/providers/NS/TYPE/V/download/OS/ARCH
        filename, download_url, shasum (the zip's line in SHA256SUMS, as the
        registry records it at publication), shasums_url,
        shasums_signature_url and signing_keys.gpg_public_keys (the
        ASCII-armoured key in DIR, ..._signing-key.asc, with KEYID)
  GET /files/NAME                            the files of DIR
It prints "listening on https://localhost:PORT" once it accepts connections
(PORT is free, chosen by the kernel) and logs each request on stderr. It
serves what DIR holds at each request, so a test can tamper with a file
after publication. It owns no cleanup: the test that starts it kills it.

Python's standard library has an HTTPS server (http.server + ssl), so this
needs no package and starts in a fraction of a second.
"""

import argparse
import hashlib
import json
import os
import re
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZIP = re.compile(r"^terraform-provider-(?P<type>[a-z0-9-]+)_(?P<version>[0-9][^_]*)_(?P<os>[a-z0-9]+)_(?P<arch>[a-z0-9]+)\.zip$")


def releases(dist, provider_type):
    """{version: [(os, arch, zip name)]} from the zip names in dist."""
    found = {}
    for name in sorted(os.listdir(dist)):
        m = ZIP.match(name)
        if m and m["type"] == provider_type:
            found.setdefault(m["version"], []).append((m["os"], m["arch"], name))
    return found


def shasum_of(dist, sums_name, zip_name):
    """The zip's checksum as SHA256SUMS records it."""
    with open(os.path.join(dist, sums_name), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1] == zip_name:
                return parts[0]
    return None


def make_handler(args):
    prefix = "/v1/providers/"

    class Handler(BaseHTTPRequestHandler):
        def send_json(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def not_found(self):
            self.send_json(404, {"errors": ["Not Found"]})

        def base(self):
            return "https://%s" % self.headers.get("Host", "localhost")

        def do_GET(self):  # noqa: N802 (the http.server API)
            path = self.path.split("?", 1)[0]
            if path == "/.well-known/terraform.json":
                return self.send_json(200, {"providers.v1": prefix})
            if path.startswith("/files/"):
                return self.send_file(path[len("/files/"):])
            if not path.startswith(prefix):
                return self.not_found()
            parts = path[len(prefix):].strip("/").split("/")
            if parts[:2] != [args.namespace, args.type]:
                return self.not_found()
            found = releases(args.dist, args.type)
            if parts[2:] == ["versions"]:
                return self.send_json(200, {"versions": [
                    {"version": v, "protocols": ["6.0"],
                     "platforms": [{"os": o, "arch": a} for o, a, _ in zips]}
                    for v, zips in found.items()]})
            if len(parts) == 6 and parts[3] == "download":
                version, os_name, arch = parts[2], parts[4], parts[5]
                match = [z for o, a, z in found.get(version, []) if (o, a) == (os_name, arch)]
                if not match:
                    return self.not_found()
                return self.send_download(version, os_name, arch, match[0])
            return self.not_found()

        def send_download(self, version, os_name, arch, zip_name):
            sums = "terraform-provider-%s_%s_SHA256SUMS" % (args.type, version)
            key_file = os.path.join(args.dist, "terraform-provider-%s_%s_signing-key.asc" % (args.type, version))
            with open(key_file, encoding="utf-8") as f:
                armor = f.read()
            files = self.base() + "/files/"
            self.send_json(200, {
                "protocols": ["6.0"],
                "os": os_name,
                "arch": arch,
                "filename": zip_name,
                "download_url": files + zip_name,
                "shasums_url": files + sums,
                "shasums_signature_url": files + sums + ".sig",
                "shasum": shasum_of(args.dist, sums, zip_name),
                "signing_keys": {"gpg_public_keys": [{
                    "key_id": args.key_id,
                    "ascii_armor": armor,
                    "trust_signature": "",
                    "source": args.namespace,
                    "source_url": None,
                }]},
            })

        def do_HEAD(self):  # noqa: N802 (Terraform asks before it downloads)
            name = self.path.split("?", 1)[0][len("/files/"):]
            path = os.path.join(args.dist, name)
            if not self.path.startswith("/files/") or "/" in name or not os.path.isfile(path):
                return self.not_found()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(os.path.getsize(path)))
            self.end_headers()

        def send_file(self, name):
            if "/" in name or name.startswith("."):
                return self.not_found()
            path = os.path.join(args.dist, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                return self.not_found()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *a):
            sys.stderr.write("registry: %s\n" % (fmt % a))

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dist", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--namespace", default="eks-tools")
    p.add_argument("--type", default="eks")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    print("listening on https://localhost:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
