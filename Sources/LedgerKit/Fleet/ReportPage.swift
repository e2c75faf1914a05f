import Foundation

/// The fleet report as one self-contained HTML page: no script, no font, no image from
/// anywhere (the page's own Content-Security-Policy forbids them), inline SVG for the
/// nights and the sizes, and a `<details>` per client that a click opens on its findings.
/// Every text from a record is escaped: a client's name is someone else's bytes.
extension FleetReport {
    /// The Content-Security-Policy of the page, also sent by `fleet serve`.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

    /// The whole page as one text.
    public func html() -> String {
        var page = ""
        html { page += $0 }
        return page
    }

    /// The page in pieces, a row at a time, for writing a large fleet's page without holding it whole.
    public func html(_ emit: (String) throws -> Void) rethrows {
        let counts = self.counts
        try emit(
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>Company files: fleet report</title>
            <style>\(Self.style)</style></head>
            <body><header><h1>Company files</h1>
            <p class="summary">\(rows.count) client\(rows.count == 1 ? "" : "s") ·
            <span class="count attention">\(counts[.attention] ?? 0) need attention</span> ·
            <span class="count watch">\(counts[.watch] ?? 0) to keep an eye on</span> ·
            <span class="count good">\(counts[.good] ?? 0) good</span> ·
            as of \(Self.moment(Timestamp.string(from: generatedAt)))</p>
            <p class="help">Most at risk first. Click a client for its findings. Green means verified, backed up \
            and proven restorable on time; nothing unchecked is green.</p></header>
            <main><table><thead><tr><th>#</th><th>Client</th><th>Status</th><th>Last verify</th>\
            <th>Last good backup</th><th>Last proven restore</th><th>Last \(Self.nightsShown) nights</th>\
            <th>Size</th></tr></thead><tbody>

            """)
        for row in rows { try emit(html(row)) }
        try emit(
            """
            </tbody></table></main>
            <footer><p>Nights: <span class="key good"></span> good <span class="key warning"></span> findings \
            <span class="key failed"></span> failed <span class="key missed"></span> missed. Sizes: \
            <span class="line file"></span> company file <span class="line snap"></span> snapshot.</p></footer>
            </body></html>

            """)
    }

    private func html(_ row: ReportRow) -> String {
        let id = "c\(row.rank)"
        var cells = "<tr class=\"client \(row.level.rawValue)\" id=\"\(id)\" data-rank=\"\(row.rank)\" "
        cells += "data-slug=\"\(Self.escaped(row.slug))\" data-level=\"\(row.level.rawValue)\">"
        cells += "<td class=\"rank\">\(row.rank)</td>"
        // Each name isolated (<bdi>): a record's name cannot reorder the folder's beside it.
        cells += "<td class=\"name\"><details><summary><bdi>\(Self.escaped(row.client))</bdi>"
        if row.client != row.slug { cells += " <span class=\"slug\"><bdi>\(Self.escaped(row.slug))</bdi></span>" }
        cells += "</summary><div class=\"findings\">\(details(row))</div></details></td>"
        cells += "<td class=\"status\"><span class=\"pill \(row.level.rawValue)\">\(row.level.words)</span>"
        if let worst = row.concerns.first { cells += "<div class=\"why\">\(Self.escaped(worst.detail))</div>" }
        cells += "</td>"
        cells += "<td>\(Self.moment(row.lastVerifyAt))<div class=\"why\">\(verifyWords(row))</div></td>"
        var backup = Self.moment(row.lastGoodBackupAt)
        if let bytes = row.lastGoodBackupBytes { backup += "<div class=\"why\">\(Self.size(bytes))</div>" }
        cells += "<td>\(backup)</td>"
        cells += "<td>\(Self.moment(row.lastProvenAt))</td>"
        cells += "<td>\(strip(row))</td><td>\(chart(row))</td></tr>\n"
        return cells
    }

    private func verifyWords(_ row: ReportRow) -> String {
        switch row.verifyOutcome {
        case nil: return "never"
        case .clean?: return "clean"
        case .findings?: return "\(row.errors) errors, \(row.warnings) warnings"
        case .damaged?: return "damaged"
        case .failed?: return "could not run"
        // A record whose verify says clean and lists findings, or whose outcome is none this version knows.
        case .unknown?: return "unclear, see details"
        }
    }

    private func details(_ row: ReportRow) -> String {
        var text = "<ul class=\"concerns\">"
        for noted in row.concerns {
            text += "<li><code>\(noted.concern.rawValue)</code> \(Self.escaped(noted.detail))</li>"
        }
        if row.concerns.isEmpty { text += "<li>Nothing needs attention.</li>" }
        text += "</ul>"
        if row.findings.isEmpty {
            text += "<p>\(row.verifyOutcome == .clean ? "The last verify found nothing." : "No findings recorded.")</p>"
        } else {
            text += "<table class=\"found\"><tr><th>Code</th><th>Severity</th><th>Finding</th></tr>"
            for finding in row.findings {
                text +=
                    "<tr><td><code>\(Self.escaped(finding.code))</code></td><td>\(Self.escaped(finding.severity))</td>"
                text += "<td>\(Self.escaped(finding.message))</td></tr>"
            }
            text += "</table>"
            if row.errors + row.warnings > row.findings.count {
                text +=
                    "<p>The first \(row.findings.count) of \(row.errors + row.warnings): run <code>ledger verify</code> for all.</p>"
            }
        }
        if let bytes = row.fileBytes {
            text += "<p>File: \(Self.size(bytes))"
            if let free = row.freePagesPercent { text += ", \(free)% free pages" }
            text += ".</p>"
        }
        return text
    }

    /// Thirty small squares, oldest on the left, each titled with its day and what happened.
    private func strip(_ row: ReportRow) -> String {
        let width = 6
        let gap = 2
        let total = row.nights.count * (width + gap)
        var svg = "<svg class=\"strip\" width=\"\(total)\" height=\"16\" viewBox=\"0 0 \(total) 16\" role=\"img\" "
        svg += "aria-label=\"last \(row.nights.count) nights\">"
        let today = CivilDate(generatedAt)
        for (index, mark) in row.nights.enumerated() {
            let day = today + (index - row.nights.count + 1)
            svg += "<rect class=\"\(mark.rawValue)\" x=\"\(index * (width + gap))\" y=\"2\" width=\"\(width)\" "
            svg += "height=\"12\" rx=\"1\"><title>\(day): \(mark.rawValue)</title></rect>"
        }
        return svg + "</svg>"
    }

    /// Two lines, the file's size and the snapshot's, over the record's history.
    private func chart(_ row: ReportRow) -> String {
        let points = row.sizes
        let largest = points.reduce(Int64(1)) { max($0, $1.fileBytes ?? 0, $1.snapshotBytes ?? 0) }
        let width = 120.0
        let height = 28.0
        func line(_ value: (ReportRow.SizePoint) -> Int64?, _ kind: String) -> String {
            guard points.count > 1 else { return "" }
            let step = width / Double(points.count - 1)
            let coordinates = points.enumerated().compactMap { index, point -> String? in
                guard let bytes = value(point), bytes >= 0 else { return nil }
                let y = height - 2 - (height - 4) * Double(bytes) / Double(largest)
                return String(format: "%.1f,%.1f", Double(index) * step, y)
            }
            guard coordinates.count > 1 else { return "" }
            return "<polyline class=\"\(kind)\" points=\"\(coordinates.joined(separator: " "))\"/>"
        }
        var svg = "<svg class=\"chart\" width=\"120\" height=\"28\" viewBox=\"0 0 120 28\" role=\"img\" "
        svg += "aria-label=\"sizes over time\">"
        svg += line({ $0.fileBytes }, "file") + line({ $0.snapshotBytes }, "snap")
        if let last = points.last {
            let words = [
                last.fileBytes.map { "file " + Self.size($0) }, last.snapshotBytes.map { "snapshot " + Self.size($0) },
            ]
            svg += "<title>\(Self.escaped(last.day)): \(words.compactMap { $0 }.joined(separator: ", "))</title>"
        }
        return svg + "</svg>"
    }

    /// A record's timestamp as the page shows it: the time, or "never".
    private static func moment(_ timestamp: String?) -> String {
        guard let timestamp else { return "<span class=\"never\">never</span>" }
        guard Timestamp.parse(timestamp) != nil else { return "<span class=\"never\">unreadable</span>" }
        return
            "<time datetime=\"\(escaped(timestamp))\">\(escaped(timestamp.replacingOccurrences(of: "T", with: " ")))</time>"
    }

    /// Bytes in the units people read: "1.2 MB".
    static func size(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }

    /// Text made safe inside HTML elements and quoted attributes.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}"..."\u{9F}": result += "\u{FFFD}"
            // Direction marks and overrides: a name could show as another client's.
            case _ where Quoting.isDirectionMark(scalar): result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static let style = """
        :root{--red:#c62828;--amber:#b26a00;--green:#2e7d32;--grey:#9e9e9e;font-family:system-ui,sans-serif}
        body{margin:1.5rem;color:#222;background:#fafafa}h1{margin:0 0 .3rem;font-size:1.5rem}
        .summary{margin:0;font-size:1rem}.help{color:#555;font-size:.85rem;margin:.3rem 0 1rem}
        .count.attention{color:var(--red);font-weight:600}.count.watch{color:var(--amber);font-weight:600}
        .count.good{color:var(--green);font-weight:600}
        td.name{max-width:24rem;overflow-wrap:anywhere}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.45rem .6rem;text-align:left;
        vertical-align:top;border-bottom:1px solid #e4e4e4;font-size:.9rem}thead th{background:#f0f0f0;font-weight:600}
        tr.client.attention td.rank{border-left:4px solid var(--red)}tr.client.watch td.rank{border-left:4px solid var(--amber)}
        tr.client.good td.rank{border-left:4px solid var(--green)}summary{cursor:pointer;font-weight:600}
        .slug{color:#777;font-weight:400;font-size:.8rem}.pill{display:inline-block;padding:.1rem .5rem;border-radius:1rem;
        color:#fff;font-size:.8rem;white-space:nowrap}.pill.attention{background:var(--red)}.pill.watch{background:var(--amber)}
        .pill.good{background:var(--green)}.why{color:#555;font-size:.8rem;margin-top:.2rem}.never{color:var(--red)}
        .findings{margin-top:.4rem;max-width:40rem}.findings ul{padding-left:1.1rem;margin:.3rem 0}
        table.found{width:auto}table.found td,table.found th{font-size:.8rem;padding:.2rem .4rem}
        rect.good,.key.good{fill:var(--green);background:var(--green)}rect.warning,.key.warning{fill:var(--amber);
        background:var(--amber)}rect.failed,.key.failed{fill:var(--red);background:var(--red)}
        rect.missed,.key.missed{fill:#ddd;background:#ddd}.key{display:inline-block;width:.7rem;height:.7rem}
        polyline{fill:none;stroke-width:1.5}polyline.file,.line.file{stroke:#1565c0;border-color:#1565c0}
        polyline.snap,.line.snap{stroke:#8e24aa;border-color:#8e24aa}.line{display:inline-block;width:1rem;
        border-top:2px solid}footer{color:#555;font-size:.8rem;margin-top:1rem}
        """
}
