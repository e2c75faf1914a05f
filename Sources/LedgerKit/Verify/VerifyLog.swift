import Foundation

/// The plain-text record of verifications that `verify --log FILE` keeps, like
/// QuickBooks' qbwin.log: one block per run, appended, never rewritten.
public enum VerifyLog {
    /// The text of one run's record.
    public static func record(of report: VerifyReport, quick: Bool, at moment: Date = Date()) -> String {
        let counts = ["accounts", "transactions", "splits"].compactMap { table in
            report.counts[table].map { "\(table) \($0)" }
        }
        var text =
            "\(Timestamp.string(from: moment)) verify \(report.file)" + (report.company.map { " of \($0)" } ?? "")
            + " (format \(report.formatVersion)"
            + (quick ? ", quick" : "") + "): " + counts.joined(separator: ", ") + "\n"
        for finding in report.findings {
            let place = [finding.table, finding.rowID.map(String.init)].compactMap { $0 }.joined(separator: " ")
            text +=
                "  \(finding.severity.rawValue) \(finding.code.rawValue)" + (place.isEmpty ? "" : " [\(place)]")
                + ": \(finding.message)\n"
        }
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)" + (number == 1 ? "" : "s") }
        text +=
            "  result: \(count(report.errorCount, "error")), \(count(report.warningCount, "warning")), \(report.repairableCount) repairable, "
            + String(format: "%.2f s", Double(report.elapsedMS) / 1000) + "\n"
        return text
    }

    /// Appends the record of `report` to the log at `path`, creating it (mode 0600) if needed.
    ///
    /// - Throws: `CompanyFileError.cannotCreate` when the log cannot be written.
    public static func append(_ report: VerifyReport, quick: Bool, to path: String, at moment: Date = Date()) throws {
        // A log is text: an SQLite database there (the company file named by a slip) is not written to.
        guard !FileHeader.holdsDatabase(path) else {
            throw CompanyFileError.cannotCreate(
                path: path, reason: "it is an SQLite database (a company file?), not a log; choose another --log")
        }
        do {
            let descriptor = try SystemCalls.open(path, O_WRONLY | O_APPEND | O_CREAT)
            defer { SystemCalls.close(descriptor) }
            let bytes = Array(record(of: report, quick: quick, at: moment).utf8)
            try bytes.withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: path) }
        } catch let error as SystemCallError {
            throw CompanyFileError.cannotCreate(path: path, reason: error.reason)
        }
    }
}
