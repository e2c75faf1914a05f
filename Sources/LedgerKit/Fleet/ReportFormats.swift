import Foundation

/// The fleet report as JSON and as CSV, for the firm's other tools (docs/fleet-report.md).
extension FleetReport {
    /// The report as one JSON object: `format`, `version`, `generated_at`, counts by level and
    /// the ranked `clients`. Keys are snake_case and sorted.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(Envelope(
            format: Self.formatName, version: 1, generatedAt: Timestamp.string(from: generatedAt),
            attention: counts[.attention] ?? 0, watch: counts[.watch] ?? 0, good: counts[.good] ?? 0, clients: rows))
    }

    private struct Envelope: Encodable {
        let format: String
        let version: Int
        let generatedAt: String
        let attention: Int
        let watch: Int
        let good: Int
        let clients: [ReportRow]
    }

    /// The CSV header, one column a field of `csvRecord`.
    public static let csvColumns = [
        "rank", "client", "slug", "level", "risk", "concerns", "last_verify_at", "verify_outcome", "errors",
        "warnings", "last_good_backup_at", "last_good_backup_age_hours", "last_good_backup_bytes", "last_proven_at",
        "drill_outcome", "file_bytes", "free_pages_percent",
    ]

    /// The report as CSV (RFC 4180, CRLF line ends), one line a client in rank order.
    public func csv() -> String {
        var text = Self.csvColumns.joined(separator: ",") + "\r\n"
        for row in rows {
            let fields: [String] = [
                String(row.rank), row.client, row.slug, row.level.rawValue, String(row.risk),
                row.concerns.map { $0.concern.rawValue + ": " + $0.detail }.joined(separator: "; "),
                row.lastVerifyAt ?? "", row.verifyOutcome?.rawValue ?? "", String(row.errors), String(row.warnings),
                row.lastGoodBackupAt ?? "", row.lastGoodBackupAgeHours.map(String.init) ?? "",
                row.lastGoodBackupBytes.map(String.init) ?? "", row.lastProvenAt ?? "", row.drillOutcome?.rawValue ?? "",
                row.fileBytes.map(String.init) ?? "", row.freePagesPercent.map(String.init) ?? "",
            ]
            text += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// One CSV field: quoted when it holds a comma, quote or line end; a text a spreadsheet
    /// would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`,
    /// since client names come from a location anyone with access could write.
    static func csvField(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Int(value) == nil {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension FleetReport {
    /// Writes one of the report's outputs to `path`: a new file, 0600, made whole beside
    /// it and renamed over it, so a reader never sees half a report.
    public static func write(_ bytes: Data, to path: String) throws {
        let temporary = AtomicFile.temporaryPath(beside: path, purpose: "report")
        do {
            let descriptor = try SystemCalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            defer { SystemCalls.close(descriptor) }
            try bytes.withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: temporary) }
            try SystemCalls.fsync(descriptor, path: temporary)
            try SystemCalls.rename(temporary, path)
        } catch let error as SystemCallError {
            unlink(temporary)
            throw ReportError.cannotWrite(path, error.reason)
        }
    }
}
