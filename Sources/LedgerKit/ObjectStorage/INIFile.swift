import Foundation

/// The AWS CLI's configuration files: `[section]` lines, `key = value` lines,
/// `#` and `;` comments, and one level of nesting (`s3 =` followed by indented
/// `key = value` lines, read as `s3.key`).
enum INIFile {
    static func read(_ path: String) -> [String: [String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var section: String?
        var parent: String?
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let indented = raw.first == " " || raw.first == "\t"
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                parent = nil
                continue
            }
            guard let section, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if indented, let parent {
                sections[section, default: [:]][parent + "." + key] = value
            } else if value.isEmpty {
                parent = key
            } else {
                parent = nil
                sections[section, default: [:]][key] = value
            }
        }
        return sections
    }
}
