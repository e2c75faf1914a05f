#!/usr/bin/env bash
# Fuzzes one reader of outside bytes with libFuzzer for SECONDS (not part of
# the tests): Scripts/fuzz.sh ofx|csv|page|wal|gzip|manifest|age|listing|recipients|packs SECONDS
#
# Builds the LedgerFuzz harness (Tests/Fuzz) with -sanitize=fuzzer,address in
# its own build folder (.build-fuzz), seeds a corpus from SampleData and a
# small company file, and runs. Crashes land in .build-fuzz/crashes/TARGET/;
# replay one with `swift run LedgerFuzz TARGET FILE` and make it a regression
# test. The last lines give the executions done.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-}"
seconds="${2:-60}"
case "$target" in
    ofx|csv|page|wal|gzip|manifest|age|listing|recipients|packs) ;;
    *) echo "usage: Scripts/fuzz.sh ofx|csv|page|wal|gzip|manifest|age|listing|recipients|packs SECONDS" >&2; exit 64 ;;
esac

scratch=.build-fuzz
swift build --scratch-path "$scratch" --product LedgerFuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DLEDGER_FUZZ >&2
binary="$scratch/debug/LedgerFuzz"

corpus="$scratch/corpus/$target"
crashes="$scratch/crashes/$target"
mkdir -p "$corpus" "$crashes"
if [ -z "$(ls -A "$corpus")" ]; then
    # Seeds: real inputs of each kind, small enough for the fuzzer to mutate.
    seedfolder=$(mktemp -d)
    trap 'rm -rf "$seedfolder"' EXIT
    swift build --product ledger >&2
    .build/debug/ledger sample "$seedfolder/seed.db" --transactions 20 --seed 1 >/dev/null
    case "$target" in
        ofx) cp SampleData/*.ofx SampleData/*.qfx "$corpus"/ 2>/dev/null || true ;;
        csv) cp SampleData/*.csv "$corpus"/ 2>/dev/null || printf 'Date,Amount,Description,Memo\n2026-01-02,-12.50,Coffee,\n' > "$corpus/seed.csv" ;;
        page) head -c 65536 "$seedfolder/seed.db" > "$corpus/seed.db" ;;
        wal)
            python3 - "$seedfolder/seed.db" "$corpus/seed.wal" <<'PY'
import shutil, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db); c.execute('PRAGMA wal_autocheckpoint = 0')
c.execute("UPDATE company SET name = 'Fuzz'"); c.commit()
shutil.copy(db + '-wal', out); c.close()
PY
            ;;
        gzip) .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --level 1 >/dev/null
              cp "$seedfolder"/backups/*.gz "$corpus"/ ;;
        manifest)
            # A real manifest (signed by a throwaway key), as the text of a gzip header's comment.
            XDG_CONFIG_HOME="$seedfolder/config" .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --level 1 >/dev/null
            python3 - "$seedfolder"/backups/*.gz "$corpus/seed.json" <<'PY'
import sys
head = open(sys.argv[1], 'rb').read(65536)
open(sys.argv[2], 'wb').write(head[10:head.index(b'\0', 10)].rstrip())
PY
            ;;
        age)
            # Seeds encrypted to the harness's fixed identity (the C2SP testkit's) and to its passphrase.
            printf 'AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n' > "$seedfolder/key.txt"
            chmod 600 "$seedfolder/key.txt"
            .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --level 1 \
                --encrypt-to "$(age-keygen -y "$seedfolder/key.txt")" >/dev/null
            cp "$seedfolder"/backups/*.age "$corpus"/
            cp Tests/LedgerKitTests/Encryption/Fixtures/age-testkit/x25519 Tests/LedgerKitTests/Encryption/Fixtures/age-testkit/stream_two_chunks "$corpus"/ ;;
        listing)
            # A ListObjectsV2 page as S3 writes it, truncated, and an error document.
            printf '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>books</Name><Prefix>acme/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><Contents><Key>acme/acme-20261121T020000Z.db.gz</Key><LastModified>2026-11-21T02:00:04.000Z</LastModified><Size>646144</Size></Contents><Contents><Key>acme/caf&amp;#233; &amp;lt;x&amp;gt;.db.gz</Key><Size>12</Size></Contents></ListBucketResult>\n' > "$corpus/page.xml"
            printf '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>\n' > "$corpus/error.xml"
            printf 'bytes 0-4095/646144' > "$corpus/range.txt" ;;
        packs)
            # A real incremental: its pack index objects (one of delta blobs: version 2)
            # and its snapshot object (a gzip page table).
            .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --incremental >/dev/null
            .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --incremental >/dev/null
            python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1])
c.execute(\"UPDATE transactions SET memo = 'fuzz ' || id WHERE id % 4 = 0\"); c.commit()" "$seedfolder/seed.db"
            .build/debug/ledger backup "$seedfolder/seed.db" --to "$seedfolder/backups" --incremental >/dev/null
            number=0
            for index in "$seedfolder"/backups/packs/*.index; do
                number=$((number + 1)); cp "$index" "$corpus/seed-$number.index"
            done
            cp "$(ls "$seedfolder"/backups/*.gz | tail -n 1)" "$corpus/seed-table.gz" ;;
        recipients)
            recipient=$(.build/debug/ledger key new --out "$seedfolder/key.txt" 2>/dev/null)
            printf '# LOCATION RECIPIENT...\n/srv/backups %s %s # two\n"/media/USB Drive/books" %s\ns3://acme-books/ledger %s\n~/books %s\n' \
                "$recipient" "$recipient" "$recipient" "$recipient" "$recipient" > "$corpus/seed" ;;
    esac
fi

echo "fuzzing $target for $seconds s" >&2
# Leaks are not looked for: Foundation's FileManager.contents(atPath:) leaks
# 8 KiB on an empty file, which would end every run at once.
LEDGER_FUZZ_TARGET="$target" "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -detect_leaks=0 \
    -artifact_prefix="$crashes/" -print_final_stats=1 2>&1 | tail -n 25
