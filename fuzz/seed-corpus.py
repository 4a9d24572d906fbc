#!/usr/bin/env python3
"""Seed the fuzz corpora from the codec's test vectors.

Reads proto/radius/tests/vectors/*.txt (``key = value`` lines; an empty value
continues on the following indented lines as a hex dump, ``#`` starts a
comment, the same format tests/vectors.rs parses) and writes:

  corpus/packet_decode/, corpus/verify/  every hex dump (whole packets, and
                                         the few bare attribute values, which
                                         decode-fail harmlessly)
  corpus/vsa_parse/                      the value of every Vendor-Specific
                                         (26) attribute found in those
                                         packets, plus every hex dump whole

Standard library only. Idempotent: files are named <vector>-<key>[-vsaN].
Run from anywhere:  python3 fuzz/seed-corpus.py
"""

import pathlib
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "proto" / "radius" / "tests" / "vectors"
HEADER_LEN = 20
VENDOR_SPECIFIC = 26


def hex_dumps(text):
    """Yield (key, bytes) for every multi-line hex value of a vector file."""
    entries = []  # [key, value, continued]
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace():
            entries[-1][1] += " " + line.strip()
            entries[-1][2] = True
        else:
            key, _, value = line.partition("=")
            entries.append([key.strip(), value.strip(), False])
    for key, value, continued in entries:
        if continued:
            yield key, bytes.fromhex("".join(value.split()))


def vsa_values(packet):
    """Values of the type-26 attributes of a well-formed packet, else []."""
    if len(packet) < HEADER_LEN:
        return []
    length = int.from_bytes(packet[2:4], "big")
    if length < HEADER_LEN or length > len(packet):
        return []
    out, offset = [], HEADER_LEN
    while offset + 2 <= length:
        typ, alen = packet[offset], packet[offset + 1]
        if alen < 2 or offset + alen > length:
            return out
        if typ == VENDOR_SPECIFIC:
            out.append(packet[offset + 2 : offset + alen])
        offset += alen
    return out


def main():
    dirs = {t: FUZZ / "corpus" / t for t in ("packet_decode", "verify", "vsa_parse")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(dirs, 0)

    def write(target, name, data):
        (dirs[target] / name).write_bytes(data)
        counts[target] += 1

    files = sorted(VECTORS.glob("*.txt"))
    if not files:
        sys.exit(f"no vector files in {VECTORS}")
    for path in files:
        for key, data in hex_dumps(path.read_text()):
            name = f"{path.stem}-{key}"
            write("packet_decode", name, data)
            write("verify", name, data)
            write("vsa_parse", name, data)
            for i, vsa in enumerate(vsa_values(data)):
                write("vsa_parse", f"{name}-vsa{i}", vsa)
    for target, n in counts.items():
        print(f"{dirs[target].relative_to(FUZZ)}: {n} seeds")


if __name__ == "__main__":
    main()
