import Foundation

/// The fleet report as JSON and as CSV, for the firm's other tools (docs/fleet-report.md).
extension FleetReport {
    /// The report as one JSON object: `format`, `version`, `generated_at`, counts by level and
    /// the ranked `clients`. Keys are snake_case and sorted.
    public func json() throws -> Data {
        var data = Data()
        try json { data.append($0) }
        return data
    }

    /// The JSON in pieces, a client at a time (one client a line), so a large fleet's report is
    /// never held whole: each row is encoded on its own.
    public func json(_ emit: (Data) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let counts = self.counts
        // The envelope's keys in sorted order, as the rows' are: attention, clients, format,
        // generated_at, good, version, watch.
        try emit(Data("{\"attention\":\(counts[.attention] ?? 0),\"clients\":[".utf8))
        for (index, row) in rows.enumerated() {
            try emit(Data((index == 0 ? "\n" : ",\n").utf8) + encoder.encode(row))
        }
        let tail =
            "\n],\"format\":\(try encoded(Self.formatName, encoder)),"
            + "\"generated_at\":\(try encoded(Timestamp.string(from: generatedAt), encoder)),"
            + "\"good\":\(counts[.good] ?? 0),\"version\":1,\"watch\":\(counts[.watch] ?? 0)}\n"
        try emit(Data(tail.utf8))
    }

    private func encoded(_ text: String, _ encoder: JSONEncoder) throws -> String {
        String(decoding: try encoder.encode(text), as: UTF8.self)
    }

    /// The CSV header, one column a field of `csvRecord`.
    public static let csvColumns = [
        "rank", "client", "slug", "level", "risk", "concerns", "last_verify_at", "verify_outcome", "errors",
        "warnings", "last_good_backup_at", "last_good_backup_age_hours", "last_good_backup_bytes", "last_proven_at",
        "drill_outcome", "file_bytes", "free_pages_percent",
    ]

    /// The report as CSV (RFC 4180, CRLF line ends), one line a client in rank order.
    public func csv() -> String {
        var text = ""
        csv { text += $0 }
        return text
    }

    /// The CSV in pieces, a line at a time.
    public func csv(_ emit: (String) throws -> Void) rethrows {
        try emit(Self.csvColumns.joined(separator: ",") + "\r\n")
        for row in rows {
            let fields: [String] = [
                String(row.rank), row.client, row.slug, row.level.rawValue, String(row.risk),
                row.concerns.map { $0.concern.rawValue + ": " + $0.detail }.joined(separator: "; "),
                row.lastVerifyAt ?? "", row.verifyOutcome?.rawValue ?? "", String(row.errors), String(row.warnings),
                row.lastGoodBackupAt ?? "", row.lastGoodBackupAgeHours.map(String.init) ?? "",
                row.lastGoodBackupBytes.map(String.init) ?? "", row.lastProvenAt ?? "",
                row.drillOutcome?.rawValue ?? "",
                row.fileBytes.map(String.init) ?? "", row.freePagesPercent.map(String.init) ?? "",
            ]
            try emit(fields.map(Self.csvField).joined(separator: ",") + "\r\n")
        }
    }

    /// One CSV field: quoted when it holds a comma, semicolon, tab, quote or line end; a text a
    /// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
    /// leading `'`, since client names come from a location anyone with access could write. A
    /// semicolon or tab is quoted too: a spreadsheet whose list separator is one of them (Excel
    /// in much of Europe) would otherwise split `a;=cmd|…` into a cell that starts with `=`.
    /// Direction marks become U+FFFD, as on the page: a name could show as another client's.
    static func csvField(_ value: String) -> String {
        var value = String(
            String.UnicodeScalarView(value.unicodeScalars.map { Quoting.isDirectionMark($0) ? "\u{FFFD}" : $0 }))
        // The first mark a spreadsheet may read as one: past spaces and invisible characters too.
        let first = value.unicodeScalars.first {
            !($0.properties.isWhitespace || $0.properties.generalCategory == .format) || $0 == "\t" || $0 == "\r"
        }
        if let first, "=+-@\t\r\u{FF1D}\u{FF0B}\u{FF0D}\u{FF20}".unicodeScalars.contains(first), Int(value) == nil {
            value = "'" + value
        }
        return Quoting.csvField(value)
    }
}

extension FleetReport {
    /// Writes one of the report's outputs to `path`: a new file, 0600, made whole beside
    /// it and renamed over it, so a reader never sees half a report. `produce` is given a
    /// function that appends text to the file, so a large report is never held whole.
    public static func write(to path: String, _ produce: ((String) throws -> Void) throws -> Void) throws {
        let temporary = AtomicFile.temporaryPath(beside: path, purpose: "report")
        do {
            let descriptor = try SystemCalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            defer { SystemCalls.close(descriptor) }
            var pending: [UInt8] = []
            pending.reserveCapacity(1 << 16)
            func flush() throws {
                try pending.withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: temporary) }
                pending.removeAll(keepingCapacity: true)
            }
            try produce { text in
                pending.append(contentsOf: text.utf8)
                if pending.count >= 1 << 16 { try flush() }
            }
            if !pending.isEmpty { try flush() }
            try SystemCalls.fsync(descriptor, path: temporary)
            try SystemCalls.rename(temporary, path)
        } catch let error as SystemCallError {
            unlink(temporary)
            throw ReportError.cannotWrite(path, error.reason)
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
