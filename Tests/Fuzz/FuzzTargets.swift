import Foundation

@testable import LedgerKit

/// The readers of bytes from outside, each fed whatever a fuzzer makes: bank
/// statements (OFX, CSV), the page decoder of page salvage, the -wal frame
/// reader, the gzip header and manifest reader of restore, the manifest's
/// own text (its signature check and the bounded decompression it drives),
/// the age reader of encrypted snapshots (with a fixed identity), the
/// readers of object storage's answers (a listing page and its bound, a
/// Content-Range), the owner's recipients file
/// (`~/.config/ledger/recipients`), and an incremental snapshot's pack index
/// object, page table and delta blobs (docs/incremental.md). A target may throw (that is
/// how a reader refuses); it must never crash or hang.
enum FuzzTarget: String, CaseIterable {
    case ofx, csv, page, wal, gzip, manifest, age, listing, recipients, packs

    /// The key the `manifest` target checks signatures with.
    static let manifestKey = ManifestKey(bytes: Array(repeating: 7, count: 32))

    /// The identity the `age` target's seeds are encrypted to (Scripts/fuzz.sh writes it).
    static let ageIdentity = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

    /// A scratch folder of this process for the inputs that are read from files.
    static let scratch: String = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }()

    private func file(_ name: String, _ data: Data) -> String {
        let path = Self.scratch + "/" + name
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    func run(_ data: Data) {
        switch self {
        case .ofx:
            // As OFXReader.read(path:) reads a file's bytes, without the file.
            let text = statementText(data)
            _ = try? OFXReader.parse(text, path: "statement.ofx", style: AmountStyle())
            _ = try? OFXReader.parse(text, path: "statement.ofx", style: AmountStyle(decimal: .comma, roundCents: true))
        case .csv:
            _ = try? CSVReader.read(
                data, path: "statement.csv",
                mapping: CSVMapping(date: "Date", amount: "Amount", payee: "Description", memo: "Memo"),
                style: AmountStyle())
            _ = try? CSVReader.read(
                data, path: "statement.csv",
                mapping: CSVMapping(
                    date: "1", payee: "3", debit: "2", credit: "4", type: "5",
                    dateFormat: "M/D/YYYY", hasHeader: false, delimiter: ";", skipFooter: true),
                style: AmountStyle(roundCents: true))
        case .page:
            // The input is a whole file: a page-size header of the fuzzer's, then pages.
            guard let pages = try? PageFile(path: file("damaged.db", data)) else { return }
            let free = pages.freelist()
            for (_, root) in pages.tableRoots() {
                _ = pages.leaves(from: root, skipping: free)
                _ = pages.leafKeys(from: root, skipping: free, unreadable: true)
            }
            for number in 1...max(1, min(pages.pageCount, 64)) {
                guard let page = pages.page(number) else { continue }
                if let rows = pages.rows(ofLeaf: page, headerAt: number == 1 ? 100 : 0) {
                    _ = PageSalvage.Shape.table(fitting: rows.map(\.values))
                }
                _ = pages.scannedRows(of: page, keys: Int64.min...Int64.max) { PageSalvage.Shape.fits($0, "splits") }
            }
        case .wal:
            // A log beside an eight-page database file of zeros.
            let database = Self.scratch + "/log.db"
            FileManager.default.createFile(atPath: database, contents: Data(count: 8 * 4096))
            _ = file("log.db-wal", data)
            _ = try? WriteAheadLog.apply(logAt: database + "-wal", onto: database)
        case .gzip:
            _ = Gzip.parseHeader([UInt8](data))
            let path = file("acme-20261121T020000Z.db.gz", data)
            _ = try? SnapshotCatalog.read(path)
            _ = try? Gzip.decompress(path: path) { _ in }
        case .manifest:
            // The input is a manifest's text, in the header of a snapshot of 16 bytes.
            let content = Array("SQLite format 3\0".utf8)
            let deflated = (try? content.withUnsafeBytes { try WholeDeflater(level: 1).compress($0) }) ?? []
            let header: [UInt8] = [0x1F, 0x8B, 8, 0x10, 0, 0, 0, 0, 0, 3]
            let snapshot =
                header + [UInt8](data).filter { $0 != 0 } + [0] + deflated
                + Gzip.littleEndian(content.withUnsafeBytes { CRC32.of($0) }) + Gzip.littleEndian(UInt32(content.count))
            let path = file("acme-20261121T020000Z.db.gz", Data(snapshot))
            guard let read = try? SnapshotCatalog.read(path), let manifest = read.manifest else { return }
            _ = Self.manifestKey.signed(manifest)
            _ = try? Self.manifestKey.signature(of: manifest)
            let restored = Self.scratch + "/restored.db"
            unlink(restored)
            _ = try? Restorer.decompress(read, to: restored)
            unlink(restored)
        case .age:
            let keys = SnapshotIdentities(
                identities: AgeIdentity(text: Self.ageIdentity).map { [$0] } ?? [], passphrases: ["fuzz"])
            _ = try? AgeFile.decrypt(ByteFeed.bytes([UInt8](data)), with: keys) { _ in }
            _ = try? AgeFile.decryptHead(
                [UInt8](data.prefix(2 * AgeFile.sealedChunkSize)), size: Int64(data.count), with: keys)
            let path = file("acme-20261121T020000Z.db.gz.age", data)
            _ = try? SnapshotCatalog.read(path, with: keys)
        case .listing:
            // The same page again and again, as a server that never ends a listing sends it: the bound must stop it.
            let wrapped = Data("<ListBucketResult>".utf8) + data + Data("</ListBucketResult>".utf8)
            if let page = (try? ListingParser.parse(data)) ?? (try? ListingParser.parse(wrapped)) {
                var bound = ListingBound(maxObjects: 1_000)
                var objects = 0
                for _ in 0..<2_000 {
                    objects += page.objects.count
                    guard (try? bound.count(page, bytes: data.count, objects: objects)) != nil, page.truncated else {
                        break
                    }
                }
            }
            _ = S3ErrorDocument.code(in: data)
            _ = S3Client.contentRange(String(decoding: data.prefix(200), as: UTF8.self))
        case .packs:
            // The same bytes as a pack index object, a page table, and a gzip member holding one,
            // read as a backup and a restore read them.
            let bytes = [UInt8](data)
            if let index = try? PackIndex.decode(bytes, for: String(repeating: "ab", count: 32)) {
                for number in 0..<min(index.count, 4_096) {
                    _ = index.range(number)
                    _ = index.hash(number)
                    _ = index.base(number)
                }
            }
            // The same bytes as a delta blob, inflated against a base page as restore does.
            if let deltas = try? PageDeltas(level: 1) {
                let base = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                var page = [UInt8](repeating: 0, count: 4096)
                _ = bytes.withUnsafeBytes { blob in
                    base.withUnsafeBytes { base in
                        page.withUnsafeMutableBytes { deltas.inflate(blob, against: base, into: $0) }
                    }
                }
            }
            let inflated = try? IncrementalObjects.gunzip(bytes, limit: 1 << 20)
            for candidate in [bytes, inflated].compactMap({ $0 }) {
                // The reader restore and prune use, fed in two pieces as the inflater would.
                for keep in [IncrementalTableReader.Keep.everything, .packs] {
                    var reader = IncrementalTableReader(pageCount: 5, keep: keep)
                    let half = candidate.count / 2
                    _ = try? candidate.withUnsafeBytes { all in
                        try reader.read(UnsafeRawBufferPointer(rebasing: all[..<half]))
                        try reader.read(UnsafeRawBufferPointer(rebasing: all[half...]))
                        _ = try reader.finish()
                    }
                }
                guard let table = try? IncrementalTable.decode(candidate) else { continue }
                // The page count a manifest would claim: the runs' own, and a wrong one.
                let claimed = table.runs.reduce(0) { $0 &+ $1.count }
                for pageCount in [claimed, claimed &+ 1, 0] {
                    _ = try? table.runsByPack(pageCount: pageCount)
                    _ = try? table.pageHashes(pageCount: pageCount)
                }
            }
        case .recipients:
            guard let config = try? RecipientsConfig.parse(data, path: "recipients", home: "/home/office") else {
                return
            }
            for location in ["/srv/backups", "~/books", "s3://acme-books/ledger", "relative", "s3://"] {
                _ = config.recipients(for: location)
            }
        }
    }
}

#if LEDGER_FUZZ
    /// libFuzzer's entry (`Scripts/fuzz.sh` builds with `-sanitize=fuzzer`); the
    /// target is named by LEDGER_FUZZ_TARGET.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        let target = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["LEDGER_FUZZ_TARGET"] ?? "") ?? .ofx
        target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM names an executable's entry `<Target>_main` and points `main` at it,
    /// so libFuzzer's own `main` is not used: this one hands over to its driver.
    @_cdecl("LedgerFuzz_main")
    public func ledgerFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments) { bytes, size in fuzzOneInput(bytes, size) }
    }
#else
    /// Without libFuzzer: replays inputs (a crash the fuzzer found, a corpus) through
    /// a target: `LedgerFuzz TARGET FILE…`.
    @main
    struct Replay {
        static func main() {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                print("usage: LedgerFuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…")
                exit(64)
            }
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                target.run(data)
            }
            print("\(arguments.count - 1) inputs ran through \(name) without a crash")
        }
    }
#endif
