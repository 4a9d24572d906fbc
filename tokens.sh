#!/bin/bash
# tokens.sh: [[token]] tables added, rotated and removed by SIGHUP on daemon a; ispctl with a missing/wrong token
cd /tmp/probe15; . env.sh; PID=$(cat a/pid)
T1=$(openssl rand -hex 32); T2=$(openssl rand -hex 32)
H1=$(echo -n $T1 | ./bin/ispd hash-token); H2=$(echo -n $T2 | ./bin/ispd hash-token)
echo "hash-token output: $H1"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "operator"\nhash = "%s"\n' "$H1") > a/ispd.toml; kill -HUP $PID; sleep 1.5; tail -1 a/log | cut -c1-200
echo "T1 status: $(ISPD_TOKEN=$T1 $I system status | head -1)"
echo "T1 admin-only op (nas add): $(ISPD_TOKEN=$T1 $I nas add --name x --address 192.0.2.9 --secret-file /dev/null 2>&1 | head -2)"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "operator"\nhash = "%s"\n' "$H2") > a/ispd.toml; kill -HUP $PID; sleep 1.5
echo "after rotation T1: $(ISPD_TOKEN=$T1 $I system status 2>&1 | head -1)"
echo "after rotation T2: $(ISPD_TOKEN=$T2 $I system status 2>&1 | head -1)"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "superuser"\nhash = "%s"\n' "$H2") > a/ispd.toml; kill -HUP $PID; sleep 1.5; echo "bad role: $(tail -1 a/log | cut -c1-250)"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "admin"\nhash = "sha256:abc"\n') > a/ispd.toml; kill -HUP $PID; sleep 1.5; echo "bad hash: $(tail -1 a/log | cut -c1-250)"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "admin"\nhash = "%s"\n[[token]]\nname = "ops"\nrole = "readonly"\nhash = "%s"\n' "$H1" "$H2") > a/ispd.toml; kill -HUP $PID; sleep 1.5; echo "duplicate name: $(tail -1 a/log | cut -c1-250)"
(cat a/ispd.toml.good; printf '[[token]]\nname = "ops"\nrole = "admin"\nhash = "%s"\n[[token]]\nname = "ops2"\nrole = "readonly"\nhash = "%s"\n' "$H1" "$H1") > a/ispd.toml; kill -HUP $PID; sleep 1.5; echo "same hash two roles: $(tail -1 a/log | cut -c1-250)"
echo "   T1 nas list with same-hash-two-roles: $(ISPD_TOKEN=$T1 $I nas list 2>&1 | head -1)"
cp a/ispd.toml.good a/ispd.toml; kill -HUP $PID; sleep 1.5
echo "after removal T2: $(ISPD_TOKEN=$T2 $I system status 2>&1 | head -1)"
echo "=== ispctl failures"
echo "no token file: $(ISPD_STATE_DIR=/tmp/probe15/nb $I --server http://127.0.0.1:24403 system status 2>&1)"
echo "wrong token: $(ISPD_TOKEN=nottherighttoken $I system status 2>&1)"
echo "empty token file: $(: > /tmp/probe15/t/empty; $I --token-file /tmp/probe15/t/empty system status 2>&1)"
echo "wrong port: $(timeout 20 $I --server http://127.0.0.1:24499 system status 2>&1)"
echo "https to plain: $(timeout 20 $I --server https://127.0.0.1:24403 system status 2>&1)"
echo "https no --ca: $(timeout 20 $I --server https://127.0.0.1:24403 --ca /dev/null system status 2>&1)"
echo "RADIUS port (udp) as admin: $(timeout 20 $I --server http://127.0.0.1:24401 system status 2>&1)"
echo "metrics port (http/1) as admin: $(timeout 20 $I --server http://127.0.0.1:24404 system status 2>&1)"
echo "no scheme: $(timeout 20 $I --server 127.0.0.1:24403 system status 2>&1)"
