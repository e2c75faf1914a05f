import Foundation
import Testing

/// Holds the dependency rule of docs/ARCHITECTURE.md: no folder of LedgerKit
/// uses a type declared in a folder above it. The order of the folders is read
/// from that page's `layers` block, so the rule is written in one place.
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func layers() throws -> [[String]] {
        let page = try String(contentsOf: root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        return try Layering.layers(fromArchitecturePage: page)
    }

    static func sources() throws -> [Layering.Source] {
        let kit = root.appendingPathComponent("Sources/LedgerKit")
        var sources: [Layering.Source] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: kit.path).sorted() {
            let url = kit.appendingPathComponent(folder)
            var isFolder: ObjCBool = false
            let files = FileManager.default
            guard files.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            for name in try files.contentsOfDirectory(atPath: url.path).sorted() where name.hasSuffix(".swift") {
                let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
                sources.append(Layering.Source(path: "Sources/LedgerKit/\(folder)/\(name)", folder: folder, text: text))
            }
        }
        return sources
    }

    /// Every upward use in the sources, found once for all the tests.
    static let found = Result { try Layering.violations(layers: layers(), sources: sources()) }

    static let folders: [String] = {
        let kit = root.appendingPathComponent("Sources/LedgerKit").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: kit)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }()

    @Test func everyFolderHasALayer() throws {
        let placed = Set(try Self.layers().joined())
        for folder in Self.folders {
            #expect(
                placed.contains(folder),
                "Sources/LedgerKit/\(folder) is missing from the layers block of docs/ARCHITECTURE.md")
        }
    }

    @Test(arguments: folders)
    func usesNoFolderAbove(folder: String) throws {
        let violations = try Self.found.get()
            .filter { $0.folder == folder }
        for violation in violations {
            Issue.record("\(violation)")
        }
    }

    // The checker itself, on planted sources: a test that cannot fail is a defect.

    @Test func findsAPlantedUpwardUse() throws {
        let sources = [
            Layering.Source(path: "Low/A.swift", folder: "Low", text: "struct A {\n    let b: B\n}\n"),
            Layering.Source(
                path: "High/B.swift", folder: "High",
                text: "/// Uses A, which is allowed.\nstruct B { let a: A }\n"),
        ]
        let found = Layering.violations(layers: [["Low"], ["High"]], sources: sources)
        #expect(found.map(\.description) == ["Low/A.swift:2: Low uses B, which High declares, a layer above it"])
    }

    @Test func commentsAndTextAreNotUses() {
        let text = """
            // B in a comment
            /* B in a block /* nested B */ comment */
            let a = "B in a string", b = #"B in a raw "string""#
            let c = \"\"\"
                B in a multi-line string
                \"\"\"
            let d = "\\(B.self) in an interpolation"
            """
        let sources = [
            Layering.Source(path: "Low/A.swift", folder: "Low", text: text),
            Layering.Source(path: "High/B.swift", folder: "High", text: "enum B {}\n"),
        ]
        let found = Layering.violations(layers: [["Low"], ["High"]], sources: sources)
        #expect(found.map(\.line) == [7])
    }

    @Test func privateAndNestedNamesAreNotDeclarations() {
        let sources = [
            Layering.Source(path: "Low/A.swift", folder: "Low", text: "struct A { let p: Helper; let s: A.Kind }\n"),
            Layering.Source(
                path: "High/B.swift", folder: "High",
                text: "private struct Helper {}\nstruct B {\n    enum Kind {}\n}\n"),
        ]
        #expect(Layering.violations(layers: [["Low"], ["High"]], sources: sources).isEmpty)
    }

    @Test func foldersOfOneLayerMayUseEachOther() throws {
        let page = "Text.\n\n```layers\nLow Other\nHigh\n```\n"
        let layers = try Layering.layers(fromArchitecturePage: page)
        #expect(layers == [["Low", "Other"], ["High"]])
        let sources = [
            Layering.Source(path: "Low/A.swift", folder: "Low", text: "struct A { let o: O }\n"),
            Layering.Source(path: "Other/O.swift", folder: "Other", text: "struct O { let a: A }\n"),
        ]
        #expect(Layering.violations(layers: layers, sources: sources).isEmpty)
    }
}

/// The checker: which type each folder declares, and where a folder names a
/// type of a folder in a higher layer.
enum Layering {
    struct Source {
        let path: String
        let folder: String
        let text: String
    }

    struct Violation: CustomStringConvertible {
        let path: String
        let line: Int
        let folder: String
        let type: String
        let declaredIn: String

        var description: String {
            "\(path):\(line): \(folder) uses \(type), which \(declaredIn) declares, a layer above it"
        }
    }

    struct LayersBlockMissing: Error, CustomStringConvertible {
        var description: String { "docs/ARCHITECTURE.md has no ```layers block" }
    }

    /// The folders of each layer, bottom first, from the page's ```layers
    /// block: one layer a line, its folders separated by spaces or commas.
    static func layers(fromArchitecturePage page: String) throws -> [[String]] {
        let lines = page.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "```layers" }) else {
            throw LayersBlockMissing()
        }
        var layers: [[String]] = []
        for line in lines[(start + 1)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { return layers }
            let folders = trimmed.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            if !folders.isEmpty { layers.append(folders) }
        }
        throw LayersBlockMissing()
    }

    /// Every use of a type declared in a folder of a higher layer, in file and line order.
    static func violations(layers: [[String]], sources: [Source]) -> [Violation] {
        var level: [String: Int] = [:]
        for (index, layer) in layers.enumerated() {
            for folder in layer { level[folder] = index }
        }
        let code = sources.map { stripped($0.text) }
        // Visible top-level types, by the folder that declares them; and every
        // name a folder declares at any depth, which its own code may mean.
        var declaredIn: [String: String] = [:]
        var ownNames: [String: Set<String>] = [:]
        for (source, text) in zip(sources, code) {
            for (name, topLevel, hidden) in declarations(in: text) {
                ownNames[source.folder, default: []].insert(name)
                if topLevel && !hidden && declaredIn[name] == nil { declaredIn[name] = source.folder }
            }
        }
        var found: [Violation] = []
        for (source, text) in zip(sources, code) {
            guard let user = level[source.folder] else { continue }
            for (number, line) in text.components(separatedBy: "\n").enumerated() {
                var reported: Set<String> = []
                for name in typeNames(in: line) where !(ownNames[source.folder]?.contains(name) ?? false) {
                    guard let folder = declaredIn[name], let used = level[folder], used > user,
                        reported.insert(name).inserted
                    else { continue }
                    found.append(
                        Violation(
                            path: source.path, line: number + 1, folder: source.folder, type: name,
                            declaredIn: folder))
                }
            }
        }
        return found
    }

    /// The declarations of `text` (already stripped): name, whether at top
    /// level, whether private or fileprivate.
    static func declarations(in text: String) -> [(String, Bool, Bool)] {
        let attributes = #"^\s*(?:@\w+(?:\([^)]*\))?\s+)*"#
        let modifiers = #"((?:(?:public|internal|private|fileprivate|final|indirect|open|package|nonisolated)\s+)*)"#
        let pattern = attributes + modifiers + #"(?:struct|enum|class|protocol|actor|typealias)\s+([A-Za-z_]\w*)"#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        var result: [(String, Bool, Bool)] = []
        var depth = 0
        for line in text.components(separatedBy: "\n") {
            let range = NSRange(line.startIndex..., in: line)
            if let match = expression.firstMatch(in: line, range: range),
                let modifiers = Range(match.range(at: 1), in: line), let name = Range(match.range(at: 2), in: line)
            {
                let hidden = line[modifiers].contains("private")
                result.append((String(line[name]), depth == 0, hidden))
            }
            for character in line {
                if character == "{" { depth += 1 } else if character == "}" { depth -= 1 }
            }
        }
        return result
    }

    /// The capitalised names of a line of code that are not a member (`.Name`).
    static func typeNames(in line: String) -> [String] {
        var names: [String] = []
        var current = ""
        var previous: Character = " "
        var afterDot = false
        for character in line + " " {
            if character.isLetter || character.isNumber || character == "_" {
                if current.isEmpty { afterDot = previous == "." }
                current.append(character)
            } else {
                if let first = current.first, first.isUppercase, !afterDot { names.append(current) }
                current = ""
            }
            previous = character
        }
        return names
    }

    /// `text` with comments and the text of string literals blanked out, line
    /// breaks kept; the code inside an interpolation stays.
    static func stripped(_ text: String) -> String {
        let characters = Array(text)
        var output: [Character] = []
        output.reserveCapacity(characters.count)
        // Each open string: its hash count, whether multi-line, and the paren
        // depth of the code around an interpolation opened in it.
        var strings: [(hashes: Int, multiLine: Bool)] = []
        var interpolationDepths: [Int] = []
        var parens = 0
        var index = 0
        func at(_ offset: Int) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        func starts(with literal: String) -> Bool {
            for (offset, character) in literal.enumerated() where at(offset) != character { return false }
            return true
        }
        func blank(_ count: Int) {
            for offset in 0..<count where index + offset < characters.count {
                output.append(characters[index + offset] == "\n" ? "\n" : " ")
            }
            index += count
        }
        while index < characters.count {
            let inString = strings.count > interpolationDepths.count
            if let open = strings.last, inString {
                let closing = (open.multiLine ? "\"\"\"" : "\"") + String(repeating: "#", count: open.hashes)
                let interpolation = "\\" + String(repeating: "#", count: open.hashes) + "("
                if characters[index] == "\\" && open.hashes == 0 && !starts(with: interpolation) {
                    blank(2)
                } else if starts(with: interpolation) {
                    blank(interpolation.count - 1)
                    output.append("(")
                    index += 1
                    parens += 1
                    interpolationDepths.append(parens)
                } else if starts(with: closing) {
                    blank(closing.count)
                    strings.removeLast()
                } else {
                    blank(1)
                }
                continue
            }
            if starts(with: "//") {
                while index < characters.count && characters[index] != "\n" { blank(1) }
            } else if starts(with: "/*") {
                var nesting = 0
                repeat {
                    if starts(with: "/*") {
                        nesting += 1
                        blank(2)
                    } else if starts(with: "*/") {
                        nesting -= 1
                        blank(2)
                    } else {
                        blank(1)
                    }
                } while nesting > 0 && index < characters.count
            } else if characters[index] == "#" || characters[index] == "\"" {
                var hashes = 0
                while at(hashes) == "#" { hashes += 1 }
                guard at(hashes) == "\"" else {
                    output.append(characters[index])
                    index += 1
                    continue
                }
                let multiLine = at(hashes + 1) == "\"" && at(hashes + 2) == "\""
                blank(hashes + (multiLine ? 3 : 1))
                strings.append((hashes, multiLine))
            } else {
                let character = characters[index]
                if character == "(" {
                    parens += 1
                } else if character == ")" {
                    if interpolationDepths.last == parens {
                        interpolationDepths.removeLast()
                        parens -= 1
                        output.append(")")
                        index += 1
                        continue
                    }
                    parens -= 1
                }
                output.append(character)
                index += 1
            }
        }
        return String(output)
    }
}
