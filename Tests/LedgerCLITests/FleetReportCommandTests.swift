import Foundation
import LedgerKit
import LedgerTestSupport
import Testing

/// `ledger fleet report` and `ledger fleet serve` end to end: exit statuses, the files written,
/// the server's refusals over a real socket, and the page in a real headless browser.
@Suite struct FleetReportCommandTests {
    /// A fleet location of four clients: one damaged, one with warnings, one never proven, one good.
    static func fleet(in folder: TemporaryDirectory) throws -> String {
        let location = folder.file("fleet")
        let now = Date()
        func at(_ hours: Double) -> String { Timestamp.string(from: now.addingTimeInterval(-hours * 3_600)) }
        func healthy(_ name: String, _ slug: String) -> ClientStatus {
            var status = ClientStatus(client: name, slug: slug, updatedAt: at(1))
            status.verify = .init(at: at(1), outcome: .clean)
            var backup = ClientStatus.BackupStep(at: at(1), outcome: .clean)
            backup.lastGoodAt = at(1)
            backup.lastGoodBytes = 2_400_000
            status.backup = backup
            var drill = ClientStatus.DrillStep(at: at(2), outcome: .clean)
            drill.lastProvenAt = at(2)
            status.drill = drill
            let today = CivilDate(now)
            var nights: [ClientStatus.Night] = []
            for back in (0..<30).reversed() {
                let grown = Int64(30 - back)
                let outcome: ClientStatus.StepOutcome = back == 3 ? .findings : .clean
                nights.append(
                    ClientStatus.Night(
                        day: (today + -back).description, outcome: outcome,
                        fileBytes: 8_000_000 + grown * 20_000,
                        snapshotBytes: 2_400_000 + grown * 5_000))
            }
            status.history = nights
            status.size = .init(at: at(1), bytes: 8_600_000, pageSize: 4_096, freePages: 12)
            return status
        }
        var damaged = healthy("Damaged & Sons", "damaged-sons")
        var verify = ClientStatus.VerifyStep(at: at(1), outcome: .damaged)
        verify.bySeverity = ["error": 1]
        verify.findings = [
            .init(code: "damaged-page", severity: "error", message: "Page 412 of the file cannot be read.")
        ]
        verify.problem = "page 412 cannot be read: run ledger rebuild"
        damaged.verify = verify
        var warned = healthy("Warned Ltd", "warned")
        var found = ClientStatus.VerifyStep(at: at(1), outcome: .findings)
        found.bySeverity = ["warning": 2]
        warned.verify = found
        var unproven = healthy("Unproven Inc", "unproven")
        unproven.drill = nil
        for status in [healthy("Good Co", "good"), unproven, warned, damaged] {
            try FileManager.default.createDirectory(
                atPath: location + "/" + status.slug, withIntermediateDirectories: true)
            try status.encoded().write(
                to: URL(fileURLWithPath: location + "/" + status.slug + "/" + ClientStatus.objectName))
        }
        return location
    }

    @Test func reportRanksWritesFilesAndSaysSoInItsStatus() throws {
        let folder = TemporaryDirectory()
        let location = try Self.fleet(in: folder)
        let run = try Ledger.run(
            "fleet", "report", location, "--csv", folder.file("r.csv"), "--html", folder.file("r.html"))
        #expect(run.status == 1, "\(run.stderr)")
        #expect(
            run.stdout.components(separatedBy: "\n").dropFirst().prefix(4).map { $0.components(separatedBy: "\t")[1] }
                == [
                    "Damaged & Sons (damaged-sons)", "Warned Ltd (warned)", "Unproven Inc (unproven)", "Good Co (good)",
                ])
        #expect(run.stdout.hasPrefix("4 clients: 1 need attention, 2 to keep an eye on, 1 good"))
        for file in ["r.csv", "r.html"] {
            let mode = try FileManager.default.attributesOfItem(atPath: folder.file(file))[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let csv = try String(contentsOfFile: folder.file("r.csv"), encoding: .utf8)
        #expect(csv.components(separatedBy: "\r\n")[1].hasPrefix("1,Damaged & Sons,damaged-sons,attention,100,"))

        let json = try Ledger.run("fleet", "report", location, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let clients = try #require(object["clients"] as? [[String: Any]])
        #expect(clients.map { $0["slug"] as? String } == ["damaged-sons", "warned", "unproven", "good"])

        try FileManager.default.removeItem(atPath: location + "/damaged-sons")
        #expect(try Ledger.run("fleet", "report", location).status == 0)
        let missing = try Ledger.run("fleet", "report", folder.file("nowhere"))
        #expect(missing.status == 2)
        #expect(
            missing.stderr == "ledger: \(folder.file("nowhere")) is not a folder of client status records. "
                + "Name the location fleet backup writes to.\n")
    }

    /// A location with no client folder (an empty folder, a mount point with nothing
    /// mounted; hidden entries do not count) is an error, never "0 clients" and exit 0.
    @Test func aLocationWithNoClientFolderIsAnError() throws {
        let folder = TemporaryDirectory()
        let empty = folder.file("mnt")
        try FileManager.default.createDirectory(atPath: empty + "/.hidden", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: empty + "/.ledger-fleet-backup-1-of-1.json"))
        let message =
            "ledger: \(empty) holds no client folder: nothing to report. Check it is the location fleet backup "
            + "writes to, and that it is mounted.\n"
        for arguments in [["fleet", "report", empty], ["fleet", "report", empty, "--json"]] {
            let run = try Ledger.run(arguments)
            #expect(run.status == 2, "\(arguments): \(run.stdout)")
            #expect(run.stdout == "" && run.stderr == message, "\(run.stderr)")
        }
        let serve = try Ledger.run("fleet", "serve", empty, "--port", "0")
        #expect(serve.status == 2 && serve.stderr == message, "\(serve.stderr)")
    }

    /// A client folder deleted from the location still needs attention in the report,
    /// until `fleet forget` says the client left; forget refuses what it must not do.
    @Test func aClientWhoseFolderIsDeletedNeedsAttentionUntilForgotten() throws {
        let folder = TemporaryDirectory()
        let location = try Self.fleet(in: folder)
        // The records were written by hand here: a fleet step puts its clients on the roster.
        try FileManager.default.createDirectory(
            atPath: location + "/" + FleetRoster.folder, withIntermediateDirectories: true)
        for slug in ["good", "warned"] {
            try Data("{}".utf8).write(to: URL(fileURLWithPath: location + "/.ledger-roster/" + slug))
        }
        try FileManager.default.removeItem(atPath: location + "/good")
        let report = try Ledger.run("fleet", "report", location)
        #expect(report.status == 1)
        // Its record went with its folder: the row has the folder's name, and says what to do.
        let row = try #require(
            report.stdout.components(separatedBy: "\n").first {
                $0.components(separatedBy: "\t").dropFirst().first == "good"
            })
        #expect(
            row.contains(
                "\tNeeds attention: the client's folder is gone from the location, yet the location's roster lists it"),
            "\(row)")
        #expect(report.stdout.hasPrefix("4 clients: 2 need attention"), "\(report.stdout)")

        let still = try Ledger.run("fleet", "forget", location, "good", "warned")
        #expect(still.status == 2 && still.stdout == "")
        #expect(
            still.stderr
                == "ledger: The client folder warned is still in \(location): a client is reported while its "
                + "folder is there. Move or remove the folder first, then forget the client.\n", "\(still.stderr)")
        let unknown = try Ledger.run("fleet", "forget", location, "nobody")
        #expect(unknown.status == 2 && unknown.stderr.contains("nobody"), "\(unknown.stderr)")
        // On a machine whose configuration folder was never made (nothing to take off its copy).
        var fresh = ProcessInfo.processInfo.environment
        fresh["XDG_CONFIG_HOME"] = folder.file("never-made")
        let forgot = try Ledger.run(["fleet", "forget", location, "good", "--json"], environment: fresh)
        #expect(forgot.status == 0, "\(forgot.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(forgot.stdout.utf8)) as? [String: Any])
        #expect(object["forgotten"] as? [String] == ["good"] && object["location"] as? String == location)
        let after = try Ledger.run("fleet", "report", location)
        #expect(after.stdout.hasPrefix("3 clients: 1 need attention"), "\(after.stdout)")
    }

    /// A tab or an escape in a record's client name is shown escaped: it makes
    /// no column of the text report and no command to the terminal.
    @Test func aNameInARecordMakesNoColumnInTheTextReport() throws {
        let folder = TemporaryDirectory()
        let location = folder.file("fleet")
        try FileManager.default.createDirectory(atPath: location + "/acme", withIntermediateDirectories: true)
        let status = ClientStatus(
            client: "Acme\tGood\u{1B}[2J", slug: "acme", updatedAt: Timestamp.string(from: Date()))
        try status.encoded().write(to: URL(fileURLWithPath: location + "/acme/" + ClientStatus.objectName))
        let run = try Ledger.run("fleet", "report", location)
        let line = try #require(run.stdout.components(separatedBy: "\n").dropFirst().first)
        #expect(line.components(separatedBy: "\t").count == 3, "\(line)")
        #expect(line.contains("Acme\\u{09}Good\\u{1B}[2J"), "\(line)")
    }

    @Test func serveRefusesWithoutTokenOrWithAForeignHostAndListensOnLoopbackOnly() throws {
        let folder = TemporaryDirectory()
        let location = try Self.fleet(in: folder)
        let server = try ServedReport(location: location)
        defer { server.stop() }
        let port = server.port
        let page = try RawHTTP.get(port: port, target: server.path, host: "127.0.0.1:\(port)")
        #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(page.contains("Damaged &amp; Sons"))
        #expect(!page.lowercased().contains("access-control-allow"))
        #expect(try RawHTTP.get(port: port, target: "/", host: "127.0.0.1:\(port)").hasPrefix("HTTP/1.1 404 "))
        #expect(try RawHTTP.get(port: port, target: "/wrong/", host: "127.0.0.1:\(port)").hasPrefix("HTTP/1.1 404 "))
        #expect(
            try RawHTTP.get(port: port, target: server.path, host: "rebind.example:\(port)").hasPrefix("HTTP/1.1 403 "))
        #expect(
            try RawHTTP.get(port: port, target: server.path, host: "127.0.0.1:\(port)", method: "DELETE")
                .hasPrefix("HTTP/1.1 405 "))
        // The kernel's own table of listening sockets: bound to 127.0.0.1 (0100007F), never 0.0.0.0.
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let portHex = String(format: "%04X", port)
        let ours = table.components(separatedBy: "\n").filter { $0.contains(":\(portHex) ") && $0.contains(" 0A ") }
        #expect(ours.count == 1)
        #expect(ours.allSatisfy { $0.contains("0100007F:\(portHex)") })
    }

    /// The page in Debian's chromium through chromedriver: no console error, no network request,
    /// rows in risk order with the damaged client first, a click shows its findings; a screenshot
    /// is left at .build/fleet-report.png for people to look at.
    @Test func thePageWorksInARealBrowser() throws {
        let chromium = try ExternalTool.require("chromium", install: "apt-get install chromium chromium-driver")
        _ = chromium
        let driverTool = try ExternalTool.require("chromedriver", install: "apt-get install chromium-driver")
        let folder = TemporaryDirectory()
        let location = try Self.fleet(in: folder)
        let page = folder.file("report.html")
        let run = try Ledger.run("fleet", "report", location, "--html", page)
        #expect(run.status == 1, "\(run.stderr)")

        let driver = try WebDriver(chromedriver: driverTool.path)
        defer { driver.quit() }
        try driver.open("file://" + page)
        let slugs = try driver.attributes(of: "tr.client", "data-slug")
        #expect(slugs == ["damaged-sons", "warned", "unproven", "good"])
        #expect(try driver.attributes(of: "tr.client", "data-level") == ["attention", "watch", "watch", "good"])
        #expect(try driver.isDisplayed("#c1 .findings") == false)
        try driver.click("#c1 summary")
        #expect(try driver.isDisplayed("#c1 .findings") == true)
        #expect(try driver.text(of: "#c1 .findings").contains("Page 412 of the file cannot be read."))
        let screenshot = try driver.screenshot()
        #expect(screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let build = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build")
        try screenshot.write(to: build.appendingPathComponent("fleet-report.png"))

        let console = try driver.log("browser").filter { ($0["level"] as? String) == "SEVERE" }
        #expect(console.isEmpty, "\(console)")
        let requests = try driver.log("performance").compactMap { entry -> String? in
            guard let message = entry["message"] as? String,
                let object = try? JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any],
                let inner = object["message"] as? [String: Any],
                inner["method"] as? String == "Network.requestWillBeSent",
                let params = inner["params"] as? [String: Any], let request = params["request"] as? [String: Any]
            else { return nil }
            return request["url"] as? String
        }
        #expect(requests.allSatisfy { $0 == "file://" + page }, "\(requests)")
    }
}

/// `ledger fleet serve` running in the background for one test.
final class ServedReport {
    let process = Process()
    let port: Int
    let path: String

    init(location: String) throws {
        process.executableURL = Ledger.binary
        process.arguments = ["fleet", "serve", location, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let start = text.range(of: "http://127.0.0.1:"),
            let url = URL(string: String(text[start.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)),
            let port = url.port
        else {
            process.terminate()
            throw ServeFailed(printed: text)
        }
        self.port = port
        self.path = url.path.hasSuffix("/") ? url.path : url.path + "/"
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    struct ServeFailed: Error { let printed: String }
}

/// One HTTP request over a plain socket, so a test can send any Host header it likes.
enum RawHTTP {
    static func get(port: Int, target: String, host: String, method: String = "GET") throws -> String {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw Failure(step: "socket") }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(step: "connect") }
        let request = Array("\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(socketDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socketDescriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    struct Failure: Error { let step: String }
}
