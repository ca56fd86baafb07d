#!/usr/bin/env python3
"""Held-out detection check over a security team's whole estate of credentials.

The companion of benches/heldout.py (AI-provider keys), written the same way: apart from the
rules (rules/*.toml) and never tuned to them. Each provider's credential is generated at run time
in the format its own documentation gives (the URL is cited next to each generator; where the
documentation says little, the comment says what was assumed), and placed the way repositories
place it: generic placements (an .env line, a shell export, docker-compose, a GitHub Actions
workflow, a JSON config, Python settings, a Kubernetes Secret with base64 `data:`, terraform.tfvars,
a notebook cell) and the provider's own files (~/.aws/credentials, .npmrc, .pypirc, a service
account key file, a connection string in appsettings.json, id_rsa, ...). Hard negatives sit in the
same kinds of files: hashes, UUIDs, commit ids, lockfile integrity, base64 images, placeholders,
environment references, documentation sample values, connection strings without passwords,
public identifiers (Stripe publishable keys, Sentry DSNs, OAuth client ids, Supabase anon keys),
public keys and certificates, encrypted values, and ids next to provider names.

  python3 benches/heldout-estate.py ROSTER [--seed N] [--per-case K] [--json OUT] [--keep DIR]

A positive file counts as found when Roster reports a secret finding in it whose provider (or rule
id) contains one of the names accepted for that case (generic passwords and bearer JWTs accept any
secret finding); "covered" additionally requires that the reported secret and a planted value
contain one another; "flagged" counts a file when any secret finding, of any provider (the generic
rules included), covers a planted value. A negative file is a false positive when any secret
finding is reported in it.
Prints recall per provider, per family and overall, then the false-positive rate.
"""

import base64
import hashlib
import json
import os
import string
import subprocess
import sys
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from heldout import ALNUM, HEX, URLSAFE, r, setup  # noqa: E402  (benches/heldout.py)

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
UPALNUM = UPPER + DIGITS
LOALNUM = LOWER + DIGITS
B64 = ALNUM + "+/"
BASE62 = DIGITS + UPPER + LOWER


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def uuid4(rng):
    h = r(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def base62(n, width):
    s = ""
    while n:
        s = BASE62[n % 62] + s
        n //= 62
    return s.rjust(width, "0")


def crc_token(rng, prefix):
    # <prefix><30 base62 random><6 base62 CRC32 of the random part>: GitHub's format, which npm
    # adopted; checked against npm's published dummy token (npm_qkJaB6Mf...wf0LsakP).
    body = r(rng, ALNUM, 30)
    return prefix + body + base62(zlib.crc32(body.encode()), 6)


def password(rng):
    words = ["Harbor", "Maple", "Falcon", "Quartz", "Copper", "Summit", "Orchid", "Nimbus", "Velvet",
             "Cobalt", "Juniper", "Granite", "Saffron", "Tundra", "Lantern", "Marble"]
    style = rng.randrange(3)
    if style == 0:
        return r(rng, ALNUM + "!#%&*+-=?@^_", rng.randint(14, 22))
    if style == 1:
        return (rng.choice(words) + rng.choice("-_.!#") + str(rng.randint(10, 9999))
                + rng.choice("!@#$%&*") + rng.choice(words).lower() + r(rng, ALNUM, 3))
    return r(rng, ALNUM, rng.randint(18, 28))


def jwt(header, payload, sig_bytes):
    enc = lambda o: b64url(json.dumps(o, separators=(",", ":")).encode())
    return f"{enc(header)}.{enc(payload)}.{b64url(sig_bytes)}"


# ---------------------------------------------------------------- keys (DER / PEM / OpenSSH)

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)


def der_oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def seq(*items):
    return der(0x30, b"".join(items))


def pem(label, data, width=64):
    s = b64(data)
    return f"-----BEGIN {label}-----\n" + "\n".join(s[i:i + width] for i in range(0, len(s), width)) + f"\n-----END {label}-----\n"


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def probable_prime(n, rng):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return n in SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(rng, bits):
    while True:
        c = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if probable_prime(c, rng):
            return c


def rsa_key(rng, bits=2048):
    # A real RSA key (RFC 8017 RSAPrivateKey), generated from the seeded generator.
    e = 65537
    while True:
        p, q = prime(rng, bits // 2), prime(rng, bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    n, d = p * q, pow(e, -1, phi)
    return seq(der_int(0), der_int(n), der_int(e), der_int(d), der_int(p), der_int(q),
               der_int(d % (p - 1)), der_int(d % (q - 1)), der_int(pow(q, -1, p)))


def pkcs8(rsa_der):
    # RFC 5208 PrivateKeyInfo around an RSA key
    return seq(der_int(0), seq(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00"), der(0x04, rsa_der))


P256_P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
          0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def p256_mul(k, pt):
    def add(a, b):
        if a is None:
            return b
        if b is None:
            return a
        if a[0] == b[0] and (a[1] + b[1]) % P256_P == 0:
            return None
        if a == b:
            lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P256_P)
        else:
            lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P256_P)
        x = (lam * lam - a[0] - b[0]) % P256_P
        return x, (lam * (a[0] - x) - a[1]) % P256_P
    acc = None
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def ec_key(rng):
    # RFC 5915 ECPrivateKey on P-256 with its parameters and public key, as openssl writes it
    d = rng.randrange(1, P256_N)
    x, y = p256_mul(d, P256_G)
    pub = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return seq(der_int(1), der(0x04, d.to_bytes(32, "big")), der(0xA0, der_oid("1.2.840.10045.3.1.7")),
               der(0xA1, der(0x03, b"\x00" + pub)))


ED_P = 2 ** 255 - 19
ED_D = -121665 * pow(121666, -1, ED_P) % ED_P
ED_BY = 4 * pow(5, -1, ED_P) % ED_P


def ed_base():
    u, v = (ED_BY * ED_BY - 1) % ED_P, (ED_D * ED_BY * ED_BY + 1) % ED_P
    x = pow(u * pow(v, -1, ED_P), (ED_P + 3) // 8, ED_P)
    if (x * x - u * pow(v, -1, ED_P)) % ED_P:
        x = x * pow(2, (ED_P - 1) // 4, ED_P) % ED_P
    return (ED_P - x if x & 1 else x), ED_BY


def ed_pub(seed):
    def add(a, b):
        x1, y1 = a
        x2, y2 = b
        t = ED_D * x1 * x2 * y1 * y2 % ED_P
        return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, ED_P) % ED_P,
                (y1 * y2 + x1 * x2) * pow(1 - t, -1, ED_P) % ED_P)
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    acc, pt = (0, 1), ed_base()
    while a:
        if a & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        a >>= 1
    return (acc[1] | ((acc[0] & 1) << 255)).to_bytes(32, "little")


def openssh_ed25519(rng, comment):
    # openssh-key-v1, unencrypted (OpenSSH PROTOCOL.key)
    sstr = lambda b: len(b).to_bytes(4, "big") + b
    seed = bytes(rng.getrandbits(8) for _ in range(32))
    pk = ed_pub(seed)
    pub = sstr(b"ssh-ed25519") + sstr(pk)
    check = rng.getrandbits(32).to_bytes(4, "big")
    priv = check + check + sstr(b"ssh-ed25519") + sstr(pk) + sstr(seed + pk) + sstr(comment.encode())
    priv += bytes(range(1, 1 + (-len(priv)) % 8))
    blob = b"openssh-key-v1\x00" + sstr(b"none") + sstr(b"none") + sstr(b"") + (1).to_bytes(4, "big") + sstr(pub) + sstr(priv)
    return pem("OPENSSH PRIVATE KEY", blob, 70), "ssh-ed25519 " + b64(pub) + " " + comment


BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32(hrp, data):
    # BIP-173 bech32 with its checksum (age keys are bech32)
    def polymod(values):
        gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
        chk = 1
        for v in values:
            b = chk >> 25
            chk = (chk & 0x1FFFFFF) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if (b >> i) & 1 else 0
        return chk
    acc, bits, five = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = polymod(exp + five + [0] * 6) ^ 1
    return hrp + "1" + "".join(BECH[d] for d in five + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])


# ---------------------------------------------------------------- placements

def lower_key(env):
    return env.lower()


def generic_placements(env):
    """The placements every env-configured credential gets: (name, filename, text)."""
    return [
        ("dotenv", ".env", "NODE_ENV=production\n" + "".join(f"{k}={v}\n" for k, v in env) + "LOG_LEVEL=info\n"),
        ("export", "scripts/deploy.sh", "#!/usr/bin/env bash\nset -euo pipefail\n" + "".join(f"export {k}='{v}'\n" for k, v in env) + "./bin/release --region eu-west-1\n"),
        ("compose", "docker-compose.yml", "services:\n  worker:\n    image: acme/worker:2.4.1\n    environment:\n" + "".join(f"      {k}: \"{v}\"\n" for k, v in env) + "      QUEUE: default\n"),
        ("actions", ".github/workflows/deploy.yml", "name: deploy\non: [push]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n" + "".join(f"      {k}: {v}\n" for k, v in env) + "    steps:\n      - uses: actions/checkout@v4\n      - run: make deploy\n"),
        ("json", "config/production.json", json.dumps({"service": "billing", "integrations": {lower_key(k): v for k, v in env}, "timeout": 30}, indent=2) + "\n"),
        ("python", "app/settings.py", "import os\n\nDEBUG = False\n" + "".join(f"{k} = \"{v}\"\n" for k, v in env) + "ALLOWED_HOSTS = [\"api.acme.io\"]\n"),
        ("k8s-secret", "k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\n  namespace: prod\ntype: Opaque\ndata:\n" + "".join(f"  {k}: {b64(v.encode())}\n" for k, v in env)),
        ("tfvars", "terraform.tfvars", "region = \"eu-west-1\"\n" + "".join(f"{lower_key(k)} = \"{v}\"\n" for k, v in env)),
        ("notebook", "notebooks/explore.ipynb", json.dumps({"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": ["import os\n"] + [f"os.environ[\"{k}\"] = \"{v}\"\n" for k, v in env]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"),
    ]


GENERIC = ("dotenv", "export", "compose", "actions", "json", "python", "k8s-secret", "tfvars", "notebook")
ENVONLY = ("dotenv", "export", "compose", "k8s-secret")


class Prov:
    def __init__(self, name, family, accept, doc, gen, specific, generic=GENERIC):
        self.name, self.family, self.accept, self.doc = name, family, accept, doc
        self.gen, self.specific, self.generic = gen, specific, generic


def P(name, family, accept, doc, gen, specific=(), generic=GENERIC):
    return Prov(name, family, accept, doc, gen, list(specific), generic)


def cred(env, secrets, **fields):
    c = dict(fields)
    c["env"] = env
    c["secrets"] = [s for s in secrets if s]
    for k, v in env:
        c.setdefault(k, v)
    return c


# ---------------------------------------------------------------- providers

def providers(rng):
    R = lambda a, n: r(rng, a, n)
    pw = lambda: password(rng)
    out = []
    add = out.append

    def one(env, make):
        """A credential that is one token in one variable."""
        def g():
            t = make()
            return cred([(env, t)], [t], t=t)
        return g

    # ---- cloud
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html and
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
    # (AKIA = access key id; 20 chars, base32 alphabet; secret 40 chars)
    def aws():
        kid, sec = "AKIA" + R(UPPER + "234567", 16), R(B64, 40)
        return cred([("AWS_ACCESS_KEY_ID", kid), ("AWS_SECRET_ACCESS_KEY", sec)], [sec, kid], kid=kid, sec=sec)
    add(P("aws", "cloud", ("aws", "amazon"), "docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html", aws, [
        ("aws-credentials", ".aws/credentials", "[default]\naws_access_key_id = %(kid)s\naws_secret_access_key = %(sec)s\nregion = us-east-1\n"),
        ("boto3", "etl/s3_sync.py", "import boto3\n\ns3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"%(kid)s\",\n    aws_secret_access_key=\"%(sec)s\",\n)\n"),
        ("terraform", "infra/provider.tf", "provider \"aws\" {\n  region     = \"us-east-1\"\n  access_key = \"%(kid)s\"\n  secret_key = \"%(sec)s\"\n}\n"),
    ]))

    # https://cloud.google.com/iam/docs/keys-create-delete (JSON key file: type service_account,
    # private_key_id 40 hex, PKCS#8 RSA private_key, client_email ...iam.gserviceaccount.com)
    def gcp_sa():
        key = pem("PRIVATE KEY", pkcs8(rsa_key(rng)))
        proj = rng.choice(["acme-prod", "billing-svc", "data-lake", "ml-platform"]) + "-" + str(rng.randint(100000, 999999))
        sa = {"type": "service_account", "project_id": proj, "private_key_id": R(HEX, 40), "private_key": key,
              "client_email": f"{rng.choice(['deployer', 'ci', 'etl', 'backup'])}@{proj}.iam.gserviceaccount.com",
              "client_id": str(rng.randint(10 ** 20, 10 ** 21 - 1)), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
              "token_uri": "https://oauth2.googleapis.com/token",
              "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs", "universe_domain": "googleapis.com"}
        # the key id names the key file; a line of the key's body is the key itself
        return cred([], [sa["private_key_id"], key.splitlines()[2]], keyjson=json.dumps(sa, indent=2), keyline=json.dumps(sa), keyhex=key)
    add(P("gcp-service-account", "cloud", ("gcp", "google"), "cloud.google.com/iam/docs/keys-create-delete", gcp_sa, [
        ("key-file", "credentials/service-account.json", "%(keyjson)s\n"),
        ("actions", ".github/workflows/gcp.yml", "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: google-github-actions/auth@v2\n        with:\n          credentials_json: '%(keyline)s'\n"),
        ("python", "jobs/bq_export.py", "from google.oauth2 import service_account\n\nINFO = %(keyline)s\ncreds = service_account.Credentials.from_service_account_info(INFO)\n"),
        ("k8s-stringdata", "k8s/gcp-sa.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gcp-sa\nstringData:\n  key.json: '%(keyline)s'\n"),
    ], generic=()))

    # https://developers.google.com/identity/protocols/oauth2 and https://support.google.com/cloud/answer/15549257
    # (client secret; the GOCSPX- prefix + 28 chars is what the console issues, not spelled out there)
    def gcp_oauth():
        cid = f"{rng.randint(10 ** 11, 10 ** 12 - 1)}-{R(LOALNUM, 32)}.apps.googleusercontent.com"
        sec = "GOCSPX-" + R(URLSAFE, 28)
        return cred([("GOOGLE_CLIENT_ID", cid), ("GOOGLE_CLIENT_SECRET", sec)], [sec], cid=cid, sec=sec)
    add(P("gcp-oauth-client-secret", "cloud", ("gcp", "google"), "developers.google.com/identity/protocols/oauth2", gcp_oauth, [
        ("client-secret-json", "client_secret.json", "{\"web\":{\"client_id\":\"%(cid)s\",\"project_id\":\"acme-web\",\"auth_uri\":\"https://accounts.google.com/o/oauth2/auth\",\"token_uri\":\"https://oauth2.googleapis.com/token\",\"client_secret\":\"%(sec)s\",\"redirect_uris\":[\"https://app.acme.io/oauth2/callback\"]}}\n"),
        ("django", "app/settings.py", "SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = \"%(cid)s\"\nSOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = \"%(sec)s\"\n"),
    ], generic=("dotenv", "compose", "json", "k8s-secret")))

    # https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string
    # (AccountKey: base64 of a 512-bit key, 88 chars)
    def az_storage():
        acct = rng.choice(["acmeprod", "stbilling", "datalake", "backups"]) + R(LOALNUM, 4)
        key = b64(bytes(rng.getrandbits(8) for _ in range(64)))
        cs = f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};EndpointSuffix=core.windows.net"
        return cred([("AZURE_STORAGE_CONNECTION_STRING", cs)], [key], cs=cs, key=key, acct=acct)
    add(P("azure-storage", "cloud", ("azure", "microsoft"), "learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string", az_storage, [
        ("local-settings", "api/local.settings.json", "{\n  \"IsEncrypted\": false,\n  \"Values\": {\n    \"AzureWebJobsStorage\": \"%(cs)s\",\n    \"FUNCTIONS_WORKER_RUNTIME\": \"python\"\n  }\n}\n"),
        ("appsettings", "src/Web/appsettings.Production.json", "{\n  \"ConnectionStrings\": {\n    \"Blobs\": \"%(cs)s\"\n  }\n}\n"),
        ("python", "ingest/upload.py", "from azure.storage.blob import BlobServiceClient\n\nsvc = BlobServiceClient.from_connection_string(\"%(cs)s\")\n"),
        ("azcli", "scripts/sync.sh", "az storage blob upload-batch -d assets -s dist --account-name %(acct)s --account-key '%(key)s'\n"),
    ], generic=("dotenv", "compose", "k8s-secret")))

    # https://learn.microsoft.com/en-us/rest/api/storageservices/create-account-sas (sig: base64 HMAC-SHA256, URL-encoded)
    def az_sas():
        acct = rng.choice(["acmeprod", "stexports", "media"]) + R(LOALNUM, 4)
        sig = urllib.parse.quote(b64(bytes(rng.getrandbits(8) for _ in range(32))), safe="")
        q = f"sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2027-06-30T23:59:59Z&st=2026-01-01T00:00:00Z&spr=https&sig={sig}"
        url = f"https://{acct}.blob.core.windows.net/exports/report.csv?{q}"
        return cred([("AZURE_SAS_URL", url)], [sig, urllib.parse.unquote(sig)], url=url, q=q, acct=acct)
    add(P("azure-sas", "cloud", ("azure", "microsoft", "sas"), "learn.microsoft.com/en-us/rest/api/storageservices/create-account-sas", az_sas, [
        ("curl", "scripts/fetch-report.sh", "#!/bin/sh\ncurl -fsSL \"%(url)s\" -o report.csv\n"),
        ("azcopy", "Makefile", "publish:\n\tazcopy copy ./dist 'https://%(acct)s.blob.core.windows.net/$$web?%(q)s' --recursive\n"),
        ("python", "etl/download.py", "import requests\n\nSAS_URL = \"%(url)s\"\ndata = requests.get(SAS_URL, timeout=30).content\n"),
    ], generic=("dotenv", "json", "k8s-secret")))

    # https://learn.microsoft.com/en-us/purview/sit-defn-azure-ad-client-secret
    # (Entra ID client secret: 3 chars, a digit, "Q~", 34 chars)
    def az_entra():
        sec = R(ALNUM, 3) + R(DIGITS, 1) + "Q~" + R(ALNUM + "_~.-", 34)
        tenant, client = uuid4(rng), uuid4(rng)
        return cred([("AZURE_TENANT_ID", tenant), ("AZURE_CLIENT_ID", client), ("AZURE_CLIENT_SECRET", sec)], [sec], sec=sec, tenant=tenant, client=client)
    add(P("azure-entra-client-secret", "cloud", ("azure", "microsoft", "entra"), "learn.microsoft.com/en-us/purview/sit-defn-azure-ad-client-secret", az_entra, [
        ("python", "sync/graph.py", "from azure.identity import ClientSecretCredential\n\ncred = ClientSecretCredential(\n    tenant_id=\"%(tenant)s\",\n    client_id=\"%(client)s\",\n    client_secret=\"%(sec)s\",\n)\n"),
        ("appsettings", "src/Api/appsettings.json", "{\n  \"AzureAd\": {\n    \"Instance\": \"https://login.microsoftonline.com/\",\n    \"TenantId\": \"%(tenant)s\",\n    \"ClientId\": \"%(client)s\",\n    \"ClientSecret\": \"%(sec)s\"\n  }\n}\n"),
    ]))

    # https://docs.digitalocean.com/reference/api/create-personal-access-token/ (dop_v1_ + 64 hex)
    add(P("digitalocean", "cloud", ("digitalocean",), "docs.digitalocean.com/reference/api/create-personal-access-token/", one("DIGITALOCEAN_TOKEN", lambda: "dop_v1_" + R(HEX, 64)), [
        ("terraform", "infra/main.tf", "provider \"digitalocean\" {\n  token = \"%(t)s\"\n}\n"),
        ("doctl", ".config/doctl/config.yaml", "access-token: %(t)s\ncontext: default\n"),
    ]))

    # https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair
    # (AccessKey ID starts LTAI; 24 chars total and a 30-char secret as issued, not specified there)
    def ali():
        kid, sec = "LTAI5t" + R(ALNUM, 18), R(ALNUM, 30)
        return cred([("ALIBABA_CLOUD_ACCESS_KEY_ID", kid), ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sec)], [sec, kid], kid=kid, sec=sec)
    add(P("alibaba", "cloud", ("alibaba", "aliyun"), "www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair", ali, [
        ("aliyun-config", ".aliyun/config.json", "{\n  \"current\": \"default\",\n  \"profiles\": [{\"name\": \"default\", \"mode\": \"AK\", \"access_key_id\": \"%(kid)s\", \"access_key_secret\": \"%(sec)s\", \"region_id\": \"cn-hangzhou\"}]\n}\n"),
        ("python", "oss/upload.py", "import oss2\n\nauth = oss2.Auth(\"%(kid)s\", \"%(sec)s\")\nbucket = oss2.Bucket(auth, \"https://oss-cn-hangzhou.aliyuncs.com\", \"acme-assets\")\n"),
    ]))

    # https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ (40-char API token),
    # https://developers.cloudflare.com/fundamentals/api/get-started/keys/ (Global API Key, 37 hex, with the account email).
    # The newer cfut_/cfat_ tokens (token-formats page) end in a checksum whose form is not documented: not generated.
    def cf():
        if rng.random() < 0.7:
            t = R(URLSAFE, 40)
            return cred([("CLOUDFLARE_API_TOKEN", t)], [t], t=t, hdr=f"Authorization: Bearer {t}")
        t = R(HEX, 37)
        return cred([("CLOUDFLARE_EMAIL", "ops@acme.io"), ("CLOUDFLARE_API_KEY", t)], [t], t=t, hdr=f"X-Auth-Key: {t}")
    add(P("cloudflare", "cloud", ("cloudflare",), "developers.cloudflare.com/fundamentals/api/get-started/create-token/", cf, [
        ("curl", "scripts/purge.sh", "curl -X POST \"https://api.cloudflare.com/client/v4/zones/$ZONE/purge_cache\" \\\n  -H \"%(hdr)s\" -H \"X-Auth-Email: ops@acme.io\" --data '{\"purge_everything\":true}'\n"),
        ("terraform", "dns/provider.tf", "provider \"cloudflare\" {\n  api_token = \"%(t)s\"\n}\n"),
    ]))

    # https://devcenter.heroku.com/articles/authentication (API key as HEROKU_API_KEY / .netrc);
    # new keys start HRKU- (Heroku's prefix; the body length, 60, is an assumption); older keys are UUIDs
    add(P("heroku", "cloud", ("heroku",), "devcenter.heroku.com/articles/authentication", one("HEROKU_API_KEY", lambda: "HRKU-" + R(URLSAFE, 60) if rng.random() < 0.6 else uuid4(rng)), [
        ("netrc", ".netrc", "machine api.heroku.com\n  login ops@acme.io\n  password %(t)s\nmachine git.heroku.com\n  login ops@acme.io\n  password %(t)s\n"),
        ("actions", ".github/workflows/heroku.yml", "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: akhileshns/heroku-deploy@v3.13.15\n        with:\n          heroku_api_key: %(t)s\n          heroku_app_name: acme-api\n          heroku_email: ops@acme.io\n"),
    ], generic=ENVONLY))

    # ---- code hosts and CI
    # https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
    # https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats
    gh_places = [
        ("git-credentials", ".git-credentials", "https://deploy-bot:%(t)s@github.com\n"),
        ("git-remote", "repo.git/config", "[remote \"origin\"]\n\turl = https://x-access-token:%(t)s@github.com/acme/platform.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"),
        ("python", "tools/release.py", "from github import Github\n\ngh = Github(\"%(t)s\")\nrepo = gh.get_repo(\"acme/platform\")\n"),
    ]

    def gh(prefix, env):
        def g():
            t = crc_token(rng, prefix)
            return cred([(env, t)], [t], t=t)
        return g
    add(P("github-classic-pat", "code-ci", ("github",), "github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/", gh("ghp_", "GITHUB_TOKEN"), gh_places + [
        ("npmrc", ".npmrc", "@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=%(t)s\n"),
    ]))

    # fine-grained PAT: github_pat_ + 22 + _ + 59 (docs above; its inner checksum is not documented)
    add(P("github-fine-grained-pat", "code-ci", ("github",), "docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats", one("GH_TOKEN", lambda: "github_pat_" + R(ALNUM, 22) + "_" + R(ALNUM, 59)), gh_places))
    add(P("github-oauth", "code-ci", ("github",), "docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats", gh("gho_", "GITHUB_OAUTH_TOKEN"), [
        ("gh-hosts", ".config/gh/hosts.yml", "github.com:\n    user: deploy-bot\n    oauth_token: %(t)s\n    git_protocol: https\n"),
    ] + gh_places[:1]))

    add(P("github-app", "code-ci", ("github",), "docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats", one("GITHUB_APP_TOKEN", lambda: crc_token(rng, rng.choice(["ghs_", "ghu_", "ghr_"]))), gh_places[1:]))

    # https://docs.gitlab.com/security/tokens/#token-prefixes (glpat- personal/project/group tokens; 20 chars after the prefix)
    add(P("gitlab-pat", "code-ci", ("gitlab",), "docs.gitlab.com/security/tokens/#token-prefixes", one("GITLAB_TOKEN", lambda: "glpat-" + R(URLSAFE, 20)), [
        ("python", "tools/mirror.py", "import gitlab\n\ngl = gitlab.Gitlab(\"https://gitlab.com\", private_token=\"%(t)s\")\n"),
        ("git-remote", "repo.git/config", "[remote \"origin\"]\n\turl = https://oauth2:%(t)s@gitlab.com/acme/platform.git\n"),
        ("gitlab-ci", ".gitlab-ci.yml", "variables:\n  GITLAB_API_TOKEN: \"%(t)s\"\nrelease:\n  script:\n    - ./release.sh\n"),
    ]))

    # same page: glrt- runner authentication tokens, glptt- pipeline trigger tokens (40 hex), gldt- deploy tokens
    def gl_ci():
        kind = rng.randrange(3)
        t = ["glrt-" + R(URLSAFE, 20), "glptt-" + R(HEX, 40), "gldt-" + R(URLSAFE, 20)][kind]
        return cred([("CI_REGISTRY_TOKEN" if kind == 2 else "GITLAB_RUNNER_TOKEN" if kind == 0 else "TRIGGER_TOKEN", t)], [t], t=t)
    add(P("gitlab-ci-tokens", "code-ci", ("gitlab",), "docs.gitlab.com/security/tokens/#token-prefixes", gl_ci, [
        ("runner-config", "runner/config.toml", "concurrent = 4\n\n[[runners]]\n  name = \"docker-runner-1\"\n  url = \"https://gitlab.com\"\n  token = \"%(t)s\"\n  executor = \"docker\"\n"),
        ("curl", "scripts/trigger.sh", "curl -X POST --fail -F token=%(t)s -F ref=main https://gitlab.com/api/v4/projects/4821/trigger/pipeline\n"),
    ], generic=ENVONLY))

    # https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/ (ATBB...; 32 chars after the prefix as issued, not specified)
    def bb():
        t = "ATBB" + R(ALNUM, 24) + R(HEX.upper(), 8)
        return cred([("BITBUCKET_USERNAME", "acme-ci"), ("BITBUCKET_APP_PASSWORD", t)], [t], t=t)
    add(P("bitbucket", "code-ci", ("bitbucket", "atlassian"), "support.atlassian.com/bitbucket-cloud/docs/app-passwords/", bb, [
        ("git-remote", "repo.git/config", "[remote \"origin\"]\n\turl = https://acme-ci:%(t)s@bitbucket.org/acme/platform.git\n"),
        ("pipelines", "bitbucket-pipelines.yml", "pipelines:\n  default:\n    - step:\n        script:\n          - curl -u acme-ci:%(t)s https://api.bitbucket.org/2.0/repositories/acme\n"),
    ], generic=ENVONLY))

    # https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/
    # (Bamboo's docs: an Atlassian API token "is identified by the prefix ATAT"; the rest, ATATT3xFfGF0 + body + "=" + 8 hex, as issued)
    def atl():
        t = "ATATT3xFfGF0" + R(URLSAFE, 170) + "=" + R(HEX.upper(), 8)
        return cred([("JIRA_EMAIL", "ops@acme.io"), ("JIRA_API_TOKEN", t)], [t], t=t)
    add(P("atlassian", "code-ci", ("atlassian", "jira", "confluence", "bitbucket"), "support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/", atl, [
        ("python", "tools/jira_sync.py", "from atlassian import Jira\n\njira = Jira(url=\"https://acme.atlassian.net\", username=\"ops@acme.io\", password=\"%(t)s\", cloud=True)\n"),
    ]))

    # https://circleci.com/changelog/new-format-for-api-access-tokens/ (CCIPAT_<base58 uuid>_<40 hex>, CCIPRJ_ for project tokens)
    add(P("circleci", "code-ci", ("circleci", "circle"), "circleci.com/changelog/new-format-for-api-access-tokens/", one("CIRCLECI_TOKEN", lambda: rng.choice(["CCIPAT_", "CCIPRJ_"]) + R("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 22) + "_" + R(HEX, 40)), [
        ("cli-config", ".circleci/cli.yml", "host: https://circleci.com\nendpoint: graphql-unstable\ntoken: %(t)s\n"),
        ("curl", "scripts/rerun.sh", "curl -X POST https://circleci.com/api/v2/project/gh/acme/platform/pipeline -H \"Circle-Token: %(t)s\"\n"),
    ]))

    # https://buildkite.com/docs/apis/managing-api-tokens (bkua_ + 40 hex)
    add(P("buildkite", "code-ci", ("buildkite",), "buildkite.com/docs/apis/managing-api-tokens", one("BUILDKITE_API_TOKEN", lambda: "bkua_" + R(HEX, 40)), [
        ("curl", "scripts/builds.sh", "curl -H \"Authorization: Bearer %(t)s\" https://api.buildkite.com/v2/organizations/acme/builds\n"),
    ]))

    # https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate
    # and https://learn.microsoft.com/en-us/purview/sit-defn-azure-devops-personal-access-token (84 chars, "AZDO" at 77-80;
    # its checksum is not documented) ; older PATs: 52 chars of lowercase base32
    def ado():
        if rng.random() < 0.5:
            t = R(LOWER + "234567", 52)
        else:
            t = R(ALNUM, 52) + "JQQJ99" + R(ALNUM, 18) + "AZDO" + R(ALNUM, 4)
        return cred([("AZURE_DEVOPS_EXT_PAT", t)], [t], t=t)
    add(P("azure-devops", "code-ci", ("azure", "devops", "microsoft"), "learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate", ado, [
        ("git-remote", "repo.git/config", "[remote \"origin\"]\n\turl = https://build:%(t)s@dev.azure.com/acme/platform/_git/platform\n"),
        ("nuget-config", "nuget.config", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSourceCredentials>\n    <acme>\n      <add key=\"Username\" value=\"build\" />\n      <add key=\"ClearTextPassword\" value=\"%(t)s\" />\n    </acme>\n  </packageSourceCredentials>\n</configuration>\n"),
    ], generic=ENVONLY))

    # ---- package registries
    # https://github.blog/security/announcing-npms-new-access-token-format/ (npm_ + 30 + CRC32 base62)
    add(P("npm", "registry", ("npm",), "github.blog/security/announcing-npms-new-access-token-format/", one("NPM_TOKEN", lambda: crc_token(rng, "npm_")), [
        ("npmrc", ".npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=%(t)s\n"),
        ("yarnrc", ".yarnrc.yml", "npmRegistries:\n  \"https://registry.npmjs.org\":\n    npmAuthToken: %(t)s\n"),
    ]))

    # https://pypi.org/help/#apitoken (pypi- + base64 macaroon whose location is pypi.org: "AgEIcHlwaS5vcmc")
    def pypi():
        t = "pypi-AgEIcHlwaS5vcmcCJ" + R(URLSAFE, 150 + rng.randrange(40))
        return cred([("TWINE_USERNAME", "__token__"), ("TWINE_PASSWORD", t)], [t], t=t)
    add(P("pypi", "registry", ("pypi", "python"), "pypi.org/help/#apitoken", pypi, [
        ("pypirc", ".pypirc", "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = %(t)s\n"),
        ("actions", ".github/workflows/publish.yml", "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: pypa/gh-action-pypi-publish@release/v1\n        with:\n          password: %(t)s\n"),
        ("poetry", "scripts/publish.sh", "poetry config pypi-token.pypi %(t)s\npoetry publish --build\n"),
    ], generic=ENVONLY))

    # https://learn.microsoft.com/en-us/nuget/nuget-org/publish-a-package#create-an-api-key
    # (nuget.org keys: oy2 + 43 lowercase alphanumerics, as issued; the docs give no format)
    add(P("nuget", "registry", ("nuget",), "learn.microsoft.com/en-us/nuget/nuget-org/publish-a-package", one("NUGET_API_KEY", lambda: "oy2" + R(LOALNUM, 43)), [
        ("dotnet-push", "build/publish.ps1", "dotnet pack -c Release\ndotnet nuget push .\\bin\\Release\\*.nupkg --api-key %(t)s --source https://api.nuget.org/v3/index.json\n"),
    ]))

    # https://guides.rubygems.org/api-key-scopes/ (rubygems_ + 48 hex)
    add(P("rubygems", "registry", ("rubygems", "gem"), "guides.rubygems.org/api-key-scopes/", one("GEM_HOST_API_KEY", lambda: "rubygems_" + R(HEX, 48)), [
        ("gem-credentials", ".gem/credentials", "---\n:rubygems_api_key: %(t)s\n"),
    ]))

    # https://docs.docker.com/security/for-developers/access-tokens/ (dckr_pat_ + 27)
    def docker():
        t = "dckr_pat_" + R(URLSAFE, 27)
        return cred([("DOCKERHUB_USERNAME", "acmebuild"), ("DOCKERHUB_TOKEN", t)], [t], t=t, auth=b64(f"acmebuild:{t}".encode()))
    add(P("dockerhub", "registry", ("docker",), "docs.docker.com/security/for-developers/access-tokens/", docker, [
        ("login", "scripts/push.sh", "echo '%(t)s' | docker login -u acmebuild --password-stdin\ndocker push acme/api:latest\n"),
        ("docker-config", ".docker/config.json", "{\n  \"auths\": {\n    \"https://index.docker.io/v1/\": {\n      \"auth\": \"%(auth)s\"\n    }\n  }\n}\n"),
    ]))

    # https://doc.rust-lang.org/cargo/reference/config.html#credentials (crates.io tokens: cio + 32, as issued)
    add(P("crates-io", "registry", ("crates", "cargo"), "doc.rust-lang.org/cargo/reference/config.html#credentials", one("CARGO_REGISTRY_TOKEN", lambda: "cio" + R(ALNUM, 32)), [
        ("cargo-credentials", ".cargo/credentials.toml", "[registry]\ntoken = \"%(t)s\"\n"),
    ], generic=ENVONLY))

    # ---- observability
    # https://docs.datadoghq.com/account_management/api-app-keys/ (API key 32 hex, application key 40 hex)
    def dd():
        a, b = R(HEX, 32), R(HEX, 40)
        return cred([("DD_API_KEY", a), ("DD_APP_KEY", b)], [a, b], a=a, b=b)
    add(P("datadog", "observability", ("datadog",), "docs.datadoghq.com/account_management/api-app-keys/", dd, [
        ("agent-yaml", "datadog.yaml", "api_key: %(a)s\nsite: datadoghq.eu\nlogs_enabled: true\n"),
        ("python", "monitors/sync.py", "from datadog import initialize, api\n\ninitialize(api_key=\"%(a)s\", app_key=\"%(b)s\")\n"),
        ("helm", "deploy/datadog-values.yaml", "datadog:\n  apiKey: %(a)s\n  appKey: %(b)s\n  site: datadoghq.com\n"),
    ]))

    # https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/ (user key NRAK- + 27; license key 40 chars ending NRAL)
    def nr():
        if rng.random() < 0.5:
            t = R(HEX, 36) + "NRAL"
            return cred([("NEW_RELIC_LICENSE_KEY", t)], [t], t=t)
        t = "NRAK-" + R(UPALNUM, 27)
        return cred([("NEW_RELIC_API_KEY", t)], [t], t=t)
    add(P("newrelic", "observability", ("newrelic", "new relic", "new-relic"), "docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/", nr, [
        ("newrelic-ini", "newrelic.ini", "[newrelic]\nlicense_key = %(t)s\napp_name = billing-api\nmonitor_mode = true\n"),
        ("newrelic-yml", "config/newrelic.yml", "common: &default_settings\n  license_key: '%(t)s'\n  app_name: Billing API\n"),
    ]))

    # https://docs.sentry.io/account/auth-tokens/ ; sntrys_ org tokens embed base64 JSON (org, url) before the secret
    # (getsentry/sentry-cli#1669); sntryu_ user tokens + 64 hex
    def sentry():
        if rng.random() < 0.5:
            payload = b64(json.dumps({"iat": rng.randint(1_700_000_000, 1_790_000_000), "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": rng.choice(["acme", "globex", "initech"])}, separators=(",", ":")).encode())
            t = "sntrys_" + payload + "_" + R(B64, 43)
        else:
            t = "sntryu_" + R(HEX, 64)
        return cred([("SENTRY_AUTH_TOKEN", t)], [t], t=t)
    add(P("sentry", "observability", ("sentry",), "docs.sentry.io/account/auth-tokens/", sentry, [
        ("sentryclirc", ".sentryclirc", "[defaults]\norg = acme\nproject = web\n\n[auth]\ntoken = %(t)s\n"),
        ("next-config", "next.config.js", "const { withSentryConfig } = require(\"@sentry/nextjs\");\nmodule.exports = withSentryConfig({}, { org: \"acme\", project: \"web\", authToken: \"%(t)s\" });\n"),
    ]))

    # https://grafana.com/docs/grafana/latest/administration/service-accounts/ (glsa_ service account tokens);
    # https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/ (glc_ + base64 JSON)
    def grafana():
        if rng.random() < 0.5:
            t = "glsa_" + R(ALNUM, 32) + "_" + R(HEX, 8)
        else:
            t = "glc_" + b64(json.dumps({"o": str(rng.randint(100000, 999999)), "n": "stack-" + str(rng.randint(100000, 999999)) + "-hm-read", "k": R(ALNUM, 24), "m": {"r": "prod-us-east-0"}}, separators=(",", ":")).encode())
        return cred([("GRAFANA_TOKEN", t)], [t], t=t)
    add(P("grafana", "observability", ("grafana",), "grafana.com/docs/grafana/latest/administration/service-accounts/", grafana, [
        ("curl", "scripts/dashboards.sh", "curl -H \"Authorization: Bearer %(t)s\" https://acme.grafana.net/api/search\n"),
        ("alloy", "alloy/config.alloy", "prometheus.remote_write \"cloud\" {\n  endpoint {\n    url = \"https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push\"\n    basic_auth {\n      username = \"1234567\"\n      password = \"%(t)s\"\n    }\n  }\n}\n"),
    ]))

    # https://docs.dynatrace.com/docs/manage/identity-access-management/access-tokens-and-oauth-clients/access-tokens
    # (dt0c01.<24 public id>.<64 secret>)
    add(P("dynatrace", "observability", ("dynatrace",), "docs.dynatrace.com/docs/manage/identity-access-management/access-tokens-and-oauth-clients/access-tokens", one("DT_API_TOKEN", lambda: "dt0c01." + R(UPALNUM, 24) + "." + R(UPALNUM, 64)), [
        ("curl", "scripts/events.sh", "curl -X POST https://abc12345.live.dynatrace.com/api/v2/events/ingest -H \"Authorization: Api-Token %(t)s\"\n"),
    ]))

    # ---- SaaS and payments
    # https://docs.stripe.com/keys (sk_live_/rk_live_ secret and restricted keys; test-mode sk_test_ keys are secrets too)
    add(P("stripe", "saas", ("stripe",), "docs.stripe.com/keys", one("STRIPE_SECRET_KEY", lambda: rng.choice(["sk_live_", "sk_live_", "rk_live_", "sk_test_"]) + "51" + R(ALNUM, rng.choice([22, 97]))), [
        ("python", "billing/charge.py", "import stripe\n\nstripe.api_key = \"%(t)s\"\nstripe.PaymentIntent.create(amount=2000, currency=\"usd\")\n"),
        ("node", "src/stripe.js", "const Stripe = require('stripe');\nconst stripe = Stripe('%(t)s');\nmodule.exports = stripe;\n"),
        ("rails", "config/credentials.yml", "stripe:\n  secret_key: %(t)s\n"),
    ]))

    # https://docs.stripe.com/webhooks#verify-official-libraries (endpoint signing secret whsec_...)
    add(P("stripe-webhook-secret", "saas", ("stripe",), "docs.stripe.com/webhooks", one("STRIPE_WEBHOOK_SECRET", lambda: "whsec_" + R(ALNUM, 32)), [
        ("python", "billing/webhooks.py", "endpoint_secret = '%(t)s'\nevent = stripe.Webhook.construct_event(payload, sig_header, endpoint_secret)\n"),
    ], generic=("dotenv", "compose", "json", "k8s-secret")))

    # https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens (shpat_/shpca_/shppa_ tokens, shpss_ shared secrets; 32 hex)
    add(P("shopify", "saas", ("shopify",), "shopify.dev/docs/apps/build/authentication-authorization/access-tokens", one("SHOPIFY_ACCESS_TOKEN", lambda: rng.choice(["shpat_", "shpat_", "shpca_", "shppa_", "shpss_"]) + R(HEX, 32)), [
        ("curl", "scripts/products.sh", "curl -H \"X-Shopify-Access-Token: %(t)s\" https://acme-store.myshopify.com/admin/api/2024-10/products.json\n"),
        ("python", "store/sync.py", "import shopify\n\nsession = shopify.Session(\"acme-store.myshopify.com\", \"2024-10\", \"%(t)s\")\n"),
    ]))

    # https://developer.squareup.com/docs/build-basics/access-tokens (personal access tokens EAAA...;
    # 64 characters per Square's forum answer on OAuth tokens) ; application secrets sq0csp- + 43
    def square():
        if rng.random() < 0.7:
            t = "EAAA" + R(URLSAFE, 60)
            return cred([("SQUARE_ACCESS_TOKEN", t)], [t], t=t)
        t = "sq0csp-" + R(URLSAFE, 43)
        return cred([("SQUARE_APPLICATION_SECRET", t)], [t], t=t)
    add(P("square", "saas", ("square",), "developer.squareup.com/docs/build-basics/access-tokens", square, [
        ("python", "pos/client.py", "from square.client import Client\n\nclient = Client(access_token=\"%(t)s\", environment=\"production\")\n"),
    ]))

    # https://www.twilio.com/docs/iam/api-keys and https://www.twilio.com/docs/iam/credentials/api
    # (Account SID AC + 32 hex is an id; the auth token, 32 hex, is the secret; API keys SK + 32 hex with a 32-char secret)
    def twilio():
        sid = "AC" + R(HEX, 32)
        if rng.random() < 0.6:
            tok = R(HEX, 32)
            return cred([("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", tok)], [tok], sid=sid, user=sid, tok=tok)
        key, sec = "SK" + R(HEX, 32), R(ALNUM, 32)
        return cred([("TWILIO_ACCOUNT_SID", sid), ("TWILIO_API_KEY", key), ("TWILIO_API_SECRET", sec)], [sec], sid=sid, user=key, tok=sec)
    add(P("twilio", "saas", ("twilio",), "www.twilio.com/docs/iam/api-keys", twilio, [
        ("python", "notify/sms.py", "from twilio.rest import Client\n\nclient = Client(\"%(user)s\", \"%(tok)s\", \"%(sid)s\")\n"),
        ("curl", "scripts/sms.sh", "curl -X POST https://api.twilio.com/2010-04-01/Accounts/%(sid)s/Messages.json -u %(user)s:%(tok)s --data-urlencode \"Body=deploy done\"\n"),
    ]))

    # https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys (SG.<22>.<43>)
    add(P("sendgrid", "saas", ("sendgrid", "twilio"), "www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys", one("SENDGRID_API_KEY", lambda: "SG." + R(URLSAFE, 22) + "." + R(URLSAFE, 43)), [
        ("python", "mail/send.py", "from sendgrid import SendGridAPIClient\n\nsg = SendGridAPIClient(\"%(t)s\")\n"),
        ("django-smtp", "app/settings.py", "EMAIL_HOST = \"smtp.sendgrid.net\"\nEMAIL_HOST_USER = \"apikey\"\nEMAIL_HOST_PASSWORD = \"%(t)s\"\nEMAIL_PORT = 587\n"),
    ]))

    # https://documentation.mailgun.com/docs/mailgun/user-manual/get-started/ (private API keys: key- + 32 hex, newer 32hex-8hex-8hex)
    add(P("mailgun", "saas", ("mailgun",), "documentation.mailgun.com/docs/mailgun/user-manual/get-started/", one("MAILGUN_API_KEY", lambda: "key-" + R(HEX, 32) if rng.random() < 0.5 else R(HEX, 32) + "-" + R(HEX, 8) + "-" + R(HEX, 8)), [
        ("python", "mail/mailgun.py", "import requests\n\nrequests.post(\"https://api.mailgun.net/v3/mg.acme.io/messages\", auth=(\"api\", \"%(t)s\"), data={\"to\": \"ops@acme.io\"})\n"),
        ("laravel", "config/services.php", "<?php\nreturn [\n    'mailgun' => [\n        'domain' => 'mg.acme.io',\n        'secret' => '%(t)s',\n    ],\n];\n"),
    ]))

    # https://mailchimp.com/developer/marketing/guides/quick-start/ (32 hex + -usNN data-centre suffix)
    add(P("mailchimp", "saas", ("mailchimp",), "mailchimp.com/developer/marketing/guides/quick-start/", one("MAILCHIMP_API_KEY", lambda: R(HEX, 32) + "-us" + str(rng.randint(1, 21))), [
        ("python", "marketing/lists.py", "import mailchimp_marketing as MailchimpMarketing\n\nclient = MailchimpMarketing.Client()\nclient.set_config({\"api_key\": \"%(t)s\", \"server\": \"us6\"})\n"),
    ]))

    # https://developers.hubspot.com/docs/api/private-apps (pat-<region>-<uuid>)
    add(P("hubspot", "saas", ("hubspot",), "developers.hubspot.com/docs/api/private-apps", one("HUBSPOT_ACCESS_TOKEN", lambda: f"pat-{rng.choice(['na1', 'eu1', 'na2'])}-{uuid4(rng)}"), [
        ("python", "crm/contacts.py", "from hubspot import HubSpot\n\napi_client = HubSpot(access_token=\"%(t)s\")\n"),
    ]))

    # https://api.slack.com/authentication/token-types (xoxb- bot, xoxp- user, xapp- app-level)
    slack_places = [
        ("python", "bot/app.py", "from slack_sdk import WebClient\n\nclient = WebClient(token=\"%(t)s\")\nclient.chat_postMessage(channel=\"#deploys\", text=\"done\")\n"),
        ("node", "bot/index.js", "const { App } = require('@slack/bolt');\nconst app = new App({ token: '%(t)s', signingSecret: process.env.SLACK_SIGNING_SECRET });\n"),
    ]
    add(P("slack-bot-token", "saas", ("slack",), "api.slack.com/authentication/token-types", one("SLACK_BOT_TOKEN", lambda: f"xoxb-{rng.randint(10 ** 10, 10 ** 12)}-{rng.randint(10 ** 11, 10 ** 13)}-{R(ALNUM, 24)}"), slack_places))

    add(P("slack-user-token", "saas", ("slack",), "api.slack.com/authentication/token-types", one("SLACK_USER_TOKEN", lambda: f"xoxp-{rng.randint(10 ** 10, 10 ** 12)}-{rng.randint(10 ** 10, 10 ** 12)}-{rng.randint(10 ** 11, 10 ** 13)}-{R(HEX, 32)}"), slack_places))

    # https://api.slack.com/messaging/webhooks (https://hooks.slack.com/services/T.../B.../<24>)
    def slack_hook():
        u = f"https://hooks.slack.com/services/T{R(UPALNUM, rng.choice([8, 10]))}/B{R(UPALNUM, rng.choice([8, 10]))}/{R(ALNUM, 24)}"
        return cred([("SLACK_WEBHOOK_URL", u)], [u, u.rsplit("/", 1)[1]], u=u)
    add(P("slack-webhook", "saas", ("slack",), "api.slack.com/messaging/webhooks", slack_hook, [
        ("curl", "scripts/notify.sh", "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"deployed\"}' %(u)s\n"),
        ("alertmanager", "monitoring/alertmanager.yml", "receivers:\n  - name: slack\n    slack_configs:\n      - api_url: %(u)s\n        channel: '#alerts'\n"),
    ]))

    # https://discord.com/developers/docs/reference#authentication (bot token: base64 user id . 6 . 27+)
    add(P("discord-bot-token", "saas", ("discord",), "discord.com/developers/docs/reference#authentication", one("DISCORD_TOKEN", lambda: b64url(str(rng.randint(10 ** 17, 10 ** 19)).encode()) + "." + R(URLSAFE, 6) + "." + R(URLSAFE, rng.choice([27, 38]))), [
        ("python", "bot/main.py", "import discord\n\nclient = discord.Client(intents=discord.Intents.default())\nclient.run('%(t)s')\n"),
    ]))

    # https://discord.com/developers/docs/resources/webhook (https://discord.com/api/webhooks/<id>/<token 68>)
    def discord_hook():
        u = f"https://discord.com/api/webhooks/{rng.randint(10 ** 17, 10 ** 19)}/{R(URLSAFE, 68)}"
        return cred([("DISCORD_WEBHOOK_URL", u)], [u, u.rsplit("/", 1)[1]], u=u)
    add(P("discord-webhook", "saas", ("discord",), "discord.com/developers/docs/resources/webhook", discord_hook, [
        ("python", "alerts/discord.py", "import requests\n\nWEBHOOK = \"%(u)s\"\nrequests.post(WEBHOOK, json={\"content\": \"build failed\"})\n"),
    ], generic=("dotenv", "json", "k8s-secret")))

    # https://core.telegram.org/bots/api#authorizing-your-bot (<bot id>:<35 chars>)
    add(P("telegram", "saas", ("telegram",), "core.telegram.org/bots/api#authorizing-your-bot", one("TELEGRAM_BOT_TOKEN", lambda: f"{rng.randint(10 ** 9, 8 * 10 ** 9)}:AA{R(URLSAFE, 33)}"), [
        ("python", "bot/notify.py", "import telebot\n\nbot = telebot.TeleBot(\"%(t)s\")\nbot.send_message(-1001234567890, \"deploy ok\")\n"),
        ("curl", "scripts/tg.sh", "curl -s \"https://api.telegram.org/bot%(t)s/sendMessage\" -d chat_id=-1001234567890 -d text=ok\n"),
    ]))

    # https://learning.postman.com/docs/developer/postman-api/authentication/ (PMAK-<24 hex>-<34 hex>)
    add(P("postman", "saas", ("postman",), "learning.postman.com/docs/developer/postman-api/authentication/", one("POSTMAN_API_KEY", lambda: "PMAK-" + R(HEX, 24) + "-" + R(HEX, 34)), [
        ("curl", "scripts/collections.sh", "curl -H \"X-Api-Key: %(t)s\" https://api.getpostman.com/collections\n"),
    ]))

    # https://linear.app/developers/graphql#personal-api-keys (lin_api_ + 40)
    add(P("linear", "saas", ("linear",), "linear.app/developers/graphql", one("LINEAR_API_KEY", lambda: "lin_api_" + R(ALNUM, 40)), [
        ("node", "tools/linear.ts", "import { LinearClient } from '@linear/sdk';\nexport const linear = new LinearClient({ apiKey: '%(t)s' });\n"),
    ]))

    # https://developers.notion.com/docs/authorization (internal integration secrets: secret_ + 43; newer ntn_, length assumed 46)
    add(P("notion", "saas", ("notion",), "developers.notion.com/docs/authorization", one("NOTION_TOKEN", lambda: "secret_" + R(ALNUM, 43) if rng.random() < 0.5 else "ntn_" + R(DIGITS, 11) + R(ALNUM, 35)), [
        ("python", "docs_sync/notion.py", "from notion_client import Client\n\nnotion = Client(auth=\"%(t)s\")\n"),
    ]))

    # https://airtable.com/developers/web/guides/personal-access-tokens (pat<14>.<64 hex>)
    add(P("airtable", "saas", ("airtable",), "airtable.com/developers/web/guides/personal-access-tokens", one("AIRTABLE_API_KEY", lambda: "pat" + R(ALNUM, 14) + "." + R(HEX, 64)), [
        ("python", "ops/airtable_sync.py", "from pyairtable import Api\n\napi = Api(\"%(t)s\")\n"),
    ]))

    # https://www.figma.com/developers/api#access-tokens (personal access tokens figd_...)
    add(P("figma", "saas", ("figma",), "www.figma.com/developers/api#access-tokens", one("FIGMA_TOKEN", lambda: "figd_" + R(URLSAFE, 40)), [
        ("curl", "scripts/export-icons.sh", "curl -H \"X-Figma-Token: %(t)s\" https://api.figma.com/v1/files/AbCdEf123/images\n"),
    ]))

    # https://developer.okta.com/docs/guides/create-an-api-token/main/ (SSWS API tokens: 00 + 40)
    def okta():
        t = "00" + R(URLSAFE, 40)
        return cred([("OKTA_ORG_URL", "https://acme.okta.com"), ("OKTA_API_TOKEN", t)], [t], t=t)
    add(P("okta", "saas", ("okta",), "developer.okta.com/docs/guides/create-an-api-token/main/", okta, [
        ("terraform", "idp/provider.tf", "provider \"okta\" {\n  org_name  = \"acme\"\n  base_url  = \"okta.com\"\n  api_token = \"%(t)s\"\n}\n"),
        ("curl", "scripts/users.sh", "curl -H \"Authorization: SSWS %(t)s\" https://acme.okta.com/api/v1/users?limit=200\n"),
    ]))

    # https://docs.mapbox.com/accounts/guides/tokens/ (secret tokens sk.<base64 JSON>.<22>; pk. tokens are public)
    add(P("mapbox", "saas", ("mapbox",), "docs.mapbox.com/accounts/guides/tokens/", one("MAPBOX_DOWNLOADS_TOKEN", lambda: "sk." + b64url(json.dumps({"u": rng.choice(["acme", "geo-team"]), "a": "cl" + R(LOALNUM, 23)}, separators=(",", ":")).encode()) + "." + R(URLSAFE, 22)), [
        ("gradle", "android/gradle.properties", "org.gradle.jvmargs=-Xmx2048m\nMAPBOX_DOWNLOADS_TOKEN=%(t)s\n"),
        ("netrc", ".netrc", "machine api.mapbox.com\nlogin mapbox\npassword %(t)s\n"),
    ]))

    # ---- secret managers and infrastructure
    # https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes (hvs. service, hvb. batch tokens)
    def vault():
        t = rng.choice(["hvs.", "hvs.", "hvb."]) + (R(ALNUM, 24) if rng.random() < 0.5 else "CAESI" + R(URLSAFE, 86))
        return cred([("VAULT_ADDR", "https://vault.acme.internal:8200"), ("VAULT_TOKEN", t)], [t], t=t)
    add(P("vault", "infra", ("vault", "hashicorp"), "developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes", vault, [
        ("python", "secrets/fetch.py", "import hvac\n\nclient = hvac.Client(url=\"https://vault.acme.internal:8200\", token=\"%(t)s\")\n"),
        ("login", "scripts/bootstrap.sh", "vault login %(t)s\nvault kv get secret/app\n"),
    ]))

    # https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens (<14>.atlasv1.<67>)
    add(P("terraform-cloud", "infra", ("terraform", "hashicorp"), "developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens", one("TF_TOKEN_app_terraform_io", lambda: R(ALNUM, 14) + ".atlasv1." + R(ALNUM, 67)), [
        ("tfrc-json", ".terraform.d/credentials.tfrc.json", "{\n  \"credentials\": {\n    \"app.terraform.io\": {\n      \"token\": \"%(t)s\"\n    }\n  }\n}\n"),
        ("terraformrc", ".terraformrc", "credentials \"app.terraform.io\" {\n  token = \"%(t)s\"\n}\n"),
    ]))

    # https://docs.doppler.com/docs/auth-token-formats (dp.st.[env.], dp.pt., dp.sa., dp.ct. + 40-44)
    add(P("doppler", "infra", ("doppler",), "docs.doppler.com/docs/auth-token-formats", one("DOPPLER_TOKEN", lambda: rng.choice(["dp.st.prd.", "dp.st.", "dp.pt.", "dp.sa.", "dp.ct."]) + R(ALNUM, rng.randint(40, 44))), [
        ("docker-run", "scripts/run.sh", "docker run --rm -e DOPPLER_TOKEN='%(t)s' acme/api:latest doppler run -- ./server\n"),
    ]))

    # https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/ (pul- + 40 hex)
    add(P("pulumi", "infra", ("pulumi",), "www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/", one("PULUMI_ACCESS_TOKEN", lambda: "pul-" + R(HEX, 40)), []))

    # https://developer.1password.com/docs/service-accounts/get-started/ (service account tokens: ops_ + base64 JSON)
    def onepw():
        body = {"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000, "salt": R(URLSAFE, 22)},
                "email": R(LOALNUM, 13) + "@1passwordserviceaccounts.com", "srpX": R(HEX, 64),
                "muk": {"alg": "A256GCM", "ext": True, "k": R(URLSAFE, 43), "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"},
                "secretKey": "A3-" + R(UPALNUM, 6) + "-" + R(UPALNUM, 6) + "-" + R(UPALNUM, 5) + "-" + R(UPALNUM, 5) + "-" + R(UPALNUM, 5) + "-" + R(UPALNUM, 5),
                "throttleSecret": {"seed": R(HEX, 64), "uuid": R(UPALNUM, 26)}, "deviceUuid": R(LOALNUM, 26)}
        t = "ops_" + b64url(json.dumps(body, separators=(",", ":")).encode())
        return cred([("OP_SERVICE_ACCOUNT_TOKEN", t)], [t], t=t)
    add(P("1password", "infra", ("1password", "onepassword"), "developer.1password.com/docs/service-accounts/get-started/", onepw, [], generic=("dotenv", "export", "actions", "k8s-secret")))

    # https://tailscale.com/kb/1085/auth-keys (tskey-auth-<id>-<secret>) and https://tailscale.com/kb/1101/api (tskey-api-)
    add(P("tailscale", "infra", ("tailscale",), "tailscale.com/kb/1085/auth-keys", one("TS_AUTHKEY", lambda: f"tskey-{rng.choice(['auth', 'auth', 'api'])}-{R(ALNUM, 11)}CNTRL-{R(ALNUM, 33)}"), [
        ("cloud-init", "cloud-init.yaml", "#cloud-config\nruncmd:\n  - curl -fsSL https://tailscale.com/install.sh | sh\n  - tailscale up --authkey=%(t)s --ssh\n"),
    ]))

    # https://supabase.com/docs/reference/cli/supabase-login (personal access tokens sbp_ + 40 hex)
    add(P("supabase-access-token", "infra", ("supabase",), "supabase.com/docs/reference/cli/supabase-login", one("SUPABASE_ACCESS_TOKEN", lambda: "sbp_" + R(HEX, 40)), []))

    # https://age-encryption.org/v1 (X25519 identities: bech32, HRP age-secret-key-, written upper-case)
    def age():
        key = bytes(rng.getrandbits(8) for _ in range(32))
        t = bech32("age-secret-key-", key).upper()
        pub = bech32("age", bytes(rng.getrandbits(8) for _ in range(32)))
        return cred([("SOPS_AGE_KEY", t)], [t], t=t, pub=pub)
    add(P("age", "infra", ("age",), "age-encryption.org/v1", age, [
        ("keys-txt", ".config/sops/age/keys.txt", "# created: 2026-03-02T10:14:55Z\n# public key: %(pub)s\n%(t)s\n"),
    ], generic=ENVONLY))

    # ---- database connection strings (passwords generated, URL-encoded where the syntax needs it)
    def dburl(scheme, port, env, user_choices, dbs, hosts, extra=""):
        def g():
            p = pw()
            q = urllib.parse.quote(p, safe="")
            user, db, host = rng.choice(user_choices), rng.choice(dbs), rng.choice(hosts)
            u = f"{scheme}://{user}:{q}@{host}:{port}/{db}{extra}"
            return cred([(env, u)], [p, q], u=u, p=p, user=user, db=db, host=host)
        return g
    # https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING
    add(P("postgresql", "database", ("postgres", "database", "connection", "uri", "db"), "www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING",
          dburl("postgresql", 5432, "DATABASE_URL", ["app", "billing_rw", "postgres"], ["app", "billing", "analytics"], ["db.internal", "prod-db.c9akciq32.eu-west-1.rds.amazonaws.com", "10.0.3.17"]), [
        ("sqlalchemy", "app/db.py", "from sqlalchemy import create_engine\n\nengine = create_engine(\"%(u)s\", pool_pre_ping=True)\n"),
        ("pgpass", ".pgpass", "%(host)s:5432:%(db)s:%(user)s:%(p)s\n"),
        ("jdbc", "src/main/resources/application.properties", "spring.datasource.url=jdbc:postgresql://%(host)s:5432/%(db)s\nspring.datasource.username=%(user)s\nspring.datasource.password=%(p)s\n"),
    ], generic=("dotenv", "compose", "actions", "k8s-secret", "json")))
    # https://dev.mysql.com/doc/refman/8.0/en/connecting-using-uri-or-key-value-pairs.html
    add(P("mysql", "database", ("mysql", "database", "connection", "uri", "db"), "dev.mysql.com/doc/refman/8.0/en/connecting-using-uri-or-key-value-pairs.html",
          dburl("mysql", 3306, "DATABASE_URL", ["wordpress", "app", "root"], ["shop", "wp"], ["mysql.internal", "db-1.acme.io"]), [
        ("my-cnf", ".my.cnf", "[client]\nuser=%(user)s\npassword=%(p)s\nhost=%(host)s\n"),
        ("php-pdo", "src/db.php", "<?php\n$pdo = new PDO('mysql:host=%(host)s;dbname=%(db)s', '%(user)s', '%(p)s');\n"),
    ], generic=("dotenv", "compose", "k8s-secret", "json")))

    # https://www.mongodb.com/docs/manual/reference/connection-string/
    def mongo():
        p = pw()
        q = urllib.parse.quote(p, safe="")
        u = f"mongodb+srv://{rng.choice(['app', 'admin', 'etl'])}:{q}@cluster0.{R(LOALNUM, 5)}.mongodb.net/{rng.choice(['prod', 'app'])}?retryWrites=true&w=majority"
        return cred([("MONGODB_URI", u)], [p, q], u=u)
    add(P("mongodb", "database", ("mongo", "database", "connection", "uri", "db"), "www.mongodb.com/docs/manual/reference/connection-string/", mongo, [
        ("python", "app/db.py", "from pymongo import MongoClient\n\nclient = MongoClient(\"%(u)s\")\n"),
        ("node", "src/db.js", "const mongoose = require('mongoose');\nmongoose.connect('%(u)s');\n"),
    ], generic=("dotenv", "compose", "k8s-secret", "json")))
    # https://redis.readthedocs.io/en/stable/connections.html#redis.Redis.from_url (redis[s]://[user]:password@host:port/db)
    add(P("redis", "database", ("redis", "database", "connection", "uri"), "redis.readthedocs.io/en/stable/connections.html",
          dburl("rediss", 6380, "REDIS_URL", ["default", ""], ["0", "1"], ["cache.acme.io", "redis-12345.c1.us-east-1-2.ec2.redns.redis-cloud.com"]), [
        ("python", "app/cache.py", "import redis\n\ncache = redis.from_url(\"%(u)s\")\n"),
        ("celery", "app/celeryconfig.py", "broker_url = \"%(u)s\"\nresult_backend = broker_url\n"),
    ], generic=("dotenv", "compose", "k8s-secret")))

    # https://learn.microsoft.com/en-us/sql/connect/ado-net/connection-string-syntax
    def mssql():
        p = pw().replace(";", "!")
        cs = f"Server=tcp:{rng.choice(['acme-sql', 'billing-db'])}.database.windows.net,1433;Initial Catalog=app;Persist Security Info=False;User ID=appuser;Password={p};MultipleActiveResultSets=False;Encrypt=True;"
        return cred([("ConnectionStrings__Default", cs)], [p], cs=cs, p=p)
    add(P("sqlserver", "database", ("sql", "mssql", "azure", "database", "connection"), "learn.microsoft.com/en-us/sql/connect/ado-net/connection-string-syntax", mssql, [
        ("appsettings", "src/Api/appsettings.json", "{\n  \"ConnectionStrings\": {\n    \"Default\": \"%(cs)s\"\n  }\n}\n"),
        ("web-config", "Web.config", "<configuration>\n  <connectionStrings>\n    <add name=\"Default\" connectionString=\"%(cs)s\" providerName=\"System.Data.SqlClient\" />\n  </connectionStrings>\n</configuration>\n"),
    ], generic=("dotenv", "k8s-secret")))
    # https://www.rabbitmq.com/docs/uri-spec
    add(P("amqp", "database", ("amqp", "rabbit", "connection", "uri"), "www.rabbitmq.com/docs/uri-spec",
          dburl("amqps", 5671, "AMQP_URL", ["app", "worker"], ["%2F", "prod"], ["rabbitmq.internal", "b-1234.mq.eu-west-1.amazonaws.com"]), [
        ("celery", "app/celeryconfig.py", "broker_url = \"%(u)s\"\n"),
        ("python", "worker/consume.py", "import pika\n\nparams = pika.URLParameters(\"%(u)s\")\nconn = pika.BlockingConnection(params)\n"),
    ], generic=("dotenv", "compose", "k8s-secret")))

    # ---- private keys (RFC 7468 PEM; RFC 8017, RFC 5208, RFC 5915; OpenSSH PROTOCOL.key)
    def keycred(text):
        body = [l for l in text.splitlines() if l and not l.startswith("-----")]
        esc = text.replace("\n", "\\n")
        ind = "".join("    " + l + "\n" for l in text.splitlines())
        return cred([], [body[1] if len(body) > 1 else body[0]], k=text, esc=esc, ind=ind, b=b64(text.encode()))
    key_places = [
        ("ansible", "group_vars/all/deploy.yml", "deploy_user: deploy\ndeploy_private_key: |\n%(ind)s"),
        ("python-escaped", "app/signing.py", "PRIVATE_KEY = \"%(esc)s\"\n"),
        ("k8s-secret", "k8s/tls.yaml", "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: api-tls\ndata:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n  tls.key: %(b)s\n"),
    ]
    add(P("rsa-private-key", "private-key", ("private", "rsa", "key", "pem"), "www.rfc-editor.org/rfc/rfc8017#appendix-A.1.2",
          lambda: keycred(pem("RSA PRIVATE KEY", rsa_key(rng))), [("pem-file", "deploy/deploy_key.pem", "%(k)s")] + key_places, generic=()))
    add(P("pkcs8-private-key", "private-key", ("private", "rsa", "key", "pem"), "www.rfc-editor.org/rfc/rfc5208#section-5",
          lambda: keycred(pem("PRIVATE KEY", pkcs8(rsa_key(rng)))), [("pem-file", "certs/server.key", "%(k)s")] + key_places, generic=()))
    add(P("ec-private-key", "private-key", ("private", "ec", "key", "pem"), "www.rfc-editor.org/rfc/rfc5915#section-3",
          lambda: keycred(pem("EC PRIVATE KEY", ec_key(rng))), [("pem-file", "certs/es256.pem", "%(k)s")] + key_places, generic=()))
    add(P("openssh-private-key", "private-key", ("private", "ssh", "key"), "github.com/openssh/openssh-portable/blob/master/PROTOCOL.key",
          lambda: keycred(openssh_ed25519(rng, "deploy@ci")[0]), [("id-file", ".ssh/id_ed25519", "%(k)s")] + key_places, generic=()))

    # ---- JWT-based service tokens
    # https://supabase.com/docs/guides/api/api-keys (service_role key: a JWT with role service_role; bypasses RLS)
    def supa_service():
        ref = R(LOWER, 20)
        iat = rng.randint(1_650_000_000, 1_750_000_000)
        t = jwt({"alg": "HS256", "typ": "JWT"}, {"iss": "supabase", "ref": ref, "role": "service_role", "iat": iat, "exp": iat + 315360000}, bytes(rng.getrandbits(8) for _ in range(32)))
        return cred([("SUPABASE_URL", f"https://{ref}.supabase.co"), ("SUPABASE_SERVICE_ROLE_KEY", t)], [t], t=t, ref=ref)
    add(P("supabase-service-role", "jwt", ("supabase", "jwt"), "supabase.com/docs/guides/api/api-keys", supa_service, [
        ("node", "server/supabase.ts", "import { createClient } from '@supabase/supabase-js';\nexport const admin = createClient('https://%(ref)s.supabase.co', '%(t)s');\n"),
    ]))

    # https://developer.1password.com/docs/connect/manage-connect/ (Connect server access tokens are ES256 JWTs)
    def op_connect():
        iat = rng.randint(1_650_000_000, 1_750_000_000)
        t = jwt({"alg": "ES256", "kid": R(LOALNUM, 26), "typ": "JWT"},
                {"1password.com/auuid": R(UPALNUM, 26), "1password.com/token": R(URLSAFE, 32), "1password.com/fts": ["vaultaccess"],
                 "1password.com/vts": [{"u": R(LOALNUM, 26), "a": 49152}], "aud": ["com.1password.connect"], "sub": R(UPALNUM, 26), "iat": iat, "iss": "com.1password.b5"},
                bytes(rng.getrandbits(8) for _ in range(64)))
        return cred([("OP_CONNECT_HOST", "http://op-connect:8080"), ("OP_CONNECT_TOKEN", t)], [t], t=t)
    add(P("1password-connect", "jwt", ("1password", "onepassword", "jwt"), "developer.1password.com/docs/connect/manage-connect/", op_connect, [], generic=("dotenv", "compose", "k8s-secret", "actions")))

    # RFC 7519 bearer tokens an internal service issued itself (no provider: any secret finding counts)
    def svc_jwt():
        iat = rng.randint(1_650_000_000, 1_750_000_000)
        t = jwt({"alg": "HS256", "typ": "JWT"}, {"iss": "https://auth.acme.io", "sub": "svc-" + rng.choice(["billing", "reporting", "etl"]), "scope": "orders:read orders:write", "iat": iat, "exp": iat + 31536000}, bytes(rng.getrandbits(8) for _ in range(32)))
        return cred([("INTERNAL_API_TOKEN", t)], [t], t=t)
    add(P("service-jwt", "jwt", ("*",), "www.rfc-editor.org/rfc/rfc7519", svc_jwt, [
        ("http-file", "api/requests.http", "GET https://api.acme.io/v1/orders?limit=50\nAuthorization: Bearer %(t)s\nAccept: application/json\n"),
        ("curl", "scripts/report.sh", "curl -s -H \"Authorization: Bearer %(t)s\" https://api.acme.io/v1/reports/daily > daily.json\n"),
    ], generic=("dotenv", "json", "k8s-secret")))

    # ---- generic password assignments in configuration (no provider: any secret finding counts)
    def gpw():
        p = pw()
        return cred([("DB_PASSWORD", p)], [p], p=p, x=p.replace("&", "&amp;").replace("<", "&lt;"))
    add(P("password-in-config", "generic", ("*",), "(no provider: configuration syntax of each tool)", gpw, [
        ("ini", "config/app.ini", "[database]\nhost = db.internal\nuser = app\npassword = %(p)s\n"),
        ("django", "app/settings.py", "DATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": \"app\",\n        \"USER\": \"app\",\n        \"PASSWORD\": \"%(p)s\",\n        \"HOST\": \"db.internal\",\n    }\n}\n"),
        ("compose", "docker-compose.yml", "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: \"%(p)s\"\n"),
        ("wp-config", "wp-config.php", "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wp' );\ndefine( 'DB_PASSWORD', '%(p)s' );\ndefine( 'DB_HOST', 'localhost' );\n"),
        ("spring", "src/main/resources/application.yml", "spring:\n  datasource:\n    url: jdbc:mysql://db.internal:3306/shop\n    username: shop\n    password: \"%(p)s\"\n"),
        ("ansible", "group_vars/prod.yml", "ansible_user: deploy\nansible_become_password: \"%(p)s\"\n"),
        ("maven", ".m2/settings.xml", "<settings>\n  <servers>\n    <server>\n      <id>acme-releases</id>\n      <username>deployer</username>\n      <password>%(x)s</password>\n    </server>\n  </servers>\n</settings>\n"),
        ("netrc", ".netrc", "machine artifacts.acme.io\n  login ci\n  password %(p)s\n"),
        ("appsettings", "src/Web/appsettings.json", "{\n  \"Smtp\": {\n    \"Host\": \"smtp.acme.io\",\n    \"User\": \"noreply@acme.io\",\n    \"Password\": \"%(p)s\"\n  }\n}\n"),
    ], generic=()))

    # ---- AI providers (a handful; benches/heldout.py covers them in depth)
    # https://platform.openai.com/docs/api-reference/authentication
    add(P("openai", "ai", ("openai",), "platform.openai.com/docs/api-reference/authentication", one("OPENAI_API_KEY", lambda: "sk-proj-" + R(URLSAFE, 74) + "T3BlbkFJ" + R(URLSAFE, 74)), [
        ("python", "agent/llm.py", "from openai import OpenAI\n\nclient = OpenAI(api_key=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))

    # https://docs.anthropic.com/en/api/getting-started
    add(P("anthropic", "ai", ("anthropic",), "docs.anthropic.com/en/api/getting-started", one("ANTHROPIC_API_KEY", lambda: "sk-ant-api03-" + R(URLSAFE, 93) + "AA"), [
        ("python", "agent/llm.py", "import anthropic\n\nclient = anthropic.Anthropic(api_key=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))

    # https://huggingface.co/docs/hub/security-tokens (hf_...)
    add(P("huggingface", "ai", ("huggingface", "hugging"), "huggingface.co/docs/hub/security-tokens", one("HF_TOKEN", lambda: "hf_" + R(string.ascii_letters, 34)), [
        ("python", "train/push.py", "from huggingface_hub import login\n\nlogin(token=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))

    # https://console.groq.com/docs/quickstart (gsk_ + 52)
    add(P("groq", "ai", ("groq",), "console.groq.com/docs/quickstart", one("GROQ_API_KEY", lambda: "gsk_" + R(ALNUM, 52)), [
        ("python", "agent/fast.py", "from groq import Groq\n\nclient = Groq(api_key=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))

    # https://ai.google.dev/gemini-api/docs/api-key (AIza + 35)
    add(P("google-gemini", "ai", ("google", "gemini", "gcp"), "ai.google.dev/gemini-api/docs/api-key", one("GEMINI_API_KEY", lambda: "AIza" + R(URLSAFE, 35)), [
        ("python", "agent/gemini.py", "from google import genai\n\nclient = genai.Client(api_key=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))

    # https://replicate.com/docs/reference/http#authentication (r8_ + 37)
    add(P("replicate", "ai", ("replicate",), "replicate.com/docs/reference/http#authentication", one("REPLICATE_API_TOKEN", lambda: "r8_" + R(ALNUM, 37)), [
        ("python", "agent/img.py", "import replicate\n\nclient = replicate.Client(api_token=\"%(t)s\")\n"),
    ], generic=("dotenv", "compose", "json", "notebook")))
    return out


# ---------------------------------------------------------------- hard negatives

def negatives(rng, count):
    R = lambda a, n: r(rng, a, n)
    names = ["github", "stripe", "aws", "slack", "datadog", "sentry", "twilio", "sendgrid", "gitlab", "npm",
             "heroku", "vault", "okta", "shopify", "mailgun", "azure", "gcp", "docker", "postgres", "redis"]
    img = lambda n: b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.getrandbits(8) for _ in range(n)))
    jwt_anon = lambda ref: jwt({"alg": "HS256", "typ": "JWT"}, {"iss": "supabase", "ref": ref, "role": "anon", "iat": 1700000000, "exp": 2015576000}, bytes(rng.getrandbits(8) for _ in range(32)))
    sshpub = lambda: "ssh-rsa " + b64(b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00" + bytes(rng.getrandbits(8) for _ in range(256)))

    def kinds(p):
        P_ = p.upper()
        return [
            ("git-sha", ".env", f"GIT_COMMIT_SHA={R(HEX, 40)}\nBUILD_NUMBER={rng.randint(100, 9999)}\n{P_}_REGION=eu-west-1\n"),
            ("sha256-dockerfile", "Dockerfile", f"FROM debian:bookworm-slim\nARG {P_}_CLI_VERSION=2.14.1\nARG {P_}_CLI_SHA256={R(HEX, 64)}\nRUN curl -fsSLO https://releases.example.io/{p}-cli.tgz && echo \"${{{P_}_CLI_SHA256}}  {p}-cli.tgz\" | sha256sum -c -\n"),
            ("lockfile", "package-lock.json", json.dumps({"packages": {f"node_modules/{p}": {"version": "4.2.0", "resolved": f"https://registry.npmjs.org/{p}/-/{p}-4.2.0.tgz", "integrity": "sha512-" + b64(bytes(rng.getrandbits(8) for _ in range(64)))}}}, indent=2) + "\n"),
            ("cargo-lock", "Cargo.lock", f"[[package]]\nname = \"{p}-sdk\"\nversion = \"0.9.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{R(HEX, 64)}\"\n"),
            ("go-sum", "go.sum", f"github.com/{p}/{p}-go v1.44.{rng.randint(0, 300)} h1:{b64(bytes(rng.getrandbits(8) for _ in range(32)))}\ngithub.com/{p}/{p}-go v1.44.0/go.mod h1:{b64(bytes(rng.getrandbits(8) for _ in range(32)))}\n"),
            ("uuid-ids", ".env", f"AZURE_TENANT_ID={uuid4(rng)}\nAZURE_SUBSCRIPTION_ID={uuid4(rng)}\n{P_}_PROJECT_ID={uuid4(rng)}\n"),
            ("request-log", "logs/app.log", f"2026-11-03T10:12:01Z INFO {p} request_id=req_{R(ALNUM, 14)} idempotency_key={uuid4(rng)} trace={R(HEX, 32)}\n"),
            ("image-data", "src/styles.css", f".logo-{p} {{ background-image: url(data:image/png;base64,{img(180)}); }}\n"),
            ("font-data", "src/fonts.css", f"@font-face {{ font-family: '{p}-icons'; src: url(data:font/woff2;base64,{b64(b'wOF2' + bytes(rng.getrandbits(8) for _ in range(240)))}) format('woff2'); }}\n"),
            ("sri", "public/index.html", f"<script src=\"https://cdn.example.com/{p}.min.js\" integrity=\"sha384-{b64(bytes(rng.getrandbits(8) for _ in range(48)))}\" crossorigin=\"anonymous\"></script>\n"),
            ("placeholder-env", ".env.example", rng.choice([
                f"{P_}_API_KEY=<your-{p}-api-key>\n", f"{P_}_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", "DB_PASSWORD=changeme\n",
                "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\n", "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n",
                "AWS_SECRET_ACCESS_KEY=YOUR_SECRET_ACCESS_KEY\n", "SLACK_BOT_TOKEN=xoxb-your-bot-token\n", "SENDGRID_API_KEY=SG.xxxxxxxx.yyyyyyyy\n",
                "MONGODB_URI=mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/\n", f"{P_}_SECRET=REPLACE_ME\n"])),
            ("placeholder-yaml", "config/example.yml", rng.choice([
                f"{p}:\n  api_key: \"********\"\n  endpoint: https://api.{p}.example\n", "database:\n  password: \"<password>\"\n",
                f"{p}:\n  token: TODO\n", "smtp:\n  password: your_password_here\n", f"{p}:\n  secret: \"${{{P_}_SECRET:?set me}}\"\n"])),
            ("env-ref-compose", "docker-compose.yml", f"services:\n  app:\n    environment:\n      {P_}_TOKEN: ${{{P_}_TOKEN}}\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD}}\n      DATABASE_URL: postgres://app:${{DB_PASSWORD}}@db:5432/app\n"),
            ("env-ref-python", "app/settings.py", f"import os\n\n{P_}_API_KEY = os.environ[\"{P_}_API_KEY\"]\nDB_PASSWORD = os.getenv(\"DB_PASSWORD\")\nclient = {p.capitalize()}(api_key=os.environ.get(\"{P_}_API_KEY\"))\n"),
            ("env-ref-js", "src/config.js", f"module.exports = {{\n  {p}Token: process.env.{P_}_TOKEN,\n  dbPassword: process.env.DB_PASSWORD,\n}};\n"),
            ("env-ref-actions", ".github/workflows/deploy.yml", f"jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      {P_}_TOKEN: ${{{{ secrets.{P_}_TOKEN }}}}\n      NPM_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}\n    steps:\n      - run: make deploy\n"),
            ("env-ref-k8s", "k8s/deployment.yaml", f"env:\n  - name: {P_}_TOKEN\n    valueFrom:\n      secretKeyRef:\n        name: {p}-credentials\n        key: token\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {{name: db, key: password}}\n"),
            ("env-ref-terraform", "infra/main.tf", f"provider \"{p}\" {{\n  token = var.{p}_token\n}}\nresource \"aws_db_instance\" \"main\" {{\n  password = var.db_password\n}}\n"),
            ("env-ref-spring", "src/main/resources/application.properties", f"spring.datasource.password=${{DB_PASSWORD}}\n{p}.api.key=${{{P_}_API_KEY}}\n"),
            ("env-ref-ansible", "group_vars/all.yml", f"db_password: \"{{{{ vault_db_password }}}}\"\n{p}_token: \"{{{{ lookup('env', '{P_}_TOKEN') }}}}\"\n"),
            ("docs-sample", "README.md", rng.choice([
                "```\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```\n",
                "Post to `https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX` to send a message.\n",
                "Example bot token: `123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11`\n",
                "Paste a token like `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c` into the debugger.\n",
                "Set `TWILIO_ACCOUNT_SID=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX` and `TWILIO_AUTH_TOKEN=your_auth_token`.\n"])),
            ("conn-no-password", ".env", rng.choice([
                "DATABASE_URL=postgresql://app@db.internal:5432/app\n", "MONGODB_URI=mongodb://localhost:27017/test\n", "REDIS_URL=redis://cache:6379/0\n",
                "AMQP_URL=amqp://rabbitmq:5672/\n", "DATABASE_URL=mysql://root@127.0.0.1:3306/shop\n",
                "SQL=Server=tcp:acme.database.windows.net,1433;Database=app;Authentication=Active Directory Default;Encrypt=True;\n"])),
            # public identifiers, each public by its provider's documentation: publishable keys
            # (docs.stripe.com/keys), DSNs ("safe to keep public", docs.sentry.io/concepts/key-terms/dsn-explainer/),
            # OAuth client ids, Mapbox pk. tokens (docs.mapbox.com/accounts/guides/tokens/), Datadog RUM client
            # tokens (docs.datadoghq.com/account_management/api-app-keys/#client-tokens), the Supabase anon key
            # ("safe to expose with RLS enabled", supabase.com/docs/guides/database/secure-data), a Twilio Account SID
            ("stripe-publishable", "src/checkout.js", f"const stripe = Stripe('{rng.choice(['pk_live_', 'pk_test_'])}51{R(ALNUM, 97)}');\n"),
            ("sentry-dsn", "src/sentry.js", f"Sentry.init({{ dsn: \"https://{R(HEX, 32)}@o{rng.randint(100000, 9999999)}.ingest.us.sentry.io/{rng.randint(1000000, 9999999)}\", tracesSampleRate: 0.1 }});\n"),
            ("oauth-client-id", "public/config.js", f"window.GOOGLE_CLIENT_ID = \"{rng.randint(10 ** 11, 10 ** 12 - 1)}-{R(LOALNUM, 32)}.apps.googleusercontent.com\";\n"),
            ("mapbox-public", "src/map.js", f"mapboxgl.accessToken = 'pk.{b64url(json.dumps({'u': 'acme', 'a': 'cl' + R(LOALNUM, 23)}, separators=(',', ':')).encode())}.{R(URLSAFE, 22)}';\n"),
            ("datadog-rum", "src/rum.js", f"datadogRum.init({{ applicationId: '{uuid4(rng)}', clientToken: 'pub{R(HEX, 32)}', site: 'datadoghq.com', service: 'web' }});\n"),
            ("supabase-anon", "src/supabase.js", (lambda ref: f"export const supabase = createClient('https://{ref}.supabase.co', '{jwt_anon(ref)}');\n")(R(LOWER, 20))),
            ("twilio-sid-only", "config/sms.yml", f"twilio:\n  account_sid: AC{R(HEX, 32)}\n  from: \"+15005550006\"\n  messaging_service_sid: MG{R(HEX, 32)}\n"),
            ("ssh-public-key", ".ssh/authorized_keys", f"{sshpub()} deploy@ci\n"),
            ("cloud-init-pub", "cloud-init.yaml", f"#cloud-config\nusers:\n  - name: deploy\n    ssh_authorized_keys:\n      - {sshpub()} ops@acme.io\n"),
            ("certificate", "certs/ca.crt", pem("CERTIFICATE", b"\x30\x82\x03\x0d\x30\x82\x01\xf5\xa0\x03\x02\x01\x02" + bytes(rng.getrandbits(8) for _ in range(760)))),
            ("public-key-pem", "keys/jwt_public.pem", pem("PUBLIC KEY", b"\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x00" + bytes(rng.getrandbits(8) for _ in range(270)))),
            ("age-public", ".sops.yaml", f"creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {bech32('age', bytes(rng.getrandbits(8) for _ in range(32)))}\n"),
            ("ansible-vault", "group_vars/prod/vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(R(HEX, 80) for _ in range(6)) + "\n"),
            ("sops", "secrets/prod.yaml", f"{p}_token: ENC[AES256_GCM,data:{b64(bytes(rng.getrandbits(8) for _ in range(30)))},iv:{b64(bytes(rng.getrandbits(8) for _ in range(32)))},tag:{b64(bytes(rng.getrandbits(8) for _ in range(16)))},type:str]\nsops:\n    age:\n        - recipient: {bech32('age', bytes(rng.getrandbits(8) for _ in range(32)))}\n"),
            ("password-words", "app/settings.py", "AUTH_PASSWORD_VALIDATORS = [{\"NAME\": \"django.contrib.auth.password_validation.MinimumLengthValidator\"}]\nPASSWORD_RESET_TIMEOUT = 259200\npassword_min_length = 12\npassword = getpass.getpass(\"Password: \")\n"),
            ("password-empty", "config/database.yml", "development:\n  adapter: postgresql\n  database: app_dev\n  username: app\n  password:\n  host: localhost\n"),
            ("html-form", "templates/login.html", "<form method=\"post\">\n  <input type=\"text\" name=\"username\">\n  <input type=\"password\" name=\"password\" autocomplete=\"current-password\">\n</form>\n"),
            ("ci-run-ids", "ci/env.txt", f"GITHUB_RUN_ID={rng.randint(10 ** 9, 10 ** 10)}\nCIRCLE_WORKFLOW_ID={uuid4(rng)}\nBUILDKITE_BUILD_ID={uuid4(rng)}\n{P_}_TRACE_ID={R(HEX, 32)}\n"),
            ("provider-object-ids", "fixtures/events.json", json.dumps({"customer": "cus_" + R(ALNUM, 14), "charge": "ch_3" + R(ALNUM, 23), "event": "evt_1" + R(ALNUM, 23), "slack_channel": "C0" + R(UPALNUM, 9), "sentry_event_id": R(HEX, 32), "twilio_message_sid": "SM" + R(HEX, 32)}, indent=2) + "\n"),
            ("image-digest", "k8s/deployment.yaml", f"spec:\n  containers:\n    - name: {p}-proxy\n      image: ghcr.io/acme/{p}-proxy@sha256:{R(HEX, 64)}\n"),
            ("aws-ids", "infra/roles.tf", f"data \"aws_iam_role\" \"deploy\" {{\n  name = \"deploy\"\n}}\n# arn:aws:iam::{rng.randint(10 ** 11, 10 ** 12 - 1)}:role/{p}-deploy\nkms_key_id = \"arn:aws:kms:eu-west-1:{rng.randint(10 ** 11, 10 ** 12 - 1)}:key/{uuid4(rng)}\"\n"),
            ("changelog", "CHANGELOG.md", f"## 2.4.1\n- rotate the {p} token after the audit (old token revoked, new one in the vault)\n- {R(HEX, 7)} bump {p} client to 4.2.0\n"),
            ("cache-keys", "app/cache.py", f"{p}_cache_key = \"{R(HEX, 40)}\"\nETAG = \"W/\\\"{R(HEX, 32)}\\\"\"\n"),
        ]
    out = []
    for i in range(count):
        out += kinds(names[i % len(names)])
    return out


# ---------------------------------------------------------------- run and score

def main():
    a, rng, tmp, corpus = setup()
    provs = providers(rng)
    labels = {}

    def write(case, fname, text, label):
        d = os.path.join(corpus, case)
        path = os.path.join(d, fname)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        labels[case] = label

    n = 0
    for p in provs:
        for _ in range(a.per_case):
            c = p.gen()
            places = [x for x in generic_placements(c["env"]) if x[0] in p.generic] if c["env"] else []
            places += [(ctx, fname, tmpl % c) for ctx, fname, tmpl in p.specific]
            for ctx, fname, text in places:
                write(f"p{n:05}", fname, text, (p, ctx, c["secrets"]))
                n += 1
    negs = negatives(rng, 4 * a.per_case)
    for i, (kind, fname, text) in enumerate(negs):
        write(f"n{i:05}", fname, text, (None, kind, []))

    report = os.path.join(tmp, "report.json")
    out = subprocess.run([a.roster, "scan", corpus, "--format", "json", "--output", report, "--fail-on", "none",
                          "--no-progress", "--show-secrets", "--max-findings-per-rule", "0",
                          "--state-dir", os.path.join(tmp, "state")], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"roster exited {out.returncode}: {out.stderr}")
    with open(report) as f:
        findings = [x for x in json.load(f)["findings"] if x.get("kind", "secret") == "secret"]
    by_case = {}
    for x in findings:
        by_case.setdefault(x["path"].replace("\\", "/").lstrip("/").split("/")[0], []).append(x)

    def matches(p, x):
        if "*" in p.accept:
            return True
        hay = ((x.get("provider") or "") + " " + x.get("rule_id", "")).lower()
        return any(n in hay for n in p.accept)

    def covers(x, secrets):
        s = x.get("secret") or ""
        return len(s) >= 6 and any(s in v or v in s for v in secrets)

    per, fam, missed, fp, miss_ctx = {}, {}, [], [], {}
    for case, (p, ctx, secrets) in sorted(labels.items()):
        got = by_case.get(case, [])
        if p is None:
            if got:
                fp.append((case, ctx, sorted({g["rule_id"] for g in got})))
            continue
        hits = [g for g in got if matches(p, g)]
        t = per.setdefault(p.name, {"family": p.family, "found": 0, "covered": 0, "flagged": 0, "total": 0, "doc": p.doc})
        f = fam.setdefault(p.family, {"found": 0, "covered": 0, "flagged": 0, "total": 0})
        for d in (t, f):
            d["total"] += 1
            d["found"] += bool(hits)
            d["covered"] += any(covers(g, secrets) for g in hits)
            d["flagged"] += any(covers(g, secrets) for g in got)
        if not hits:
            missed.append((case, p.name, ctx, sorted({f"{g['rule_id']} ({g.get('provider')})" for g in got})))
            miss_ctx[ctx] = miss_ctx.get(ctx, 0) + 1
    pos = sum(t["total"] for t in per.values())
    found = sum(t["found"] for t in per.values())
    covered = sum(t["covered"] for t in per.values())
    nneg = sum(1 for v in labels.values() if v[0] is None)
    print(f"held-out estate: {pos} positive files ({len(per)} providers in {len(fam)} families, {a.per_case} credentials each), "
          f"{nneg} negatives ({len(negs) // (4 * a.per_case)} kinds); seed {a.seed}")
    print(f"  {'provider':27} {'family':14} found   recall  covered  flagged")
    for name, t in per.items():
        print(f"  {name:27} {t['family']:14} {t['found']:3}/{t['total']:<3} {t['found'] / t['total']:6.2f} {t['covered'] / t['total']:8.2f} {t['flagged'] / t['total']:8.2f}")
    print("by family:        found      recall  covered  flagged")
    for name, t in fam.items():
        print(f"  {name:14} {t['found']:4}/{t['total']:<4} {t['found'] / t['total']:8.3f} {t['covered'] / t['total']:8.3f} {t['flagged'] / t['total']:8.3f}")
    flagged = sum(t["flagged"] for t in per.values())
    print(f"overall recall {found}/{pos} = {found / pos:.3f} (covered {covered / pos:.3f}; flagged by any rule {flagged / pos:.3f}); "
          f"false positives {len(fp)}/{nneg} = {len(fp) / nneg:.4f}")
    zero = [k for k, t in per.items() if t["found"] == 0]
    if zero:
        print(f"providers at 0 recall ({len(zero)}): " + ", ".join(zero))
    if miss_ctx:
        print("missed by placement: " + ", ".join(f"{k} {v}" for k, v in sorted(miss_ctx.items(), key=lambda kv: -kv[1])))
    fp_kinds = {}
    for _, kind, _ in fp:
        fp_kinds[kind] = fp_kinds.get(kind, 0) + 1
    if fp_kinds:
        print("false positives by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(fp_kinds.items(), key=lambda kv: -kv[1])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seed": a.seed, "per_case": a.per_case, "recall": found / pos, "covered": covered / pos, "flagged": flagged / pos,
                       "fp_rate": len(fp) / nneg, "positives": pos, "negatives": nneg, "per_family": fam,
                       "per_provider": per, "zero_recall": zero, "missed": missed, "false_positives": fp}, f, indent=2)


if __name__ == "__main__":
    main()
